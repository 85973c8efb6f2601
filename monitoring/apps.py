from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Running as a fleet: the shared cache, health, metrics, structured logs, error reports.

    A bottom layer: it imports no domain app (it reads their tables through
    `django.apps.apps.get_model` at run time), so any app may call into it.
    """

    name = "monitoring"
    verbose_name = "Monitoring"
