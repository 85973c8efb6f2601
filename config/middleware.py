from urllib.parse import urlsplit

from django.conf import settings


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
