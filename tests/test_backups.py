"""Backups that restore: a database holding an order in every legal state, with its webhook
events, timeline, outbox messages and tasks, is dumped by the command the deploy's backup unit
runs, restored by `manage.py restore_database` into a fresh database, and compared table by
table, row by row (and sequence by sequence, constraint by constraint, index by index)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult
from psycopg import sql

from notifications.models import Category
from notifications.outbox import email_message_create, slack_message_create
from orders.states import LEGAL
from payments.webhooks import webhook_event_record
from tests.doubles.stripe import stripe_event
from tests.factories import OrderFactory, StaffFactory
from tests.test_deploy import unit

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump sees only what is committed

NEEDS_POSTGRES = (
    "backups are pg_dump's custom format of the production database, PostgreSQL; SQLite is the "
    "development database and the deploy does not back it up"
)


@pytest.fixture
def postgres(settings):
    if connection.vendor != "postgresql":
        pytest.skip(NEEDS_POSTGRES)
    settings.TASKS_BACKEND = "database"  # the outbox's deliveries are rows, as in production
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def database_url(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT'] or 5432}/{name}"


def manage(*args: str, database: str, **env: str) -> subprocess.CompletedProcess:
    """`manage.py …` as the deploy runs it: the project's settings, the environment file's
    DATABASE_URL (the test's database here)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url(database),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def the_backup_unit_command() -> list[str]:
    """What diamonds-backup.service runs, as arguments to manage.py."""
    python, script, *args = unit("diamonds-backup.service")["Service"]["ExecStart"].split()
    assert (python, script) == ("/srv/diamonds/.venv/bin/python", "manage.py")
    return args


def admin_connection(**kwargs) -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"],
        port=s["PORT"] or 5432,
        user=s["USER"],
        password=s["PASSWORD"] or None,
        **kwargs,
    )


