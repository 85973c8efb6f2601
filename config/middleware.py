import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)


def content_security_policy() -> str:
    # Forms post to this site and are redirected to Stripe Checkout or, with the
    # simulator, to the storefront's own URL (which may differ from the host in use).
    # Stone photos and videos come from the feeds' hosts (MEDIA_HOSTS).
    storefront = urlsplit(settings.STOREFRONT_URL)
    media = " ".join(getattr(settings, "MEDIA_HOSTS", ["https:"]))
    return "; ".join(
        [
            "default-src 'self'",
            f"img-src 'self' data: {media}".rstrip(),
            f"media-src 'self' {media}".rstrip(),
            "style-src 'self'",
            "script-src 'self'",
            f"form-action 'self' {storefront.scheme}://{storefront.netloc} "
            "https://checkout.stripe.com",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    """Sends a strict Content-Security-Policy on every storefront page.

    The admin ships inline scripts and styles, so it keeps Django's own headers only.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.headers.setdefault("Content-Security-Policy", content_security_policy())
        return response


class RequestInputMiddleware:
    """Every request's input read once, before any view, and refused when it cannot be handled.

    - The body is read once, at most `DATA_UPLOAD_MAX_MEMORY_SIZE` bytes, so a view may read it
      raw (`request.body`) even after the CSRF check parsed it as a form. A larger one is 413,
      in JSON (`{"error": …}`) when it was sent as JSON, and logged as a warning. (The store
      takes no file uploads, so a multipart body is held to the same limit.)
    - A form body that cannot be parsed (a broken multipart body, too many fields) is refused
      here (400), before a view or an error page trips over it.
    - A query string or form value or name holding U+0000 is 400: PostgreSQL can neither store
      nor compare such text, so it would fail deep inside a filter, a form or a lookup.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.body  # noqa: B018 (read and kept: request.POST is parsed from it)
        except RequestDataTooBig:
            return _too_large(request)
        for data in (request.GET, request.POST):
            if any(_has_nul(name) or any(map(_has_nul, values)) for name, values in data.lists()):
                raise BadRequest("U+0000 in a query string or form field.")
        return self.get_response(request)


def _has_nul(value: str) -> bool:
    return "\x00" in value


def _too_large(request) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    logger.warning(
        "Refused a request body over DATA_UPLOAD_MAX_MEMORY_SIZE (%s bytes): %s %s",
        limit,
        request.method,
        request.path,
    )
    message = f"The request body is larger than the {limit:,} bytes accepted."
    if request.content_type == "application/json":
        return JsonResponse(
            {"error": {"code": "payload_too_large", "message": message}}, status=413
        )
    return HttpResponse(message + "\n", status=413, content_type="text/plain")
