from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self):
        # The system checks; the figures for /metrics; the receivers that answer an
        # account's deletion (accounts.signals).
        from orders import checks, figures, privacy  # noqa: F401

        figures.figures_register()
