from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self):
        # Connects the receivers that answer an account's deletion (accounts.signals).
        from orders import privacy  # noqa: F401
