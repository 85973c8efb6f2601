from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        # Registers the system checks and the order signals' receivers.
        from payments import checks, receivers  # noqa: F401