@pytest.fixture
def fresh_database(postgres):
    name = f"{connection.settings_dict['NAME']}_restored"
    with admin_connection(dbname="postgres", autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with admin_connection(dbname="postgres", autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def snapshot(name: str) -> dict:
    """Everything a restore must bring back: every row of every table (as canonical JSON),
    every sequence's position, every constraint and index."""
    with admin_connection(dbname=name) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        rows = {
            table: [
                row[0]
                for row in db.execute(
                    sql.SQL("SELECT to_jsonb(t)::text FROM {} AS t ORDER BY 1").format(
                        sql.Identifier(table)
                    )
                )
            ]
            for table in tables
        }
        return {
            "rows": rows,
            "sequences": db.execute(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = 'public' ORDER BY 1"
            ).fetchall(),
            # A CHECK's expression is restored, but PostgreSQL prints a re-read one otherwise
            # (the test proves the order's legal-state check by using it).
            "constraints": db.execute(
                "SELECT conrelid::regclass::text, conname, contype, "
                "CASE contype WHEN 'c' THEN '' ELSE pg_get_constraintdef(oid) END "
                "FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
            ).fetchall(),
            "indexes": db.execute(  # the same goes for a partial index's condition
                "SELECT tablename, indexname, split_part(indexdef, ' WHERE ', 1), "
                "indexdef LIKE '% WHERE %' FROM pg_indexes "
                "WHERE schemaname = 'public' ORDER BY 1, 2"
            ).fetchall(),
        }


def a_store_with_an_order_in_every_state() -> None:
    staff = StaffFactory(first_name="Ngaio", last_name="Te Rangi")
    Client().force_login(staff)  # a session row
    for number, (status, payment, feed, fulfilment) in enumerate(sorted(LEGAL)):
        order = OrderFactory(
            status=status,
            payment_status=payment,
            feed_order_status=feed,
            fulfilment_status=fulfilment,
            shipping_name="Mārama O'Brien",
            shipping_address={"line1": "1 Ōtaki St", "city": "Whanganui", "country": "NZ"},
            feed_order_error="" if number % 3 else "Supplier said: «no» — try later\n\ttab",
            amount_cents=100 + number * 99_999_937,
        )
        order.events.create(kind="paid", message="A timeline line", data={"n": number})
        order.events.create(kind="resolved", actor=staff, data={"note": None, "nested": [1, {}]})
        webhook_event_record(
            event=stripe_event(
                "checkout.session.completed",
                {
                    "id": order.stripe_checkout_session_id,
                    "object": "checkout.session",
                    "metadata": {"order_number": order.order_number, "emoji": "💎"},
                    "amount_total": order.amount_cents,
                    "shipping_details": None,
                },
            )
        )
        slack_message_create(
            category=Category.ORDER_FEED_FAILURE,
            title=f"Feed order failed for {order.order_number}",
            text=order.feed_order_error,
            fields=[("Order", order.order_number)],
            reference=order.order_number,
        )
        email_message_create(
            to=order.user.email,
            subject="Payment received",
            text="Kia ora,\nthank you.",
            html="<p>Kia ora</p>",
            reference=order.order_number,
            dedupe_key=f"payment-received-{order.pk}",
        )
    running, succeeded, failed = DBTaskResult.objects.order_by("enqueued_at")[:3]
    running.claim("worker-1")
    succeeded.claim("worker-2")
    succeeded.set_successful(None)
    failed.claim("worker-2")
    failed.set_failed(RuntimeError("Slack answered 500"))


def test_a_backup_restores_every_row_of_every_table(fresh_database, tmp_path):
    a_store_with_an_order_in_every_state()
    source = connection.settings_dict["NAME"]
    before = snapshot(source)
    counts = {table: len(rows) for table, rows in before["rows"].items()}
    assert counts["orders_order"] == len(LEGAL)
    assert counts["orders_orderevent"] == 2 * len(LEGAL)
    assert counts["payments_webhookevent"] == len(LEGAL)
    assert counts["notifications_notification"] == 2 * len(LEGAL)
    assert counts["django_tasks_database_dbtaskresult"] >= 2 * len(LEGAL)
    assert counts["django_session"] == 1 and counts["django_migrations"] > 0

    backup = manage(*the_backup_unit_command(), database=source, BACKUP_DIR=str(tmp_path))
    assert backup.returncode == 0, backup.stderr
    (dump,) = tmp_path.iterdir()
    assert dump.name.startswith("diamonds-") and dump.name.endswith(".dump")
    assert dump.stat().st_mode & 0o777 == 0o600  # names, addresses, password hashes

    restore = manage("restore_database", str(dump), database=fresh_database)
    assert restore.returncode == 0, restore.stderr
    assert f"into {fresh_database}: {len(counts)} tables" in restore.stdout

    after = snapshot(fresh_database)
    assert after["rows"].keys() == before["rows"].keys()
    for table, rows in before["rows"].items():
        assert after["rows"][table] == rows, table
    assert after["sequences"] == before["sequences"]
    assert after["constraints"] == before["constraints"]
    assert after["indexes"] == before["indexes"]
    with (
        admin_connection(dbname=fresh_database) as restored,
        pytest.raises(psycopg.errors.CheckViolation, match="order_state_legal"),
    ):
        restored.execute("UPDATE orders_order SET status = 'confirmed', payment_status = 'pending'")


# ---------------------------------------------------------------- failures and retention


def backup_file(directory: Path, *, days_ago: float, suffix: str = ".dump") -> Path:
    made = datetime.now(UTC) - timedelta(days=days_ago)
    path = directory / f"diamonds-{made:%Y%m%dT%H%M%SZ}{suffix}"
    path.write_bytes(b"an earlier backup")
    return path


@pytest.mark.parametrize(
    ("database", "env", "reason"),
    [
        ("no_such_database", {}, "pg_dump failed (exit 1): pg_dump: error: connection to server"),
        (None, {"BACKUP_KEEP_DAYS": "0"}, "BACKUP_KEEP_DAYS is 0: keep backups at least a day."),
    ],
)
def test_a_failed_backup_exits_non_zero_saying_why_and_keeps_every_earlier_one(
    postgres, tmp_path, database, env, reason
):
    earlier = backup_file(tmp_path, days_ago=30)

    result = manage(
        *the_backup_unit_command(),
        database=database or connection.settings_dict["NAME"],
        BACKUP_DIR=str(tmp_path),
        **env,
    )

    assert result.returncode == 1
    assert f"Backup failed: {reason}" in result.stderr
    assert [path.name for path in tmp_path.iterdir()] == [earlier.name]


def test_a_good_backup_removes_only_this_stores_backups_past_the_keep_days(postgres, tmp_path):
    expired = backup_file(tmp_path, days_ago=14.1)
    interrupted = backup_file(tmp_path, days_ago=20, suffix=".dump.partial")
    kept = backup_file(tmp_path, days_ago=13.9)
    unrelated = tmp_path / "diamonds-notes.txt"
    unrelated.write_text("not a backup")

    result = manage(
        *the_backup_unit_command(),
        database=connection.settings_dict["NAME"],
        BACKUP_DIR=str(tmp_path),
        BACKUP_KEEP_DAYS="14",
    )

    assert result.returncode == 0, result.stderr
    assert f"Removed {expired.name} (older than 14 days)." in result.stdout
    remaining = {path.name for path in tmp_path.iterdir()}
    assert expired.name not in remaining and interrupted.name not in remaining
    assert {kept.name, unrelated.name} < remaining and len(remaining) == 3


def test_a_restore_never_writes_over_a_database_in_use(postgres, tmp_path):
    order = OrderFactory()
    source = connection.settings_dict["NAME"]
    assert (
        manage(*the_backup_unit_command(), database=source, BACKUP_DIR=str(tmp_path)).returncode
        == 0
    )
    (dump,) = tmp_path.iterdir()

    result = manage("restore_database", str(dump), database=source)

    assert result.returncode == 1
    assert f"Restore failed: The database {source} already has" in result.stderr
    assert type(order).objects.get() == order


def test_backups_refuse_a_sqlite_database_saying_so(tmp_path):
    result = manage(
        *the_backup_unit_command(),
        database="unused",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        BACKUP_DIR=str(tmp_path / "backups"),
    )

    assert result.returncode == 1
    assert "Backups need PostgreSQL (pg_dump); DATABASE_URL names sqlite." in result.stderr
