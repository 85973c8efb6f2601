from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database with pg_dump (custom format) into BACKUP_DIR, then remove the "
        "backups older than BACKUP_KEEP_DAYS. Exits non-zero, saying why, when anything fails."
    )
    # A backup must not wait for an unrelated setting to be fixed (a Stripe key, say).
    requires_system_checks = []

    def handle(self, *args, **options):
        try:
            backup = backup_create(
                directory=Path(settings.BACKUP_DIR), keep_days=settings.BACKUP_KEEP_DAYS
            )
        except BackupError as exc:
            raise CommandError(f"Backup failed: {exc}") from exc
        for path in backup.removed:
            self.stdout.write(f"Removed {path.name} (older than {settings.BACKUP_KEEP_DAYS} days).")
        self.stdout.write(
            self.style.SUCCESS(f"Backup written: {backup.path} ({backup.size:,} bytes).")
        )
