from django_tasks import task

from notifications import delivery


@task()
def notification_deliver(notification_id: int) -> bool:
    """One delivery attempt; a failed one is queued again for when its backoff ends."""
    outcome = delivery.notification_deliver(notification_id=notification_id)
    if outcome.retry_at is not None and notification_deliver.get_backend().supports_defer:
        notification_deliver.using(run_after=outcome.retry_at).enqueue(
            notification_id=notification_id
        )
    return outcome.delivered
