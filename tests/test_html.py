"""Every page the store renders is valid HTML, by the Nu HTML Checker (the W3C's validator).

No browser: Django's test client renders, on a database holding an order in every legal state,
every shop page (each route of the URL resolver outside the admin, with each real value for its
parameters) and every admin page the project adds or overrides (the dashboard, the changelist
and change page of each model the project's own admin classes show, each order's action
confirmations and the bulk actions' pages) — as an anonymous visitor, a shopper and an Ops
member. All of them go to `vnu.jar` (npm's `vnu-jar`, installed from `package.json` by
`make browser`) in one run of the machine's Java: no error on any page.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from itertools import product
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.html import html_datetime
from orders.admin.actions import order_actions_for
from orders.admin.orders import OrderAdmin
from tests.routes import ROUTES, Store, populated_store

pytestmark = pytest.mark.django_db

VNU_JAR = Path(settings.BASE_DIR) / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def _java_and_checker() -> list[str]:
    """The checker's command line; skipped (with the reason) where Java or the checker is
    missing, except in CI (CI=true), where that fails instead."""
    java = shutil.which("java")
    missing = (
        "Java (apt-get install default-jre-headless)"
        if java is None
        else f"{VNU_JAR} (make browser)"
        if not VNU_JAR.exists()
        else None
    )
    if missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true but the HTML checker cannot run: {missing} is missing")
        pytest.skip(f"the Nu HTML Checker needs {missing}")
    return [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json"]


def _project_app(module: str) -> bool:
    label = module.split(".")[0]
    return any(
        config.name == label and "site-packages" not in config.path
        for config in apps.get_app_configs()
    )


# ---------------------------------------------------------------- the pages


def shop_paths(store: Store) -> list[str]:
    """Every route outside the admin, with every combination of its real parameter values,
    and the pages that are reached with a query string."""
    paths = []
    for route in ROUTES:
        if route.pattern.startswith("admin/") or route.pattern in ("healthz", "metrics"):
            continue
        names = route.parameters
        for values in product(*(store.values(route, name) for name in names)):
            paths.append(
                route.fill({n: quote(v, safe="/") for n, v in zip(names, values, strict=True)})
            )
    orders = store.orders
    return [
        *paths,
        *(f"/checkout/success/?order={o.order_number}&session_id=x" for o in orders),
        "/?origin=lab_grown&shape=ROUND&carat_min=0.5&price_max=abc&view=list",  # and an error
        "/?page=99",
        "/compare/",  # with stones in the comparison: see `rendered`
    ]


def admin_paths(store: Store) -> list[str]:
    """The dashboard, and the changelist and each change page of every model the project's own
    admin classes show (Django's own pages carry the project's `admin/base_site.html` too, but
    their HTML is Django's)."""
    paths = [reverse("admin:index"), reverse("admin:login")]
    for model, model_admin in admin.site._registry.items():
        if not _project_app(type(model_admin).__module__):
            continue
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        paths.append(reverse(f"{prefix}_changelist"))
        for pk in model._default_manager.values_list("pk", flat=True)[:60]:
            paths.append(reverse(f"{prefix}_change", args=[pk]))
    paths.append(reverse("admin:orders_order_changelist") + "?needs_attention=any")
    return paths


def admin_posts(store: Store) -> list[tuple[str, dict]]:
    """The confirmation page of every action each order offers, and the bulk actions' pages."""
    now = timezone.now()
    posts = [
        (reverse("admin:orders_order_action", args=[order.pk, action.name]), {})
        for order in store.orders
        for action in order_actions_for(user=store.ops, order=order, now=now)
    ]
    changelist = reverse("admin:orders_order_changelist")
    selected = [str(order.pk) for order in store.orders]
    posts += [
        (changelist, {"action": action, ACTION_CHECKBOX_NAME: selected})
        for action in OrderAdmin.actions
    ]
    return posts


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def rendered(store: Store) -> dict[str, bytes]:
    """Every page's HTML, by who asked for it and how."""
    clients = {
        "anonymous": _client(),
        "shopper": _client(store.shopper),
        "ops": _client(store.ops),
    }
    for client in clients.values():  # a comparison to show
        for order in store.orders[:3]:
            client.post("/compare/add/", {"diamond": str(order.diamond_id)})
    pages = {}

    def keep(label, response):
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            pages[label] = response.content

    for role, client in clients.items():
        for path in shop_paths(store):
            keep(f"{role} GET {path}", client.get(path))
    ops = clients["ops"]
    for path in admin_paths(store):
        keep(f"ops GET {path}", ops.get(path))
    for path, data in admin_posts(store):
        keep(f"ops POST {path} {data.get('action', '')}", ops.post(path, data))
    keep("anonymous GET /admin/login/", clients["anonymous"].get(reverse("admin:login")))
    # Forms with their errors.
    anonymous = clients["anonymous"]
    keep(
        "anonymous POST /accounts/login/ (wrong password)",
        anonymous.post("/accounts/login/", {"username": "nobody", "password": "wrong"}),
    )
    keep(
        "anonymous POST /accounts/signup/ (invalid)",
        anonymous.post("/accounts/signup/", {"username": "", "email": "not-an-address"}),
    )
    return pages


# ---------------------------------------------------------------- the check


def test_every_page_is_valid_html(ops_group, stripe_api, tmp_path):
    command = _java_and_checker()
    store = populated_store(ops_group=ops_group)
    pages = rendered(store)
    # Enough pages that a broken discovery cannot pass quietly: every order's own page, as
    # the shopper and in the admin, is among them.
    for order in store.orders[:-1]:
        assert f"shopper GET /account/orders/{order.order_number}/" in pages
        assert f"ops GET /admin/orders/order/{order.pk}/change/" in pages

    labels = {}
    for number, (label, html) in enumerate(sorted(pages.items())):
        path = tmp_path / f"page-{number:04d}.html"
        path.write_bytes(html)
        labels[path.name] = label
    result = subprocess.run(
        [*command, *sorted(str(tmp_path / name) for name in labels)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors = {}  # one line per distinct error, with the pages it is on
    for message in json.loads(result.stderr)["messages"]:
        if message["type"] == "error" or message.get("subType") == "fatal":
            text = f"{message['message']} — {message.get('extract', '').strip()}"
            errors.setdefault(text, []).append(
                labels.get(message.get("url", "").rsplit("/", 1)[-1])
            )
    assert not errors, f"HTML errors in {len(pages)} pages:\n" + "\n".join(
        f"- {text}\n  on {len(on)} page(s), e.g. {on[0]}" for text, on in errors.items()
    )


def test_html_datetime_is_to_the_second_in_local_time_with_its_offset(settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    moment = datetime(2026, 12, 3, 7, 51, 36, 85344, tzinfo=UTC)
    assert html_datetime(moment) == "2026-12-03T20:51:36+13:00"
    assert html_datetime(date(2026, 12, 3)) == "2026-12-03"
    assert html_datetime(None) == ""
