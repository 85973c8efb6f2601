import django.utils.timezone
from django.db import migrations, models


def copy_order_numbers(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    for notification in Notification.objects.filter(order__isnull=False).select_related("order"):
        notification.reference = notification.order.order_number or ""
        notification.save(update_fields=["reference"])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="reference",
            field=models.CharField(blank=True, db_index=True, max_length=100),
        ),
        migrations.RunPython(copy_order_numbers, migrations.RunPython.noop),
        migrations.RemoveField(model_name="notification", name="order"),
        migrations.AddField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[("slack", "Slack"), ("email", "Email")], default="slack", max_length=10
            ),
        ),
        migrations.AddField(
            model_name="notification", name="html", field=models.TextField(blank=True)
        ),
        migrations.AddField(
            model_name="notification",
            name="link",
            field=models.URLField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="notification",
            name="dedupe_key",
            field=models.CharField(blank=True, max_length=200, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="notification", name="channel", field=models.CharField(max_length=254)
        ),
        migrations.AlterField(
            model_name="notification",
            name="color",
            field=models.CharField(blank=True, max_length=7),
        ),
        migrations.AlterField(
            model_name="notification",
            name="category",
            field=models.CharField(
                choices=[
                    ("ORDER_FEED_FAILURE", "Feed order failed"),
                    ("ORDER_COMPLETED", "Order completed"),
                    ("ORDER_EMAIL", "Email to the customer"),
                ],
                max_length=40,
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="next_attempt_at",
            field=models.DateTimeField(
                blank=True, default=django.utils.timezone.now, null=True
            ),
        ),
    ]
