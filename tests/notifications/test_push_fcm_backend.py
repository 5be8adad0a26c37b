"""The fcm backend against the fake FCM, with the unmodified firebase-admin client."""

from __future__ import annotations

import pytest

from notifications.fcm import FCM_MAX_BATCH, FcmBackend, Outcome, PushMessage, get_backend


def message(device_id: int, token: str, **overrides) -> PushMessage:
    fields = {
        "device_id": device_id,
        "token": token,
        "platform": "android",
        "title": "Anna",
        "body": "Store opens at 9 tomorrow",
        "data": {"type": "post.created", "post_id": "7"},
        "channel_id": "announcements",
        "collapse_key": "post-7",
        "badge": 3,
        "high_priority": True,
    }
    return PushMessage(**(fields | overrides))


@pytest.mark.parametrize("mode", ["pool", "send_each"])
def test_real_client_gets_a_token_and_sends_the_full_message_shape(fake_fcm, settings, mode):
    settings.PUSH_FCM_SEND_MODE = mode

    results = get_backend().send([message(1, "tok-a")])

    assert results[0].outcome == Outcome.SENT
    assert fake_fcm.token_requests == 1  # OAuth2 JWT-bearer step, signature verified by the fake
    [received] = fake_fcm.messages_for("tok-a")
    assert received.project == "fake-project"
    assert received.message == {
        "token": "tok-a",
        "notification": {"title": "Anna", "body": "Store opens at 9 tomorrow"},
        "data": {"type": "post.created", "post_id": "7"},
        "android": {
            "collapse_key": "post-7",
            "priority": "high",
            "ttl": "86400s",
            "notification": {"channel_id": "announcements", "tag": "post-7"},
        },
        "apns": {
            "headers": {"apns-collapse-id": "post-7", "apns-priority": "10"},
            "payload": {"aps": {"badge": 3, "sound": "default", "thread-id": "announcements"}},
        },
        "webpush": {"headers": {"Urgency": "high"}},
    }


def test_errors_are_classified_per_token(fake_fcm):
    fake_fcm.fail("gone", "UNREGISTERED")
    fake_fcm.fail("garbage", "INVALID_ARGUMENT")
    fake_fcm.fail("busy", "UNAVAILABLE")
    fake_fcm.fail("broken", "INTERNAL")
    fake_fcm.fail("quota", "QUOTA_EXCEEDED", retry_after=42)

    tokens = ["ok", "gone", "garbage", "busy", "broken", "quota"]
    results = get_backend().send([message(i, token) for i, token in enumerate(tokens)])

    outcomes = {tokens[r.device_id]: (r.outcome, r.retry_after) for r in results}
    assert outcomes == {
        "ok": (Outcome.SENT, None),
        "gone": (Outcome.DEAD, None),
        "garbage": (Outcome.DEAD, None),
        "busy": (Outcome.RETRY, None),
        "broken": (Outcome.RETRY, None),
        "quota": (Outcome.RETRY, 42.0),
    }
    # Our adapter does not let firebase-admin retry 500/503 inside the call (the task does, with backoff).
    assert [m.token for m in fake_fcm.received].count("busy") == 1


def test_a_call_takes_at_most_500_messages(fake_fcm):
    with pytest.raises(ValueError):
        get_backend().send([message(i, f"t{i}") for i in range(FCM_MAX_BATCH + 1)])


def test_the_sender_pool_is_fixed(fake_fcm, settings):
    import threading

    backend = get_backend()
    assert isinstance(backend, FcmBackend)
    backend.send([message(i, f"t{i}") for i in range(60)])
    senders = [t for t in threading.enumerate() if t.name.startswith("fcm-send")]
    assert 0 < len(senders) <= settings.PUSH_SENDER_POOL_SIZE
    assert len(fake_fcm.delivered) == 60


def test_pointed_at_the_fake_it_never_calls_google(fake_fcm, caplog):
    backend = get_backend()
    backend.send([message(1, "tok-a")])

    # google-auth would look up the service account's regional access boundary at
    # iamcredentials.googleapis.com after the token step.
    assert backend.app.credential.get_credential()._is_regional_access_boundary_lookup_required() is False
    assert "googleapis.com" not in caplog.text
