"""The project's production settings for the benchmarks, plus a benchmark-only URL module.

DEBUG is off, TASKS_BACKEND is `database` (the production setup: fulfilment enqueues the feed
order in the webhook's transaction and `manage.py db_worker` runs it). Only what a benchmark
cannot have is changed: its own database, local Stripe keys, the tax invoice's seller, and
quiet logging.
"""

import os

for name, value in {
    "DEBUG": "False",
    "SECRET_KEY": "benchmark-" + "k3y-" * 16,
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/diamonds_bench",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "STRIPE_SECRET_KEY": "sk_test_benchmark",
    "STRIPE_WEBHOOK_SECRET": "whsec_benchmark",
    "STRIPE_API_BASE": "http://127.0.0.1:9",
    "TASKS_BACKEND": "database",
    "SLACK_BOT_TOKEN": "",
    "LOG_LEVEL": "WARNING",
    "STORE_ADDRESS": "10 Example Street, Auckland 1010, New Zealand",
    "GST_NUMBER": "49-091-850",
}.items():
    os.environ.setdefault(name, value)

from config.settings import *  # noqa: E402, F403

ROOT_URLCONF = "benchmarks.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks.apps.BenchmarksConfig"]  # noqa: F405 (the bench feed)
# Templates render {% static %} without a collectstatic run; serving is not what is measured.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
