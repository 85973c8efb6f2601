"""The price and carat indexes end with the id, so a catalog page's ids come from the index
alone. On PostgreSQL the new indexes are built, and the old ones dropped, CONCURRENTLY: the
catalog and its imports keep writing while they build (minutes at a million stones)."""

from django.contrib.postgres import operations as postgres
from django.db import migrations, models


class AddIndexConcurrently(postgres.AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; a plain CREATE INDEX elsewhere (SQLite)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class RemoveIndexConcurrently(postgres.RemoveIndexConcurrently):
    """DROP INDEX CONCURRENTLY on PostgreSQL; a plain DROP INDEX elsewhere (SQLite)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.RemoveIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.RemoveIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


FILTERS = ["lab_grown", "shape", "color", "clarity", "cut", "lab"]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0007_shipping_and_returns_pages"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="diamond",
            index=models.Index(
                condition=models.Q(("availability", "available")),
                fields=["price_model_nzd", "carats", *FILTERS, "id"],
                name="diamond_avail_price_page",
            ),
        ),
        AddIndexConcurrently(
            model_name="diamond",
            index=models.Index(
                condition=models.Q(("availability", "available")),
                fields=["carats", "price_model_nzd", *FILTERS, "id"],
                name="diamond_avail_carats_page",
            ),
        ),
        RemoveIndexConcurrently(model_name="diamond", name="diamond_avail_price_filters"),
        RemoveIndexConcurrently(model_name="diamond", name="diamond_avail_carats_filters"),
    ]
