"""The Ops group: exactly what order triage needs, and nothing that edits users or groups.

Permissions are normally created after migrations (post_migrate); they are created here
first so the group can hold them on a fresh database.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

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


def ensure_permissions(apps):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def add_permissions(apps, group_name, permissions):
    ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=group_name)
    for app_label, codename in permissions:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


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
