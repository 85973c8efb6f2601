"""Every route of the project, read from Django's URL resolver (the admin's included), and a
store to visit them in: orders in every legal state, their diamonds, a webhook event, an
alert, a shopper, someone else and an Ops member, with the real values for each URL parameter.

Shared by the fuzz test (`tests/reliability/test_fuzz_routes.py`) and the HTML check
(`tests/test_html.py`), so that a page added later is visited by both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.contrib.flatpages.models import FlatPage
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from notifications.models import Notification
from orders.admin.actions import ACTIONS_BY_NAME
from orders.models import Order
from payments.models import WebhookEvent
from tests.doubles.stripe import stripe_event
from tests.factories import (
    DiamondFactory,
    OrderFactory,
    StaffFactory,
    UserFactory,
    orders_in_every_state,
)


@dataclass(frozen=True)
class Route:
    pattern: str  # the full pattern, e.g. "admin/orders/order/<path:object_id>/change/"
    name: str

    @property
    def model(self):
        """The model of an admin route (`admin/<app_label>/<model_name>/…`), if any."""
        match = re.match(r"admin/(\w+)/(\w+)/", self.pattern)
        if match is None:
            return None
        try:
            return apps.get_model(*match.groups())
        except LookupError:
            return None

    @property
    def parameters(self) -> list[str]:
        return [m.group(2) for m in _PATH_PARAM.finditer(self.pattern)] + [
            name for name, _, _ in _regex_groups(self.pattern)
        ]

    def fill(self, values: dict[str, str]) -> str:
        """The path with each parameter replaced by its (already quoted) value."""
        path = _PATH_PARAM.sub(lambda m: values[m.group(2)], self.pattern)
        for name, start, end in reversed(list(_regex_groups(path))):
            path = path[:start] + values[name] + path[end:]
        return "/" + path.replace("^", "").replace("$", "")

    def __str__(self):
        return self.pattern or "/"


# `<converter:name>` in a path(), `(?P<name>…)` in a re_path()
_PATH_PARAM = re.compile(r"(?<!\?P)<(?:(\w+):)?(\w+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(\w+)>")


def _regex_groups(pattern: str):
    """(name, start, end) of each named group in a regex pattern, nesting respected."""
    for match in _REGEX_PARAM.finditer(pattern):
        depth, end = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(pattern[end], 0)
            end += 1
        yield match.group(1), match.start(), end


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield Route(prefix + str(entry.pattern), entry.name or "")


ROUTES = list(_walk(get_resolver().url_patterns))


@dataclass
class Store:
    shopper: object
    someone_else: object
    ops: object
    orders: list[Order]  # the shopper's, one in each legal state; then someone else's
    real: dict[str, list[str]] = field(default_factory=dict)  # URL parameter -> real values
    real_by_model: dict[type, list[str]] = field(default_factory=dict)  # admin object ids

    def values(self, route: Route, name: str) -> list[str]:
        """Real values for a route's parameter (an admin route's object ids are its model's)."""
        if name == "object_id" and self.real_by_model.get(route.model):
            return self.real_by_model[route.model]
        return self.real.get(name) or ["x"]


def populated_store(*, ops_group) -> Store:
    shopper, someone_else = UserFactory(), UserFactory()
    ops = StaffFactory(is_superuser=False)
    ops.groups.add(ops_group)
    orders = [*orders_in_every_state(user=shopper), OrderFactory(paid=True, user=someone_else)]
    for_sale = DiamondFactory()
    WebhookEvent.objects.create(
        stripe_event_id="evt_test_failed",
        type="checkout.session.completed",
        payload=stripe_event("checkout.session.completed", {"object": "checkout.session"}),
        processing_error="ValueError('not a checkout session')",
    )
    Notification.objects.create(
        category="ORDER_FEED_FAILURE", channel="#errors", title="Feed order failed", text="…"
    )
    real_by_model = {
        model: [str(pk) for pk in model._default_manager.values_list("pk", flat=True)]
        for model in {route.model for route in ROUTES} - {None}
    }
    real = {
        "pk": [str(for_sale.pk), *(str(order.diamond_id) for order in orders)],
        "order_number": [order.order_number for order in orders],
        "session_id": [order.stripe_checkout_session_id for order in orders],
        "uidb64": [urlsafe_base64_encode(force_bytes(shopper.pk))],
        "token": [default_token_generator.make_token(shopper), "set-password"],
        "id": [str(shopper.pk), str(ops.pk)],
        "object_id": [str(orders[0].pk), str(shopper.pk)],
        "content_type_id": [str(ContentType.objects.get_for_model(Order).pk)],
        "action": sorted(ACTIONS_BY_NAME),
        "url": [page.url.strip("/") + "/" for page in FlatPage.objects.all()],
        "app_label": sorted({m._meta.app_label for m in real_by_model}),
    }
    return Store(shopper, someone_else, ops, orders, real, real_by_model)
