from django_tasks import task

from accounts import services


@task()
def password_reset_mail(user_id: int | None) -> bool:
    """The worker's half of a password reset. The web request queues this task whether or
    not the address has an account (`user_id` None), so both answer after the same work."""
    if user_id is None:
        return False
    return services.password_reset_mail_send(user_id=user_id)
