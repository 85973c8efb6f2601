import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from payments.models import WebhookEvent
from tests.factories import StaffFactory

CHANGELIST = reverse("admin:payments_webhookevent_changelist")


def webhook_event(event_id, event_type="checkout.session.completed", **fields):
    payload = {"id": event_id, "type": event_type, "data": {"object": {"id": "cs_test_1"}}}
    return WebhookEvent.objects.create(
        stripe_event_id=event_id,
        type=event_type,
        checkout_session_id=fields.pop("checkout_session_id", "cs_test_1"),
        payload=payload,
        **fields,
    )


def rows(response):
    return [event.pk for event in response.context["cl"].result_list]


@pytest.fixture
def logged_in(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.django_db
def test_list_shows_the_event_log_with_an_error_flag(logged_in):
    ok = webhook_event("evt_test_ok", processed_at=timezone.now())
    broken = webhook_event(
        "evt_test_broken", "charge.refunded", processing_error="KeyError: 'charge'"
    )
    response = logged_in.get(CHANGELIST)
    html = response.content.decode()
    assert set(rows(response)) == {ok.pk, broken.pk}
    for text in ["evt_test_ok", "evt_test_broken", "charge.refunded", "cs_test_1"]:
        assert text in html
    assert 'alt="True"' in html and 'alt="False"' in html


@pytest.mark.django_db
def test_filters_by_type_processed_and_error(logged_in):
    done = webhook_event("evt_test_1", processed_at=timezone.now())
    waiting = webhook_event("evt_test_2", "checkout.session.expired")
    failed = webhook_event("evt_test_3", "charge.refunded", processing_error="boom")
    assert rows(logged_in.get(CHANGELIST, {"type": "checkout.session.expired"})) == [waiting.pk]
    assert rows(logged_in.get(CHANGELIST, {"processed": "yes"})) == [done.pk]
    assert set(rows(logged_in.get(CHANGELIST, {"processed": "no"}))) == {waiting.pk, failed.pk}
    assert rows(logged_in.get(CHANGELIST, {"error": "yes"})) == [failed.pk]
    assert set(rows(logged_in.get(CHANGELIST, {"error": "no"}))) == {done.pk, waiting.pk}


@pytest.mark.django_db
def test_search_by_event_id_type_and_session(logged_in):
    first = webhook_event("evt_test_alpha", checkout_session_id="cs_test_alpha")
    second = webhook_event("evt_test_beta", "charge.refunded", checkout_session_id="")
    assert rows(logged_in.get(CHANGELIST, {"q": "evt_test_alpha"})) == [first.pk]
    assert rows(logged_in.get(CHANGELIST, {"q": "charge.refunded"})) == [second.pk]
    assert rows(logged_in.get(CHANGELIST, {"q": "cs_test_alpha"})) == [first.pk]


@pytest.mark.django_db
def test_detail_pretty_prints_the_payload_and_nothing_can_be_edited(logged_in):
    event = webhook_event("evt_test_pretty", processing_error="<boom>")
    change = reverse("admin:payments_webhookevent_change", args=[event.pk])
    response = logged_in.get(change)
    html = response.content.decode()
    assert '<pre class="payload">{\n  &quot;data&quot;: {\n' in html
    assert "&lt;boom&gt;" in html
    assert response.context["adminform"].form.fields == {}
    assert 'name="_save"' not in html

    logged_in.post(change, {"type": "changed"})
    event.refresh_from_db()
    assert event.type == "checkout.session.completed"
    assert logged_in.get(reverse("admin:payments_webhookevent_add")).status_code == 403
    delete = reverse("admin:payments_webhookevent_delete", args=[event.pk])
    assert logged_in.post(delete, {"post": "yes"}).status_code == 403
    assert WebhookEvent.objects.filter(pk=event.pk).exists()


# ---------------------------------------------------------------- process again

BROKEN = {"id": "evt_test_broken", "type": "charge.refunded", "data": {"object": "not a charge"}}


def failed_event(event_id="evt_test_retry", event_type="some.event", obj=None):
    return WebhookEvent.objects.create(
        stripe_event_id=event_id,
        type=event_type,
        payload={"id": event_id, "type": event_type, "data": {"object": obj or {}}},
        processing_error="OperationalError('database is locked')",
    )


def process_again(client, event):
    url = reverse("admin:payments_webhookevent_process_again", args=[event.pk])
    return client.post(url, follow=True)


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_a_failed_event_offers_process_again_and_a_processed_one_does_not(logged_in):
    failed = failed_event()
    done = webhook_event("evt_test_done", processed_at=timezone.now())
    url = reverse("admin:payments_webhookevent_process_again", args=[failed.pk])
    failed_page = logged_in.get(reverse("admin:payments_webhookevent_change", args=[failed.pk]))
    assert f'action="{url}"' in failed_page.content.decode()
    assert "Process again</button>" in failed_page.content.decode()
    done_page = logged_in.get(reverse("admin:payments_webhookevent_change", args=[done.pk]))
    assert "Process again</button>" not in done_page.content.decode()


@pytest.mark.django_db
def test_process_again_reports_success_and_writes_the_history(logged_in, staff):
    event = failed_event()
    response = process_again(logged_in, event)
    event.refresh_from_db()
    assert event.processed_at is not None and event.processing_error == ""
    ((level, text),) = messages_of(response)
    assert level == "success" and text.startswith("Processed evt_test_retry: Retried: ")
    entry = LogEntry.objects.get(object_id=str(event.pk))
    assert entry.user == staff and entry.change_message == f"Process again: {text}"


@pytest.mark.django_db
def test_process_again_that_fails_again_is_a_warning(logged_in):
    event = WebhookEvent.objects.create(
        stripe_event_id=BROKEN["id"],
        type=BROKEN["type"],
        payload=BROKEN,
        processing_error="AttributeError('first time')",
    )
    response = process_again(logged_in, event)
    event.refresh_from_db()
    assert event.processing_error and event.processed_at is None
    ((level, text),) = messages_of(response)
    assert level == "warning"
    assert text.startswith("Processed evt_test_broken again, but it failed again: ")


@pytest.mark.django_db
def test_process_again_needs_its_own_permission(client):
    event = failed_event()
    user = StaffFactory(is_superuser=False)
    user.user_permissions.set(Permission.objects.filter(codename="view_webhookevent"))
    client.force_login(user)
    page = client.get(reverse("admin:payments_webhookevent_change", args=[event.pk]))
    assert "Process again</button>" not in page.content.decode()
    assert process_again(client, event).status_code == 403
    event.refresh_from_db()
    assert event.processed_at is None
