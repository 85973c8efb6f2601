"""An email's attachments live in the outbox with it: delivered as they were stored, the same
bytes after a mail outage, and shown to ops in the admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.delivery import notifications_deliver_due
from notifications.models import Attachment, Notification
from notifications.outbox import EmailAttachment, email_message_create

# Real commits: delivery is queued once the message is stored.
pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENT = b"%PDF-1.7\n" + bytes(range(256)) * 40  # any bytes, binary included


def write_email():
    return email_message_create(
        to="aroha@example.com",
        subject="Your order is confirmed",
        text="Your tax invoice is attached.",
        dedupe_key="test-email-with-attachment",
        attachments=[EmailAttachment("tax-invoice-DO-1.pdf", DOCUMENT, "application/pdf")],
    )


def test_the_attachment_goes_out_with_the_email(smtp_server):
    notification = write_email()

    (message,) = smtp_server.wait_for(1)
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "tax-invoice-DO-1.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == DOCUMENT
    notification.refresh_from_db()
    assert notification.status == Notification.DeliveryStatus.SENT


def test_after_a_mail_outage_the_same_bytes_arrive(smtp_server):
    smtp_server.refuse()
    notification = write_email()
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("pending", 1)

    smtp_server.refuse(False)
    Notification.objects.filter(pk=notification.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert notifications_deliver_due() == 1

    (message,) = smtp_server.messages
    (attachment,) = message.iter_attachments()
    assert attachment.get_content() == DOCUMENT


def test_a_repeated_email_stores_no_second_attachment(smtp_server):
    assert write_email() is not None
    assert write_email() is None

    assert Attachment.objects.count() == 1


def test_ops_see_the_attachment_in_the_outbox(client, staff, smtp_server):
    notification = write_email()
    client.force_login(staff)

    change = reverse("admin:notifications_notification_change", args=[notification.pk])
    html = client.get(change).content.decode()

    assert "tax-invoice-DO-1.pdf (application/pdf, 10 KB)" in html


def test_ops_read_the_email_rendered_in_a_sandboxed_frame(client, staff, smtp_server):
    notification = email_message_create(
        to="aroha@example.com",
        subject="Your order is confirmed",
        text="Kia ora Aroha",
        html='<p style="color:#123">Kia ora <b>Aroha</b> &amp; <script>alert(1)</script></p>',
    )
    client.force_login(staff)
    change = reverse("admin:notifications_notification_change", args=[notification.pk])
    html = client.get(change).content.decode()

    frame = html[html.index('<iframe class="email-preview"') :]
    frame = frame[: frame.index("</iframe>")]
    assert 'sandbox=""' in frame  # no scripts, forms or admin access inside it
    assert 'srcdoc="&lt;p style=&quot;color:#123&quot;&gt;Kia ora &lt;b&gt;Aroha' in frame
    assert "<script>" not in frame
