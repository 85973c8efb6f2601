from django.conf import settings
from django.contrib.auth import login
from django.db import IntegrityError, connection, transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_safe

from accounts.forms import EMAIL_TAKEN, SignupForm
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


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password1", "password2")
@never_cache
def signup(request):
    """Create a shopper account, log it in, and carry on where the shopper was going."""
    if request.user.is_authenticated:
        return redirect(_next_url(request))
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:  # the same email signed up a moment ago (the unique index)
            form.add_error("email", EMAIL_TAKEN)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(_next_url(request))
    next_url = request.POST.get("next") or request.GET.get("next", "")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})
