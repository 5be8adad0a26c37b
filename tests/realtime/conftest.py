import json

import pytest
from channels.testing import WebsocketCommunicator

from notifications import asyncapi


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories hash a password per user; Argon2 makes each one cost ~0.3 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def stream_contract():
    return asyncapi.FrameChecker()


@pytest.fixture(autouse=True)
def frames_match_the_contract(monkeypatch, stream_contract):
    """Every text frame a test receives from the stream is checked against the AsyncAPI document.

    The document (docs/asyncapi.json, generated from the event catalogue) is what the app's
    client is generated from: a frame it does not describe is a broken contract.
    """
    received = WebsocketCommunicator.receive_from
    checked: list[dict] = []

    async def receive_from(self, timeout=1):
        text = await received(self, timeout)
        frame = json.loads(text)
        problems = stream_contract.problems(frame)
        assert not problems, f"a frame the AsyncAPI document does not describe: {problems}\n{text}"
        checked.append(frame)
        return text

    monkeypatch.setattr(WebsocketCommunicator, "receive_from", receive_from)
    return checked
