"""The project's URLs plus two baselines on the same server, through the same middleware:
`/bench/noop` reads the body and answers (no database), `/bench/two-commits` also makes the
webhook's irreducible database work — two committed transactions of one small INSERT each
(record the event, then apply it) — into `bench_write` (created by the webhook benchmark)."""

from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def noop(request):
    return JsonResponse({"ok": True, "bytes": len(request.body)})


@csrf_exempt
def two_commits(request):
    for _ in range(2):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_write (size) VALUES (%s)", [len(request.body)])
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/noop", noop),
    path("bench/two-commits", two_commits),
    path("", include("config.urls")),
]
