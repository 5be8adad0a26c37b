"""E-mail leaves from tasks after the commit, one record per message (issue #22, #25 item 6).

Invitations, CSV imports and password resets write an OutgoingEmail row in their transaction;
after the commit a task sends each, a failing message is retried alone with a back-off and
the rest go on; a 5,000-row import answers in seconds because it sends nothing itself.
"""

from __future__ import annotations

import smtplib
import time

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from accounts.models import EmailStatus, Invitation, OutgoingEmail
from accounts.services import mail as mail_service

FAILING = {"addresses": set(), "times": 0, "calls": 0}


class FlakySMTPBackend(LocmemBackend):
    """Refuses the addresses in FAILING["addresses"] FAILING["times"] times each (0: always)."""

    failures: dict[str, int] = {}

    def send_messages(self, messages):
        for message in messages:
            FAILING["calls"] += 1
            for address in message.to:
                if address in FAILING["addresses"]:
                    seen = self.failures.get(address, 0) + 1
                    self.failures[address] = seen
                    if not FAILING["times"] or seen <= FAILING["times"]:
                        raise smtplib.SMTPRecipientsRefused({address: (451, b"try later")})
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.accounts.test_outgoing_email.FlakySMTPBackend"
    FAILING.update(addresses=set(), times=0, calls=0)
    FlakySMTPBackend.failures = {}
    return FAILING


def _csv(rows: int, start: int = 0) -> SimpleUploadedFile:
    lines = ["email,name,role,groups"] + [f"person{n}@import.example,Person {n},employee," for n in range(start, start + rows)]
    return SimpleUploadedFile("staff.csv", "\n".join(lines).encode(), content_type="text/csv")


def test_an_invitation_is_mailed_only_after_commit_and_recorded(api, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(admin_user).post("/api/v1/invitations", {"email": "new@example.com", "name": "New"}, format="json")
    assert response.status_code == 201
    record = OutgoingEmail.objects.get()
    assert (record.status, record.attempts, record.to, record.kind) == (EmailStatus.QUEUED, 0, "new@example.com", "invitation")
    assert mail.outbox == [] and callbacks  # nothing sent inside the request's transaction
    for callback in callbacks:
        callback()
    record.refresh_from_db()
    assert (record.status, record.attempts) == (EmailStatus.SENT, 1) and record.sent_at
    assert response.json()["code"] in mail.outbox[0].body


def test_a_transient_smtp_failure_is_retried_and_then_sent(api, admin_user, flaky, django_capture_on_commit_callbacks):
    flaky.update(addresses={"flaky@example.com"}, times=2)
    with django_capture_on_commit_callbacks(execute=True):
        api(admin_user).post("/api/v1/invitations", {"email": "flaky@example.com", "name": "Flaky"}, format="json")
    record = OutgoingEmail.objects.get()
    assert (record.status, record.attempts, record.last_error) == (EmailStatus.SENT, 3, "")
    assert len(mail.outbox) == 1


def test_one_failing_address_does_not_stop_the_rest_of_an_import(api, admin_user, flaky, django_capture_on_commit_callbacks):
    flaky.update(addresses={"person3@import.example"}, times=0)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(admin_user).post("/api/v1/users/import", {"file": _csv(10)}, format="multipart")
    assert response.status_code == 200, response.content
    statuses = dict(OutgoingEmail.objects.values_list("to", "status"))
    assert statuses.pop("person3@import.example") == EmailStatus.FAILED
    assert set(statuses.values()) == {EmailStatus.SENT} and len(statuses) == 9
    failed = OutgoingEmail.objects.get(to="person3@import.example")
    assert failed.attempts == mail_service.MAX_ATTEMPTS and "SMTPRecipientsRefused" in failed.last_error
    assert sorted(message.to[0] for message in mail.outbox) == sorted(statuses)


def test_a_message_already_sent_is_never_sent_twice(api, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api(admin_user).post("/api/v1/invitations", {"email": "once@example.com", "name": "Once"}, format="json")
    record = OutgoingEmail.objects.get()
    # A redelivered task (a worker died after sending): the guarded claim finds nothing to do.
    assert mail_service.outgoing_email_send(email_id=record.pk, code="WHATEVER") == "gone"
    assert len(mail.outbox) == 1


def test_the_back_off_grows():
    delays = [mail_service.retry_delay(attempt).total_seconds() for attempt in range(1, 5)]
    assert delays == [30, 120, 480, 1920]


def test_a_5000_row_import_answers_in_seconds_and_every_message_is_sent_after(api, admin_user, django_capture_on_commit_callbacks):
    client = api(admin_user)
    client.get("/api/v1/me")  # the process's one-time build of the request contract is not the import's
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = time.perf_counter()
        response = client.post("/api/v1/users/import", {"file": _csv(5000)}, format="multipart")
        answered = time.perf_counter() - started
    assert response.status_code == 200, response.content[:300]
    assert response.json()["invited"] == 5000
    assert Invitation.objects.count() == 5000 and OutgoingEmail.objects.filter(status=EmailStatus.QUEUED).count() == 5000
    assert mail.outbox == []
    print(f"\n5,000-row import answered in {answered:.2f} s ({len(callbacks)} send tasks queued)")
    assert answered < 15, answered
    assert len(callbacks) == 25  # one send task per 200 messages
    started = time.perf_counter()
    callbacks[0]()  # one chunk is enough to see them go (the tests above cover failures)
    print(f"200 messages sent by one task in {time.perf_counter() - started:.2f} s (locmem backend)")
    assert len(mail.outbox) == 200
    assert OutgoingEmail.objects.filter(status=EmailStatus.SENT).count() == 200
