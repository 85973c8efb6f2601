from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    name = "benchmarks"
    label = "benchmarks"

    def ready(self):
        from benchmarks.feed import BenchFeed
        from feeds.base import register

        register(BenchFeed)
