"""A local stand-in for Firebase Cloud Messaging (HTTP v1), for tests and benchmarks.

Real HTTP on 127.0.0.1, so the unmodified firebase-admin client (and google-auth's
OAuth step) talks to it exactly as it would to Google:

    with FakeFCM() as fcm:
        credentials_path = fcm.write_service_account(tmp_path)   # token_uri → this server
        settings.FIREBASE_CREDENTIALS = credentials_path
        settings.FCM_ENDPOINT_OVERRIDE = fcm.url
        fcm.fail("token-1", "UNREGISTERED")
        ...
        fcm.messages_for("token-2")
"""

from tests.fakefcm.server import FakeFCM, ReceivedMessage

__all__ = ["FakeFCM", "ReceivedMessage"]
