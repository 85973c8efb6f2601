from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        # The system checks register on import; figures once the models are loaded.
        from payments import checks, figures  # noqa: F401

        figures.figures_register()
