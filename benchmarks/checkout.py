"""Checkout create (`POST /api/v2/checkout/create`, logged in, CSRF token, through the proxy
headers) against gunicorn on PostgreSQL, with an instant Stripe API stand-in
(`benchmarks/doubles.py`) running in this process. Each request buys a
different available diamond of the synthetic `bench` feed (its live availability check answers
at once too); shoppers start at most 5 checkouts each (the rate limit is 10 per 10 minutes).

"Our overhead beyond the Stripe call": the checkout's p50 at concurrency 1, minus the p50 of
the same Checkout Session create call (same parameters, same SDK client) made on its own.

    .venv/bin/python -m benchmarks.checkout [--requests 500] [--levels 1,8,32]
"""

from __future__ import annotations

import argparse
import json
import secrets
from decimal import Decimal

from benchmarks import common

PER_SHOPPER = 5


def make_diamonds(count: int, *, offset: int):
    from benchmarks.feed import stone_row
    from catalog.models import Availability, Diamond

    rows = []
    for i in range(offset, offset + count):
        row = stone_row(i)
        row.update(availability=Availability.AVAILABLE, price_model_nzd=Decimal("12345.00"))
        rows.append(Diamond(feed="bench", **row))
    return Diamond.objects.bulk_create(rows, batch_size=2000)


def make_shoppers(count: int, *, offset: int) -> list[str]:
    """Logged-in sessions, made directly in the session store; returns their cookies."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    User = get_user_model()
    users = User.objects.bulk_create(
        [
            User(username=f"bench-checkout-{offset + i}", email=f"b{offset + i}@example.com")
            for i in range(count)
        ]
    )
    cookies = []
    for user in users:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append(session.session_key)
    return cookies


def checkout_requests(diamonds, sessions) -> list[tuple]:
    token = secrets.token_hex(16)  # a 32-character CSRF secret, as the cookie holds it
    out = []
    for i, diamond in enumerate(diamonds):
        headers = {
            "Content-Type": "application/json",
            "Cookie": f"sessionid={sessions[i // PER_SHOPPER]}; csrftoken={token}",
            "X-CSRFToken": token,
            "Origin": "https://127.0.0.1",
        }
        body = json.dumps({"diamond_id": str(diamond.pk)}).encode()
        out.append(("POST", "/api/v2/checkout/create", body, headers))
    return out


def stripe_call_p50(double, repeat=200) -> float:
    """The Checkout Session create call alone, as checkout makes it (ms, p50)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from orders.models import Order
    from payments.services import _stripe_session_create

    settings.STRIPE_API_BASE = double.url
    diamond = make_diamonds(1, offset=900_000)[0]
    user = get_user_model().objects.get(username="bench-checkout-0")
    times = []
    for i in range(repeat):
        order = Order(
            user=user,
            diamond=diamond,
            amount_cents=1234500,
            order_number=f"DO-20300101-{i:04d}",
            idempotency_key=f"bench-stripe-call-{i}-{secrets.token_hex(4)}",
        )
        times += common.timed(
            lambda o=order: _stripe_session_create(order=o, diamond=diamond, user=user), repeat=1
        )
    return common.percentile(times[20:], 50)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500, help="checkouts per level")
    parser.add_argument("--levels", default="1,8,32")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    common.django_setup()
    common.migrate()
    from benchmarks.doubles import StripeStub
    from orders.models import Order

    common.truncate("orders_orderevent", "orders_order", "catalog_diamond", "django_session")
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username__startswith="bench-checkout-").delete()
    double = StripeStub().start()
    warmup = 100
    total = warmup + args.requests * len(levels)
    diamonds = make_diamonds(total, offset=0)
    sessions = make_shoppers(-(-total // PER_SHOPPER), offset=0)
    common.vacuum_analyze("catalog_diamond", "django_session", "auth_user")
    requests = checkout_requests(diamonds, sessions)
    env = {"STRIPE_API_BASE": double.url}

    print(f"# checkout benchmark; gunicorn {' '.join(common.GUNICORN_ARGS)}; "
          f"{common.machine_note()}\n")  # fmt: skip
    rows = [common.ROW_HEADER]
    with common.gunicorn(extra_env=env) as port:
        common.run_load(port, requests[:warmup], concurrency=4)
        for n, level in enumerate(levels):
            batch = requests[warmup + n * args.requests : warmup + (n + 1) * args.requests]
            noop = [("POST", "/bench/noop", b, h) for _, _, b, h in batch]
            base = common.run_load(port, noop, concurrency=level)
            result = common.run_load(port, batch, concurrency=level)
            rows += [base.row("noop baseline"), result.row("checkout create")]
            print(rows[-2] + "\n" + rows[-1], flush=True)
            if level == 1:
                single = result
    created = Order.objects.filter(stripe_checkout_session_id__isnull=False).count()
    stripe_p50 = stripe_call_p50(double)
    double.stop()
    print(f"\n(after the run: {common.machine_note()})\n")
    print("\n".join(rows))
    print(
        f"\n{created} orders with a Checkout Session, {len(double.sessions)} sessions at the "
        f"double.\nStripe call alone p50 {stripe_p50:.1f} ms; checkout p50 at concurrency 1 "
        f"{single.pct(50):.1f} ms; our overhead beyond the Stripe call "
        f"{single.pct(50) - stripe_p50:.1f} ms (p50)."
    )


if __name__ == "__main__":
    main()
