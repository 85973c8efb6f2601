from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Running as a fleet: the shared cache, health, metrics, structured logs, error reports.

    A low layer: it imports no domain app. The domain apps register their figures with it
    (`monitoring.figures`); it reads the task queue and the outbox itself.
    """

    name = "monitoring"
    verbose_name = "Monitoring"
