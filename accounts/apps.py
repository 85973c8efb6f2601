from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Shopper accounts on Django's own `auth.User`: sign-up, log-in throttling, and the
    database's guarantee that an email belongs to one account (whatever its case)."""

    name = "accounts"
    verbose_name = "Accounts"
