from django.core.management.base import BaseCommand

from payments.reconciliation import payments_reconcile


class Command(BaseCommand):
    help = (
        "Ask Stripe about stale pending checkouts, re-run stalled feed orders, re-process "
        "failed webhook events and deliver overdue Slack alerts. Safe to run at any time."
    )

    def handle(self, *args, **options):
        changes = payments_reconcile()
        for line in changes:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Reconciled: {len(changes)} change(s)."))
