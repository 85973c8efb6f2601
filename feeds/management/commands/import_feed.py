from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from feeds.base import FeedError
from feeds.importing import FeedImportError, feed_import


class Command(BaseCommand):
    help = "Import a supplier feed into the catalog: a bulk upsert by (feed, supplier stone id)."

    def add_arguments(self, parser):
        parser.add_argument("feed", help="feed name, e.g. demo or nivoda")
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="stones per database batch (default 1000)"
        )
        parser.add_argument("--limit", type=int, default=None, help="import at most N records")
        parser.add_argument(
            "--withdraw-missing",
            action="store_true",
            help="after a complete import, make this feed's available or on-hold stones that "
            "the feed no longer lists unavailable (reserved and sold stones are kept)",
        )

    def handle(self, *args, feed, batch_size, limit, withdraw_missing, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if limit is not None and limit < 0:
            raise CommandError("--limit cannot be negative.")
        if withdraw_missing and limit is not None:
            raise CommandError("--withdraw-missing needs a complete import: drop --limit.")
        bar = tqdm(
            desc=f"Importing {feed}",
            unit=" stones",
            disable=not self.stdout.isatty(),
            file=self.stderr._out,  # the raw stream: OutputWrapper adds a newline per redraw
        )

        def on_progress(result, total_count):
            if total_count and bar.total != total_count:
                bar.total = total_count
            bar.update(result.processed - bar.n)

        try:
            result = feed_import(
                feed=feed,
                batch_size=batch_size,
                limit=limit,
                withdraw_missing=withdraw_missing,
                on_progress=on_progress,
            )
        except FeedImportError as exc:
            raise CommandError(
                f"Import from {feed} stopped: {exc.error} Kept so far: {exc.result.summary()}. "
                "The import is idempotent: fix the cause and run it again."
            ) from exc
        except FeedError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(self.style.SUCCESS(f"Imported {feed}: {result.summary()}."))
