from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        # Registers the system checks, the order signals' receivers and those that answer an
        # account's deletion (accounts.signals).
        from payments import checks, privacy, receivers  # noqa: F401
