"""The Ops group also captures held payments and cancels orders (void or refund)."""

from django.db import migrations

from config.migrations import _ops_permissions

PERMISSIONS = [("orders", "capture_payment"), ("orders", "cancel_order")]


def add(apps, schema_editor):
    _ops_permissions.add_permissions(apps, "Ops", PERMISSIONS)


def remove(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name="Ops").first()
    if group is not None:
        group.permissions.remove(
            *group.permissions.filter(
                content_type__app_label="orders",
                codename__in=[codename for _, codename in PERMISSIONS],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0001_ops_group"),
        ("orders", "0003_money_safety"),
    ]

    operations = [migrations.RunPython(add, remove)]
