from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.admin import next_attempt_words
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


# ---------------------------------------------------------------- next attempt, in words


@pytest.mark.parametrize(
    ("status", "offset", "words"),
    [
        ("pending", timedelta(minutes=4, seconds=10), "in 4 minutes"),
        ("pending", timedelta(seconds=20), "in less than a minute"),
        ("pending", timedelta(hours=1), "in 1 hour"),
        ("pending", -timedelta(seconds=5), "due now"),
        ("pending", -timedelta(minutes=12), "due now (waiting 12 minutes)"),
        ("sent", timedelta(hours=1), "—"),
        ("logged", None, "—"),
    ],
)
def test_next_attempt_in_words(status, offset, words):
    now = timezone.now()
    note = Notification(status=status, next_attempt_at=None if offset is None else now + offset)
    assert next_attempt_words(note, now) == words


@pytest.mark.django_db
def test_a_delivered_message_shows_its_attempts_and_no_next_attempt(client, staff):
    client.force_login(staff)
    note = Notification.objects.create(
        category=Category.ORDER_COMPLETED,
        channel="#ops",
        title="Order confirmed",
        text="Line one\nline two",
        fields=[{"title": "Order", "value": "DO-1"}],
        status=Notification.DeliveryStatus.SENT,
        attempts=2,
        last_error="",
        next_attempt_at=None,
        sent_at=timezone.now(),
    )
    html = client.get(reverse("admin:notifications_notification_change", args=[note.pk]))
    html = html.content.decode()
    assert '<div class="readonly">2</div>' in html
    assert "in 1 hour" not in html
    assert '<pre class="timeline-message">Line one\nline two</pre>' in html
    assert "<dt>Order</dt><dd>DO-1</dd>" in html
    assert "&quot;title&quot;: &quot;Order confirmed&quot;" in html  # the Slack attachment


@pytest.mark.django_db
def test_a_message_being_retried_says_when_and_why(client, staff):
    client.force_login(staff)
    Notification.objects.create(
        category=Category.ORDER_FEED_FAILURE,
        channel="#errors",
        title="Feed order failed",
        attempts=3,
        last_error="ratelimited",
        next_attempt_at=timezone.now() + timedelta(minutes=4, seconds=30),
    )
    html = client.get(reverse("admin:notifications_notification_changelist")).content.decode()
    assert ">in 4 minutes</time>" in html
    assert "ratelimited" in html and ">3<" in html
