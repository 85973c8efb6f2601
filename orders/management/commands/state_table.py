from django.core.management.base import BaseCommand

from catalog import availability
from orders import states


class Command(BaseCommand):
    help = (
        "Print the order's state table (or, with --diamond, the diamond's availability table) "
        "in Markdown, as docs/ARCHITECTURE.md shows it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--diamond", action="store_true", help="the availability table")

    def handle(self, *args, diamond=False, **options):
        table = availability.table_markdown() if diamond else states.table_markdown()
        self.stdout.write(table, ending="")
