import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# gunicorn does not run Django's system checks: refuse to serve a misconfigured store.
from config.checks import raise_on_errors  # noqa: E402

raise_on_errors()
