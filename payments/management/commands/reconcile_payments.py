import logging
import time

from django.core.management.base import BaseCommand

from payments.reconciliation import payments_reconcile

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Ask Stripe about checkouts past their expiry, re-run stalled feed orders, re-process "
        "failed webhook events and deliver overdue Slack alerts. Safe to run at any time; "
        "--every SECONDS keeps running it on that schedule (quiet unless something changes)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Run again every SECONDS until stopped, printing only the changes.",
        )

    def handle(self, *args, **options):
        every = options["every"]
        if every <= 0:
            changes = payments_reconcile()
            for line in changes:
                self.stdout.write(line)
            self.stdout.write(self.style.SUCCESS(f"Reconciled: {len(changes)} change(s)."))
            return
        while True:  # runs until the process is stopped
            try:
                for line in payments_reconcile():
                    self.stdout.write(f"Reconciliation: {line}")
            except Exception:  # one failed run (the database restarting) is not the last
                logger.exception("Reconciliation failed; trying again in %s s", every)
            time.sleep(every)
