from django.utils.cache import patch_cache_control


class PrivatePagesMiddleware:
    """Every page answered to a logged-in person is theirs alone (their name in the header,
    their orders, their account): `Cache-Control: private, no-store`, so neither a shared
    cache (a proxy, a CDN) nor the browser's disk keeps it. The one place the rule lives;
    it runs after AuthenticationMiddleware, for every view.

    It asks only about a user the request already loaded (a page that shows anything of
    the shopper's reads `request.user`): a request that never looked, such as Stripe's
    webhook, costs no session lookup for it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "_cached_user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
