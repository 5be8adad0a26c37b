from tests.notifications.conftest import _fast_password_hashing, fake_fcm, fake_fcm_server  # noqa: F401
