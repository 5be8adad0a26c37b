"""The client address: X-Forwarded-For is believed only from a trusted proxy (issue #25 item 2).

Before: with `--forwarded-allow-ips '*'` (then the documented deployment) or `NUM_PROXIES` set,
35 logins each with a new `X-Forwarded-For` were never throttled, and the audit log recorded
the address the client made up.
"""

from __future__ import annotations

import pytest

from moderation.models import AuditEntry
from server.api import throttling
from server.api.client_ip import client_ip_from
from tests.security.test_abuse_limits import login, set_rates


@pytest.fixture(autouse=True)
def _closed_breaker():
    throttling.reset_breaker()
    yield
    throttling.reset_breaker()


def trust(settings, proxies: list[str], num_proxies: int = 0) -> None:
    settings.TRUSTED_PROXIES = proxies
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "num_proxies", "expected"),
    [
        # No trusted proxy configured: the header is ignored, whatever NUM_PROXIES says.
        ("198.51.100.7", "203.0.113.9", [], 0, "198.51.100.7"),
        ("198.51.100.7", "203.0.113.9", [], 1, "198.51.100.7"),
        # A peer outside the allow-list: its header is ignored.
        ("198.51.100.7", "203.0.113.9", ["10.0.0.0/8"], 0, "198.51.100.7"),
        ("198.51.100.7", "203.0.113.9", ["10.0.0.0/8"], 1, "198.51.100.7"),
        # From the load balancer: the rightmost address that is not a trusted proxy.
        ("10.0.0.5", "203.0.113.9", ["10.0.0.0/8"], 0, "203.0.113.9"),
        ("10.0.0.5", "1.1.1.1, 203.0.113.9", ["10.0.0.0/8"], 0, "203.0.113.9"),  # a spoofed first hop is skipped
        ("10.0.0.5", "1.1.1.1, 203.0.113.9, 10.0.0.7", ["10.0.0.0/8"], 0, "203.0.113.9"),  # two proxies
        ("10.0.0.5", "1.1.1.1, 203.0.113.9, 10.0.0.7", ["10.0.0.0/8"], 2, "203.0.113.9"),  # counted
        ("10.0.0.5", "203.0.113.9", ["10.0.0.0/8"], 1, "203.0.113.9"),
        ("10.0.0.5", "203.0.113.9", ["10.0.0.5"], 3, "203.0.113.9"),  # fewer hops than proxies
        # Ports, brackets, IPv6, IPv4-mapped peers.
        ("10.0.0.5", "203.0.113.9:4711", ["10.0.0.0/8"], 0, "203.0.113.9"),
        ("10.0.0.5", "[2001:db8::1]:443", ["10.0.0.0/8"], 0, "2001:db8::1"),
        ("::ffff:10.0.0.5", "203.0.113.9", ["10.0.0.0/8"], 0, "203.0.113.9"),
        ("fd00::2", "2001:db8::9", ["fd00::/8"], 0, "2001:db8::9"),
        # Garbage in the header gives the nearest trusted hop, never an error.
        ("10.0.0.5", "not-an-address", ["10.0.0.0/8"], 0, "10.0.0.5"),
        ("10.0.0.5", "203.0.113.9, garbage", ["10.0.0.0/8"], 0, "10.0.0.5"),
        ("10.0.0.5", "garbage", ["10.0.0.0/8"], 1, "10.0.0.5"),
        ("10.0.0.5", "", ["10.0.0.0/8"], 0, "10.0.0.5"),
        ("10.0.0.5", "1.2.3.4\x00", ["10.0.0.0/8"], 0, "10.0.0.5"),
        ("10.0.0.5", "," * 5000 + "203.0.113.9", ["10.0.0.0/8"], 0, "203.0.113.9"),
        ("10.0.0.5", "10.0.0.6, 10.0.0.7", ["10.0.0.0/8"], 0, "10.0.0.6"),  # all trusted: the farthest
        ("not-a-peer", "203.0.113.9", ["10.0.0.0/8"], 0, None),
    ],
)
def test_client_ip_rules(settings, peer, forwarded, proxies, num_proxies, expected):
    trust(settings, proxies, num_proxies)
    assert client_ip_from({"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded}) == expected


def test_rotating_forwarded_header_from_an_untrusted_peer_is_throttled(db, api, settings):
    # The configuration the attack used: NUM_PROXIES set, and the app reachable directly.
    trust(settings, ["10.0.0.0/8"], num_proxies=1)
    codes = []
    for i in range(35):
        client = api()
        client.defaults["REMOTE_ADDR"] = "198.51.100.7"
        codes.append(
            client.post(
                "/api/v1/auth/login",
                {"email": f"nobody{i}@example.com", "password": "wrong"},
                format="json",
                HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
                HTTP_X_REAL_IP=f"192.0.2.{i}",
                HTTP_FORWARDED=f"for=192.0.2.{i}",
            ).status_code
        )
    assert codes == [401] * 30 + [429] * 5


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(db, api, settings):
    trust(settings, ["10.0.0.0/8"])
    set_rates(settings, login_ip="2/min")
    proxy = api()
    proxy.defaults["REMOTE_ADDR"] = "10.0.0.5"
    first = [login(proxy, "a@example.com").status_code for _ in range(3)]  # no header: the proxy itself
    assert first == [401, 401, 429]
    behind = [
        proxy.post(
            "/api/v1/auth/login", {"email": "a@example.com", "password": "x"}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.1"
        ).status_code
        for _ in range(3)
    ]
    assert behind == [401, 401, 429]


def test_the_audit_log_records_the_peer_not_a_spoofed_header(api, admin_user, employee, settings):
    trust(settings, ["10.0.0.0/8"], num_proxies=1)
    client = api(admin_user)
    client.defaults["REMOTE_ADDR"] = "198.51.100.7"
    response = client.patch(f"/api/v1/users/{employee.pk}", {"role": "leader"}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.66")
    assert response.status_code == 200
    assert AuditEntry.objects.get(action="user.updated").ip == "198.51.100.7"


def test_num_proxies_without_trusted_proxies_is_a_start_up_warning(settings):
    from server.checks import forwarded_header_needs_trusted_proxies

    trust(settings, [], num_proxies=1)
    assert [message.id for message in forwarded_header_needs_trusted_proxies()] == ["server.W004"]
    trust(settings, ["10.0.0.0/8"], num_proxies=1)
    assert forwarded_header_needs_trusted_proxies() == []
