from celery import shared_task
from django.conf import settings
from django.utils import timezone

from server.models import IdempotencyRecord


@shared_task(name="server.tasks.idempotency_records_prune_task", time_limit=300)
def idempotency_records_prune_task() -> int:
    """Forget Idempotency-Key answers after their 24-hour window."""
    cutoff = timezone.now() - settings.IDEMPOTENCY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    # And the login rate-limit windows counted in the database during a cache outage.
    from server.api.throttling import prune_database_counters

    return deleted + prune_database_counters()
