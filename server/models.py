from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an Idempotency-Key, replayed on retries."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress"
        DONE = "done"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")]


class ThrottleCounter(models.Model):
    """A login rate-limit window counted in PostgreSQL while the cache (Redis) is down.

    Only the login limits fall back here (server/api/throttling.py `hit(durable=True)`): the
    others fail open, but an outage must not lift the guard on password guessing. Rows live
    for one window; the hourly prune deletes expired ones."""

    key = models.CharField(max_length=200)
    window = models.BigIntegerField(help_text="The window's index (epoch seconds // window length).")
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("rate-limit counter")
        verbose_name_plural = _("rate-limit counters")
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="throttle_counter_unique_key_window")]
