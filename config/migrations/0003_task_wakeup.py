"""On PostgreSQL, every new task row wakes the idle task workers (`NOTIFY django_tasks`, sent
when the inserting transaction commits; several in one transaction arrive as one). The
workers LISTEN (`config/management/commands/db_worker.py`) instead of polling every second.
A trigger, not a NOTIFY from Python: the webhook's transaction pays no extra round trip."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION django_tasks_wakeup() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('django_tasks', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER django_tasks_wakeup
    AFTER INSERT ON django_tasks_database_dbtaskresult
    FOR EACH STATEMENT EXECUTE FUNCTION django_tasks_wakeup();
"""
DROP = """
DROP TRIGGER IF EXISTS django_tasks_wakeup ON django_tasks_database_dbtaskresult;
DROP FUNCTION IF EXISTS django_tasks_wakeup();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0002_ops_group_money_actions"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
