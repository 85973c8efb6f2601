from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        # The system checks, figures for /metrics, and the receivers that answer an account's
        # deletion (accounts.signals).
        from payments import checks, figures, privacy  # noqa: F401

        figures.figures_register()
