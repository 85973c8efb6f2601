import pytest
from django.urls import reverse

from notifications.models import Category, Notification
from tests.factories import OrderFactory


@pytest.mark.django_db
def test_slack_outbox_is_listed_read_only(client, staff):
    client.force_login(staff)
    order = OrderFactory()
    note = Notification.objects.create(
        category=Category.ORDER_FEED_FAILURE,
        channel="#errors",
        title=f"Feed order failed for {order.order_number}",
        color="#dc3545",
        reference=order.order_number,
        attempts=3,
        last_error="ratelimited",
    )
    html = client.get(reverse("admin:notifications_notification_changelist")).content.decode()
    for text in ["#errors", "Feed order failed", "ratelimited", order.order_number, ">3<"]:
        assert text in html
    change = reverse("admin:notifications_notification_change", args=[note.pk])
    response = client.get(change)
    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    assert client.get(reverse("admin:notifications_notification_add")).status_code == 403
    delete = reverse("admin:notifications_notification_delete", args=[note.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
