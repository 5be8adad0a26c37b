from celery import shared_task

from accounts import services


@shared_task(name="accounts.tasks.auth_tokens_purge_task", time_limit=300)
def auth_tokens_purge_task() -> int:
    """Delete expired device sessions (their push devices go with them)."""
    return services.tokens_purge_expired()
