from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from monitoring.health import FAIL, health_report


@never_cache
@require_safe
def healthz(request):
    """200 when the database answers; `?deep=1` (readiness) names every part, 503 on a failure
    of a required one (the cache is not required by default: the store works without it)."""
    if request.GET.get("deep"):
        report = health_report(deep=True).as_dict()
        return JsonResponse(report, status=503 if report["status"] == FAIL else 200)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": str(exc)}, status=503)
    return JsonResponse({"status": "ok"})
