"""The project's URLs plus `/bench/noop`: the baseline, a minimal Django view on the same
server, through the same middleware, reading the body like the webhook does."""

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def noop(request):
    return JsonResponse({"ok": True, "bytes": len(request.body)})


urlpatterns = [
    path("bench/noop", noop),
    path("", include("config.urls")),
]
