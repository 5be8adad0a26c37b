def test_fuzzer_regressions_ids_beyond_bigint_and_hhmm_times(api, employee):
    # Found by tests/fuzz: a 20-digit group id reached the database (500), and the
    # schema promised RFC 3339 times while the API answers "22:00".
    client = api(employee)
    response = client.patch("/api/v1/notification-preferences", {"muted_group_ids": [11541431721086695424]}, format="json")
    assert response.status_code == 400
    assert "muted_group_ids" in response.json()["error"]["fields"]
    response = client.patch("/api/v1/notification-preferences", {"quiet_hours": {"start": "22:00", "end": "06:30"}}, format="json")
    assert response.status_code == 200
    assert response.json()["quiet_hours"] == {"start": "22:00", "end": "06:30"}
    assert client.post("/api/v1/notifications/read", {"ids": [10000000000000000001]}, format="json").status_code == 400
