from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from config.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup written by backup_database into the database DATABASE_URL names, "
        "which must be new and empty (createdb), in one transaction."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the backup, e.g. diamonds-…Z.dump")

    def handle(self, *args, path, **options):
        try:
            tables, missing = backup_restore(path=path)
        except BackupError as exc:
            raise CommandError(f"Restore failed: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {path.name} into {connection.settings_dict['NAME']}: {tables} tables."
            )
        )
        if missing:
            self.stdout.write(
                self.style.WARNING(
                    f"The backup predates {missing} migration(s) of this code: run "
                    "`manage.py migrate` before starting the store on it."
                )
            )
