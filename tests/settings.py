"""The project's settings, with test defaults for what the environment does not say."""

import os

for name, value in {
    "SECRET_KEY": "test-only-secret-key",
    "SECURE_SSL_REDIRECT": "False",
    "SESSION_COOKIE_SECURE": "False",
    "CSRF_COOKIE_SECURE": "False",
    "STRIPE_SECRET_KEY": "sk_test_suite",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_suite",
    "STRIPE_API_BASE": "http://127.0.0.1:9",
    "SLACK_BOT_TOKEN": "",
    "NIVODA_ENDPOINT": "",
    "TASKS_BACKEND": "immediate",
    "DEMO_FEED_FAIL_ORDERS": "False",
    # Django's in-memory mail (pytest-django's `mailoutbox`; tests/smtp.py for a real server),
    # also in the worker processes some tests start: no mail leaves the machine.
    "EMAIL_URL": "memorymail://",
    # The seller on the tax invoice (the IRD's published example of a valid IRD number).
    "STORE_NAME": "Diamond Store Limited",
    "STORE_ADDRESS": "Level 2, 10 Example Street, Auckland 1010, New Zealand",
    "GST_NUMBER": "49-091-850",
}.items():
    os.environ.setdefault(name, value)

from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not the shared in-memory database: concurrent tests need SQLite's real
    # database lock (with its busy timeout), not shared-cache table locks.
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"diamond-store-test-{os.getpid()}.sqlite3")
    }

# Serve static files from the apps' folders (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
