from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ConfigConfig(AppConfig):
    name = "config"
    verbose_name = "Configuration"

    def ready(self):
        from config import checks  # noqa: F401  (registers the system checks)


class OpsAdminConfig(AdminConfig):
    default_site = "config.admin.OpsAdminSite"
