from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from monitoring.health import FAIL, health_report
from monitoring.metrics import metrics_authorized


@never_cache
@require_safe
def healthz(request):
    """200 when the database answers; `?deep=1` (readiness) names every part, 503 on a failure
    of a required one (the cache is not required by default: the store works without it).
    The deep answer tells how the store runs, so it needs the metrics token (`Authorization:
    Bearer <METRICS_TOKEN>`); without it, `?deep=1` gets the plain answer."""
    if request.GET.get("deep") and metrics_authorized(request.headers.get("Authorization", "")):
        report = health_report(deep=True).as_dict()
        return JsonResponse(report, status=503 if report["status"] == FAIL else 200)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": str(exc)}, status=503)
    return JsonResponse({"status": "ok"})


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: the store's icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
