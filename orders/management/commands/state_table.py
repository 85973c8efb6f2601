from django.core.management.base import BaseCommand

from orders.states import table_markdown


class Command(BaseCommand):
    help = "Print the order's state table (as docs/ARCHITECTURE.md shows it) in Markdown."

    def handle(self, *args, **options):
        self.stdout.write(table_markdown(), ending="")
