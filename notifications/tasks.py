from django_tasks import task

from notifications import services


@task()
def notification_deliver(notification_id: int) -> bool:
    return services.notification_deliver(notification_id=notification_id)
