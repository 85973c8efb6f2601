"""One account per email address, regardless of case, guaranteed by the database.

`auth.User` is Django's table, so the guarantee is a unique index on LOWER(email) added here
(PostgreSQL and SQLite both support expression and partial indexes). Accounts without an
email (e.g. made with `createsuperuser`) are left out of it.
"""

from django.db import migrations

INDEX = "accounts_user_email_ci_uniq"


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE UNIQUE INDEX {INDEX} ON auth_user (LOWER(email)) WHERE email <> ''",
            reverse_sql=f"DROP INDEX {INDEX}",
        )
    ]
