from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from monitoring.metrics import metrics_authorized, metrics_render


@never_cache
@require_GET
def metrics(request):
    """Prometheus' scrape: 404 unless METRICS_TOKEN is set, then only with that bearer token."""
    if not settings.METRICS_TOKEN:
        raise Http404("Metrics are off.")
    if not metrics_authorized(request.headers.get("Authorization", "")):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_render(), content_type=CONTENT_TYPE_LATEST)
