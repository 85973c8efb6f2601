from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Shopper accounts on Django's own `auth.User`: sign-up with a confirmed email, log-in
    by email or username, one log-in throttle, password reset through the outbox, the
    account page and its deletion, and the database's guarantee that an email belongs to one
    account (whatever its case)."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from accounts import checks  # noqa: F401  (registers the system checks)
