from django.conf import settings
from django.core import checks
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=False)
def check_secret_key(app_configs, **kwargs):
    if settings.SECRET_KEY_MISSING:
        return [
            Error(
                "SECRET_KEY is empty while DEBUG is off.",
                hint="Set SECRET_KEY in the environment (see .env.example).",
                id="config.E001",
            )
        ]
    return []


@register(Tags.security, deploy=False)
def check_secret_key_fallbacks(app_configs, **kwargs):
    """An empty fallback would accept anything signed with an empty key; one equal to the key
    means the rotation did not happen."""
    messages = []
    if "" in settings.SECRET_KEY_FALLBACKS:
        messages.append(
            Error(
                "SECRET_KEY_FALLBACKS has a blank entry: anything signed with an empty key "
                "would be accepted.",
                hint="List the earlier keys separated by single commas, or leave it empty.",
                id="config.E002",
            )
        )
    if settings.SECRET_KEY in settings.SECRET_KEY_FALLBACKS:
        messages.append(
            Warning(
                "SECRET_KEY is also listed in SECRET_KEY_FALLBACKS: the key was not changed.",
                hint="Set SECRET_KEY to the new key and keep only the old one in "
                "SECRET_KEY_FALLBACKS.",
                id="config.W002",
            )
        )
    return messages


@register(Tags.compatibility)
def check_tasks_backend(app_configs, **kwargs):
    if settings.TASKS_BACKEND == "immediate" and not settings.DEBUG:
        return [
            Warning(
                "TASKS_BACKEND is 'immediate': feed orders and Slack alerts run inside the "
                "web request that triggered them.",
                hint="Use TASKS_BACKEND=database and run `manage.py db_worker` in production.",
                id="config.W001",
            )
        ]
    return []


def raise_on_errors():
    """Run the system checks and stop with their messages if any is an error."""
    errors = [m for m in checks.run_checks() if m.is_serious() and not m.is_silenced()]
    if errors:
        raise ImproperlyConfigured(
            "The store is misconfigured:\n"
            + "\n".join(f"- {e.id}: {e.msg} {e.hint or ''}" for e in errors)
        )
