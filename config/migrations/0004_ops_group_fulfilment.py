"""The Ops group also receives, ships and delivers stones and handles returns."""

from django.db import migrations

from config.migrations import _ops_permissions

PERMISSIONS = [("orders", "fulfil_order")]


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
        ("config", "0003_task_wakeup"),
        ("orders", "0007_fulfilment"),
    ]

    operations = [migrations.RunPython(add, remove)]
