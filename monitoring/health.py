"""What ops and the load balancer need to know: is each part of the store working?

Parts: the database, the cache, the task queue (the age of the oldest task that is ready to
run and has not been picked up) and the notifications outbox (the age of the oldest message not
yet delivered). Each queue part has a threshold setting; past it, the part fails.

`/healthz?deep=1` answers this as JSON (503 when a required part fails), `manage.py
check_health` prints it, and `worker_stalled_alert` (called by `reconcile_payments`) raises a
`WORKER_STALLED` alert once per stall.

It reads only the task queue's and the outbox's own tables, never a domain app's.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import Min, Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from monitoring.cache import cache_ping
from notifications.models import Notification
from notifications.outbox import slack_message_create

OK, FAIL, DEGRADED = "ok", "fail", "degraded"


@dataclass
class Part:
    name: str
    status: str
    detail: str
    required: bool = True
    facts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass
class Report:
    parts: list[Part]

    @property
    def status(self) -> str:
        if any(not p.ok and p.required for p in self.parts):
            return FAIL
        if any(not p.ok for p in self.parts):
            return DEGRADED
        return OK

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "parts": {p.name: {k: v for k, v in asdict(p).items() if k != "name"} for p in self},
        }

    def __iter__(self):
        return iter(self.parts)


def _seconds(delta: timedelta) -> float:
    return round(max(delta.total_seconds(), 0.0), 1)


def _timed(check):
    def run(*args, **kwargs) -> Part:
        started = time.perf_counter()
        try:
            part = check(*args, **kwargs)
        except Exception as exc:  # any failure of a part is that part's answer
            part = Part(check.__name__.removeprefix("check_"), FAIL, f"{type(exc).__name__}: {exc}")
        part.facts["checked_in_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return part

    return run


@_timed
def check_database() -> Part:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Part("database", OK, f"{connection.vendor} answers")


@_timed
def check_cache() -> Part:
    """The cache is not required by default: without it pages are slower, nothing breaks."""
    required = settings.HEALTH_CACHE_REQUIRED
    cache = caches["default"]
    backend = type(cache).__name__
    try:
        cache_ping(cache)
    except Exception as exc:
        status = FAIL if required else DEGRADED
        return Part("cache", status, f"{backend}: {type(exc).__name__}: {exc}", required)
    return Part("cache", OK, f"{backend} answers", required)


def task_queue_oldest_ready(*, now: datetime) -> tuple[datetime | None, int]:
    """When the oldest ready task became runnable, and how many tasks are ready now."""
    ready = DBTaskResult.objects.filter(status="READY").filter(
        Q(run_after=get_date_max()) | Q(run_after__lte=now)
    )
    marks = ready.aggregate(
        enqueued=Min("enqueued_at", filter=Q(run_after=get_date_max())),
        deferred=Min("run_after", filter=~Q(run_after=get_date_max())),
    )
    since = min((m for m in marks.values() if m is not None), default=None)
    return since, ready.count()


@_timed
def check_task_queue(*, now: datetime | None = None) -> Part:
    now = now or timezone.now()
    limit = settings.HEALTH_TASK_QUEUE_MAX_AGE_SECONDS
    since, depth = task_queue_oldest_ready(now=now)
    age = _seconds(now - since) if since else 0.0
    facts = {"ready": depth, "oldest_ready_age_seconds": age, "max_age_seconds": limit}
    if age > limit:
        detail = (
            f"{depth} task(s) waiting; the oldest has waited {age:.0f}s (limit {limit}s): "
            "is `manage.py db_worker` running?"
        )
        return Part("task_queue", FAIL, detail, facts=facts)
    return Part("task_queue", OK, f"{depth} task(s) waiting", facts=facts)


def outbox_oldest_pending(*, now: datetime) -> tuple[datetime | None, int]:
    pending = Notification.objects.filter(status="pending")
    return pending.aggregate(oldest=Min("created_at"))["oldest"], pending.count()


@_timed
def check_outbox(*, now: datetime | None = None) -> Part:
    now = now or timezone.now()
    limit = settings.HEALTH_OUTBOX_MAX_AGE_SECONDS
    oldest, backlog = outbox_oldest_pending(now=now)
    age = _seconds(now - oldest) if oldest else 0.0
    facts = {"pending": backlog, "oldest_pending_age_seconds": age, "max_age_seconds": limit}
    if age > limit:
        detail = (
            f"{backlog} notification(s) undelivered; the oldest for {age:.0f}s (limit {limit}s): "
            "the worker or the notification service (Slack, mail) is not keeping up"
        )
        return Part("outbox", FAIL, detail, facts=facts)
    return Part("outbox", OK, f"{backlog} notification(s) undelivered", facts=facts)


def health_report(*, deep: bool = True, now: datetime | None = None) -> Report:
    parts = [check_database()]
    if deep:
        now = now or timezone.now()
        parts += [check_cache(), check_task_queue(now=now), check_outbox(now=now)]
    return Report(parts)


# ---------------------------------------------------------------- the WORKER_STALLED alert

WORKER_STALLED = "WORKER_STALLED"


def _stall_started(*, now: datetime) -> datetime | None:
    """When the current stall began: the oldest stuck item's time, or None when none is."""
    starts = []
    since, _ = task_queue_oldest_ready(now=now)
    if since and _seconds(now - since) > settings.HEALTH_TASK_QUEUE_MAX_AGE_SECONDS:
        starts.append(since)
    oldest, _ = outbox_oldest_pending(now=now)
    if oldest and _seconds(now - oldest) > settings.HEALTH_OUTBOX_MAX_AGE_SECONDS:
        starts.append(oldest)
    return min(starts, default=None)


def worker_stalled_alert(*, now: datetime | None = None) -> list[str]:
    """Raise `WORKER_STALLED` when the task queue or the outbox is past its threshold — once
    per stall: an alert already created since the oldest stuck item appeared is that stall's.

    The "once" state is the alert itself (a row in the outbox, its `dedupe_key` naming the
    stall's start), so it holds across the separate processes of every `reconcile_payments`
    run, with or without a shared cache, and two runs at once cannot both send it.
    Returns the lines for reconcile's report.
    """
    now = now or timezone.now()
    started = _stall_started(now=now)
    if started is None:
        return []
    if Notification.objects.filter(category=WORKER_STALLED, created_at__gte=started).exists():
        return []
    parts = [check_task_queue(now=now), check_outbox(now=now)]
    failing = [p for p in parts if not p.ok]
    created = slack_message_create(
        category=WORKER_STALLED,
        title="Background work has stalled: " + ", ".join(p.name for p in failing),
        text="\n".join(p.detail for p in failing),
        fields=[
            ("Ready tasks", parts[0].facts.get("ready", "?")),
            ("Oldest ready task", f"{parts[0].facts.get('oldest_ready_age_seconds', '?')}s"),
            ("Undelivered notifications", parts[1].facts.get("pending", "?")),
            ("Oldest undelivered", f"{parts[1].facts.get('oldest_pending_age_seconds', '?')}s"),
            ("Check", "manage.py check_health; systemctl status 'diamonds-worker@*'"),
        ],
        dedupe_key=f"{WORKER_STALLED}:{started.isoformat()}",
    )
    if created is None:
        return []
    return [f"WORKER_STALLED alert raised: {'; '.join(p.detail for p in failing)}"]
