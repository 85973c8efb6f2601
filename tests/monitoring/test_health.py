"""Deep health (`/healthz?deep=1`, `check_health`) and the WORKER_STALLED alert."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications.models import Category, Notification
from notifications.tasks import notification_deliver

pytestmark = pytest.mark.django_db

PARTS = {"database", "cache", "task_queue", "outbox"}
TOKEN = "health-test-token"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    """The deep answer is given only with the metrics token."""
    settings.METRICS_TOKEN = TOKEN


@pytest.fixture
def database_tasks(settings):
    settings.TASKS_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def stale_task(*, seconds: int) -> DBTaskResult:
    """A task enqueued `seconds` ago that no worker has picked up."""
    notification_deliver.enqueue(notification_id=0)
    task = DBTaskResult.objects.get()
    DBTaskResult.objects.filter(pk=task.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=seconds)
    )
    return task


def stale_notification(*, seconds: int) -> Notification:
    return Notification.objects.create(
        category=Category.ORDER_COMPLETED,
        channel="#ops",
        title="Order DO-20260101-0001 confirmed",
        color="#28a745",
        created_at=timezone.now() - timedelta(seconds=seconds),
        next_attempt_at=timezone.now() + timedelta(hours=1),
    )


def deep(client, authorization=f"Bearer {TOKEN}"):
    response = client.get("/healthz", {"deep": "1"}, HTTP_AUTHORIZATION=authorization)
    return response.status_code, response.json()


@pytest.mark.parametrize("authorization", ["", "Bearer wrong-token", TOKEN, "Basic abc"])
def test_without_the_metrics_token_deep_health_is_the_plain_answer(client, authorization):
    """Queue depths and the outbox backlog are for ops, not for anyone who asks."""
    assert deep(client, authorization) == (200, {"status": "ok"})


def test_with_no_metrics_token_set_deep_health_is_the_plain_answer(client, settings):
    settings.METRICS_TOKEN = ""
    assert deep(client, "Bearer ") == (200, {"status": "ok"})


def test_deep_health_names_every_part_and_is_200_when_all_are_ok(client):
    status, body = deep(client)
    assert status == 200
    assert body["status"] == "ok"
    assert set(body["parts"]) == PARTS
    assert all(p["status"] == "ok" for p in body["parts"].values())
    assert body["parts"]["task_queue"]["facts"]["max_age_seconds"] == 300
    assert body["parts"]["outbox"]["facts"]["max_age_seconds"] == 900


def test_a_task_waiting_past_its_threshold_fails_the_task_queue(client, settings, database_tasks):
    settings.HEALTH_TASK_QUEUE_MAX_AGE_SECONDS = 60
    stale_task(seconds=30)
    assert deep(client)[0] == 200

    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(seconds=120))
    status, body = deep(client)

    assert status == 503
    part = body["parts"]["task_queue"]
    assert part["status"] == "fail"
    assert part["facts"]["ready"] == 1
    assert part["facts"]["oldest_ready_age_seconds"] >= 120
    assert "db_worker" in part["detail"]


def test_a_deferred_task_counts_from_when_it_became_due(client, settings, database_tasks):
    settings.HEALTH_TASK_QUEUE_MAX_AGE_SECONDS = 60
    notification_deliver.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(
        notification_id=0
    )
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(days=1))
    assert deep(client)[0] == 200  # not due yet: nobody should have run it

    DBTaskResult.objects.update(run_after=timezone.now() - timedelta(seconds=90))
    status, body = deep(client)
    assert status == 503
    assert 90 <= body["parts"]["task_queue"]["facts"]["oldest_ready_age_seconds"] < 200


def test_an_old_undelivered_notification_fails_the_outbox(client, settings):
    settings.HEALTH_OUTBOX_MAX_AGE_SECONDS = 600
    stale_notification(seconds=500)
    assert deep(client)[0] == 200

    stale_notification(seconds=700)
    status, body = deep(client)
    assert status == 503
    assert body["parts"]["outbox"]["facts"]["pending"] == 2
    assert body["parts"]["outbox"]["status"] == "fail"


def test_a_cache_outage_is_degraded_not_unready_unless_the_cache_is_required(
    client, settings, cache_down
):
    status, body = deep(client)
    assert status == 200
    assert body["status"] == "degraded"
    assert body["parts"]["cache"]["status"] == "degraded"
    assert "Connection" in body["parts"]["cache"]["detail"]

    settings.HEALTH_CACHE_REQUIRED = True
    status, body = deep(client)
    assert status == 503
    assert body["parts"]["cache"]["status"] == "fail"


def test_the_shallow_healthz_does_not_look_at_the_queues(client, settings):
    settings.HEALTH_OUTBOX_MAX_AGE_SECONDS = 1
    stale_notification(seconds=60)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_check_health_prints_every_part_and_exits_non_zero_on_a_failure(settings):
    out = io.StringIO()
    call_command("check_health", stdout=out)
    for part in PARTS:
        assert part in out.getvalue()
    assert "Health: ok." in out.getvalue()

    settings.HEALTH_OUTBOX_MAX_AGE_SECONDS = 60
    stale_notification(seconds=120)
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"Health: fail \(outbox\)"):
        call_command("check_health", stdout=out)
    assert "outbox      FAIL" in out.getvalue()

    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check_health", "--json", stdout=out)
    assert json.loads(out.getvalue())["parts"]["outbox"]["status"] == "fail"


# ---------------------------------------------------------------- WORKER_STALLED


def reconcile() -> str:
    out = io.StringIO()
    call_command("reconcile_payments", stdout=out)
    return out.getvalue()


def test_a_stalled_worker_is_alerted_to_errors_once_not_every_run(
    settings, database_tasks, slack_api
):
    settings.HEALTH_TASK_QUEUE_MAX_AGE_SECONDS = 300
    stale_task(seconds=200)
    assert "WORKER_STALLED" not in reconcile()
    assert not Notification.objects.filter(category=Category.WORKER_STALLED).exists()

    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(seconds=400))
    first = reconcile()
    second = reconcile()

    assert "WORKER_STALLED alert raised" in first
    assert "WORKER_STALLED" not in second
    alert = Notification.objects.get(category=Category.WORKER_STALLED)
    assert alert.channel == settings.SLACK_CHANNEL_ERRORS
    assert alert.color == "#dc3545"
    assert "task_queue" in alert.title
    # The worker is what delivers alerts, and it is stalled: reconcile delivered this one.
    assert alert.status == Notification.DeliveryStatus.SENT
    assert [m["channel"] for m in slack_api.messages] == ["#errors"]
    assert "db_worker" in json.dumps(slack_api.messages[0])


def test_a_new_stall_after_recovery_is_alerted_again(settings, database_tasks):
    settings.HEALTH_TASK_QUEUE_MAX_AGE_SECONDS = 300
    stale_task(seconds=3600)
    reconcile()
    assert Notification.objects.filter(category=Category.WORKER_STALLED).count() == 1

    DBTaskResult.objects.all().delete()  # the worker caught up
    assert "WORKER_STALLED" not in reconcile()

    # Later the worker stops again: a task enqueued after the first alert waits too long.
    Notification.objects.filter(category=Category.WORKER_STALLED).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    stale_task(seconds=1800)
    assert "WORKER_STALLED alert raised" in reconcile()
    assert Notification.objects.filter(category=Category.WORKER_STALLED).count() == 2


def test_an_outbox_backing_up_is_a_stall_too(settings):
    settings.HEALTH_OUTBOX_MAX_AGE_SECONDS = 600
    stale_notification(seconds=900)
    assert "WORKER_STALLED alert raised" in reconcile()
    assert "WORKER_STALLED" not in reconcile()
    alert = Notification.objects.get(category=Category.WORKER_STALLED)
    assert "outbox" in alert.title
