"""The Ops group: exactly what order triage needs, and nothing that edits users or groups.

Permissions are normally created after migrations (post_migrate); they are created here
first so the group can hold them on a fresh database.
"""

from django.db import migrations

from config.migrations._ops_permissions import add_permissions

GROUP = "Ops"
# (app label, codename): see the orders, payments, notifications and catalog admins.
PERMISSIONS = [
    ("orders", "view_order"),
    ("orders", "view_orderevent"),
    ("orders", "retry_feed_order"),
    ("orders", "refund_order"),
    ("orders", "resolve_order"),
    ("payments", "view_webhookevent"),
    ("payments", "process_webhookevent"),
    ("notifications", "view_notification"),
    ("catalog", "view_diamond"),
    # Withdraw a stone from sale; every other field of a diamond is the feed's, read-only.
    ("catalog", "change_diamond"),
]



def create_group(apps, schema_editor):
    add_permissions(apps, GROUP, PERMISSIONS)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0002_diamond_indexes_price_carats"),
        ("notifications", "0002_generic_outbox"),
        ("orders", "0002_state_machine"),
        ("payments", "0002_webhookevent_process_permission"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
