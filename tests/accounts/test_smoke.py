def test_me_with_token(api, employee):
    response = api(employee).get("/api/v1/me")
    assert response.status_code == 200, response.content
    assert response.json()["email"] == employee.email
    assert response.json()["organization"]["id"] == employee.organization_id


def test_me_without_token_is_401_envelope(api, db):
    response = api().get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
