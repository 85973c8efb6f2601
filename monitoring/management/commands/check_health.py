import json

from django.core.management.base import BaseCommand, CommandError

from monitoring.health import OK, health_report


class Command(BaseCommand):
    help = (
        "Check the database, the cache, the task queue and the notifications outbox (the same "
        "facts as /healthz?deep=1). Exits non-zero when any part is not ok."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options):
        report = health_report(deep=True)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            for part in report:
                style = self.style.SUCCESS if part.ok else self.style.ERROR
                self.stdout.write(f"{part.name:<11} {style(part.status.upper()):<6} {part.detail}")
        if report.status != OK:
            failing = ", ".join(p.name for p in report if not p.ok)
            raise CommandError(f"Health: {report.status} ({failing}).")
        self.stdout.write(self.style.SUCCESS("Health: ok."))
