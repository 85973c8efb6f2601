"""The order's state machine under random histories (hypothesis `RuleBasedStateMachine`), on
PostgreSQL.

Two diamonds of a test supplier ("scripted"), three shoppers, and every way the outside world
moves an order, in any order and any number of times:

- shoppers start checkouts (`orders.services.order_create`, then a Checkout Session at the
  Stripe double through the real gateway; Stripe may refuse the session, or the checkout may
  never reach Stripe);
- Stripe: the shopper pays by card, with a delayed method, or pays the wrong amount; the delayed
  payment settles or fails; an open session expires; a refund made in Stripe's Dashboard (full
  or partial). Each makes the event Stripe would send, and events are delivered through the real
  webhook path (signed with the webhook secret, POSTed to `/api/v2/webhooks/stripe`) in any order,
  each possibly more than once;
- the task worker runs a queued feed-order task (or runs it twice), and the supplier accepts,
  refuses, times out having taken the order, times out without it, raises something unexpected,
  or takes the order and holds its answer back: the held worker is later let go with its answer
  (accepted, refused or timed out; by then the attempt may be superseded) or dies mid-call;
- ops retry the feed order, refund (with or without putting the stone back on sale), resolve;
- the stone's way: ops receive, ship and deliver it, the shopper asks to return it, ops approve
  and receive the return (refunded through Stripe; the stone back on sale or not);
- time passes (every timestamp moved back in the database), and reconciliation runs (all of
  `payments_reconcile`, or one of its steps).

Tasks: the `dummy` task backend records each enqueued feed-order task and runs nothing; the
"worker runs a task" rule calls `orders.feed_orders.feed_order_place` with the task's arguments.
That keeps every run deterministic (a held supplier answer is a real worker thread blocked inside
the supplier call, so it answers exactly when the rule lets it go).

After every step these invariants hold:

1. **Legal.** Every order's `(status, payment_status, feed_order_status, fulfilment_status)`
   is in `orders.states.LEGAL`.

2. **The diamond agrees with its orders.** An order *holds* its diamond while it is
   `pending_payment` or `paid` (reserved), once `confirmed` (sold), and after a refund: sold if it
   had been confirmed, otherwise reserved — unless the refund put the stone back on sale (ops
   asked to release it and the supplier order was not attempted, had failed, or was still pending
   at the refund: `order_mark_refunded`'s rule). A `failed` or `expired` order holds nothing. So,
   per diamond: every order but its newest holds nothing, and the diamond is *available* when it
   has no order or its newest order holds nothing, *reserved* or *sold* as its newest order holds
   it. A returned order whose stone ops put back on sale holds nothing. (In particular: a late
   supplier answer for a refunded order never sells the stone, which may by now be another
   shopper's checkout.)

3. **Supplier orders.** The supplier double keeps a ledger of every `create_order` call: the
   order, the attempt the worker ran, the order's current attempt in the database at that moment,
   and whether the supplier has (or may have) the order — yes when it accepted, timed out having
   taken it, or is holding its answer; no when it refused, timed out before taking it, or the
   adapter raised. Then:
   a. at most one supplier call per feed-order attempt, and only for the current attempt of a
      paid order (a duplicate or superseded task, or one for an order refunded before a worker
      took it on, never reaches the supplier);
   b. an order whose feed order succeeded carries the supplier order id of its *current*
      attempt's call (a late answer from an earlier attempt never overwrites it);
   c. per order: supplier orders ≤ 1 + the retries ops made while its outcome was unknown
      (`unknown`, or an attempt a worker took on and never answered) — the one way the code lets
      ops knowingly risk a second purchase after being told to check with the supplier;
   d. per diamond: supplier orders ≤ 1 + those risky retries + the refunds that released the
      stone while a worker had an attempt in hand (its answer may yet land: "placed after
      refund", which needs ops). So: at most one placed supplier order per diamond, except
      where the store has said so to ops.

4. **Needs attention, exactly as defined.** `Order.objects.needs_attention(now)` is exactly the
   orders for which `orders.states.attention_rule` (the Python side of `ATTENTION_RULES`) finds a
   reason, and both equal the issue's definition written out here independently: unresolved, and
   paid with the supplier order failed, unknown, not placed (payment mismatch) or pending for more
   than 10 minutes; or refunded with the supplier order placed afterwards (never confirmed); or
   confirmed with a return asked for, or a returned stone whose refund did not go through.

5. **Nothing swallowed.** Every webhook delivery answers 200 and no stored event has a processing
   error; each order has at most one payment entry on its timeline; the table's answers
   (`orders.states.may`) agree with what the guarded UPDATE did for every ops action.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from catalog.models import Availability, Diamond
from feeds import base
from feeds.base import FeedError
from gateway.base import GatewayError
from gateway.registry import payment_gateway
from notifications.models import Notification
from orders.feed_orders import feed_order_place
from orders.fulfilment import (
    FulfilmentError,
    order_mark_delivered,
    order_return_approve,
    order_return_receive,
    order_return_request,
    order_ship,
    order_stone_receive,
)
from orders.models import FeedOrderStatus, Order, OrderEvent, OrderNumberCounter, Status
from orders.money import (
    PaymentActionError,
    order_mark_refunded,
)
from orders.services import (
    DiamondUnavailable,
    order_attach_checkout_session,
    order_create,
    order_fail_checkout,
    order_feed_order_retry,
    order_resolve,
)
from orders.states import (
    FEED_ORDER_STALL_AFTER,
    LEGAL,
    attention_rule,
    may,
    state_of,
    supplier_order_never_placed,
)
from payments import reconciliation
from payments.models import WebhookEvent
from payments.services import checkout_amount_cents, checkout_session_params
from tests.doubles.stripe import post_event, stripe_event
from tests.factories import DiamondFactory, StaffFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

S, FS = Status, FeedOrderStatus
DIAMONDS, SHOPPERS = 2, 3


class WorkerKilled(BaseException):
    """The worker process dies inside the supplier call (no `except Exception` catches it)."""


@dataclass
class Call:
    """One `create_order` call the supplier received."""

    order_number: str
    diamond_id: object
    attempt: int  # the attempt the worker ran
    current_attempt: int  # the order's attempt in the database when the call arrived
    status: str  # the order's status in the database when the call arrived
    has_order: bool  # the supplier has (or may have) the order
    supplier_order_id: str = ""


@dataclass
class Plan:
    """What the supplier does with the next call: one worker run's script."""

    outcome: str
    order_id: object
    attempt: int
    call: Call | None = None
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    answer: str = ""
    error: BaseException | None = None


class ScriptedFeed(base.FeedAdapter):
    """A supplier that does what the running machine's plan says, and keeps the ledger."""

    name = "scripted"
    machine: OrderMachine | None = None

    def check_availability(self, diamond) -> str:
        return Availability.AVAILABLE

    def create_order(self, diamond, *, reference: str, comments: str = "") -> str:
        return type(self).machine.supplier_call(diamond, reference)


# The supplier's answers, the likely ones more often.
OUTCOMES = ("accept", "accept", "refuse", "timeout_taken", "timeout_lost", "crash", "hold", "hold")
ANSWERS = ("accept", "accept", "refuse", "timeout_taken", "killed")


class OrderMachine(RuleBasedStateMachine):
    def __init__(self, stripe_api):
        super().__init__()
        self.stripe = stripe_api
        self.client = Client()
        self.backend = feed_order_place.get_backend()
        self.backend.clear()
        self.ready = False
        self.orders: list[Order] = []  # in creation order
        self.outbox: list[dict] = []  # events Stripe has made and not yet delivered
        self.delivered: list[dict] = []
        self.queue: list[tuple[str, int | None]] = []  # feed-order tasks (order id, attempt)
        self.seen_results = 0
        self.calls: list[Call] = []
        self.plan: Plan | None = None
        self.held: list[Plan] = []
        self.threads: dict[int, threading.Thread] = {}
        self.settled: set[str] = set()
        self.released_at_refund: dict = {}
        self.released_in_flight: Counter = Counter()
        self.risky_retries: Counter = Counter()
        self.restocked: set = set()  # returned orders whose stone ops put back on sale
        self.supplier_ids = iter(range(1, 10**6))
        ScriptedFeed.machine = self

    # ------------------------------------------------------------------ the world

    @initialize()
    def setup(self):
        self.diamonds = [DiamondFactory(feed=ScriptedFeed.name) for _ in range(DIAMONDS)]
        self.shoppers = [UserFactory() for _ in range(SHOPPERS)]
        self.staff = StaffFactory()
        for stone in range(DIAMONDS):  # every history starts with both stones in a checkout
            self.checkout(shopper=stone, diamond=stone, stripe="ok")
        self.ready = True

    def teardown(self):
        for plan in list(self.held):
            self._let_go(plan, "killed")
        ScriptedFeed.machine = None
        self.backend.clear()
        Notification.objects.all().delete()
        WebhookEvent.objects.all().delete()
        OrderEvent.objects.all().delete()
        Order.objects.all().delete()
        OrderNumberCounter.objects.all().delete()
        Diamond.objects.all().delete()
        get_user_model().objects.all().delete()

    def _take_new_tasks(self):
        results = self.backend.results
        new, self.seen_results = results[self.seen_results :], len(results)
        for result in new:
            if result.task.func is feed_order_place.func:
                self.queue.append((result.kwargs["order_id"], result.kwargs.get("attempt")))

    def _stripe_sends(self, event_type: str, obj: dict, *, now: bool = False):
        """Stripe makes the event; it is delivered at once, or later (out of order)."""
        event = stripe_event(event_type, obj)
        if now:
            self._post(event)
            self.delivered.append(event)
        else:
            self.outbox.append(event)

    def _session(self, order):
        return self.stripe.sessions.get(order.stripe_checkout_session_id or "")

    # ------------------------------------------------------------------ shoppers and Stripe

    @precondition(lambda self: Diamond.objects.filter(availability=Availability.AVAILABLE).exists())
    @rule(
        shopper=st.integers(0, SHOPPERS - 1),
        diamond=st.integers(0, DIAMONDS - 1),
        stripe=st.sampled_from(["ok", "ok", "refuses", "never_reached"]),
    )
    def checkout(self, shopper, diamond, stripe):
        user, stone = self.shoppers[shopper], self.diamonds[diamond]
        stone.refresh_from_db()
        try:
            order = order_create(
                user=user, diamond=stone, amount_cents=checkout_amount_cents(stone)
            )
        except DiamondUnavailable:
            assert stone.availability != Availability.AVAILABLE
            return
        assert stone.availability == Availability.AVAILABLE
        self.orders.append(order)
        if stripe == "never_reached":  # the process died before it asked Stripe
            return
        if stripe == "refuses":
            self.stripe.fail("POST", "/v1/checkout/sessions", status=400, message="Refused.")
        params = checkout_session_params(order=order, diamond=stone, user=user, now=timezone.now())
        try:
            session = payment_gateway().checkout_session_create(
                params=params, idempotency_key=order.idempotency_key
            )
        except GatewayError as exc:
            assert stripe == "refuses"
            assert order_fail_checkout(order=order, error=exc.detail)
            return
        order_attach_checkout_session(order=order, session_id=session.id, url=session.url)

    def _orders_whose_session(self, test) -> list[Order]:
        return [
            order
            for order in self.orders
            if (session := self.stripe.sessions.get(order.stripe_checkout_session_id or ""))
            and test(session)
        ]

    def _open(self):
        return self._orders_whose_session(lambda s: s["status"] == "open")

    def _awaiting_settlement(self):
        """A delayed payment still settling (an authorised card holds its money instead)."""
        return self._orders_whose_session(
            lambda s: (
                s["status"] == "complete"
                and self.stripe.intent_for(s["id"])["status"] == "processing"
                and s["id"] not in self.settled
            )
        )

    def _charged(self):
        return self._orders_whose_session(lambda s: bool(s["payment_intent"]))

    def _paid_ever(self) -> list[Order]:
        """Orders Stripe took a payment for: the ones ops act on."""
        paid = set(Order.objects.filter(paid_at__isnull=False).values_list("pk", flat=True))
        return [order for order in self.orders if order.pk in paid]

    @staticmethod
    def _pick(orders, index) -> Order:
        order = orders[index % len(orders)]
        order.refresh_from_db()
        return order

    def _at_stripe(self):
        return self._open() + self._awaiting_settlement()

    @precondition(lambda self: self._at_stripe())
    @rule(
        index=st.integers(0, 15),
        how=st.sampled_from(["card", "card", "delayed", "wrong_amount", "abandons"]),
        now=st.booleans(),
    )
    def stripe_session_moves(self, index, how, now):
        """An open session: the shopper pays by card, with a delayed method or the wrong
        amount, or walks away and it expires. A delayed payment: it settles (card, delayed) or
        fails (the others)."""
        order = self._pick(self._at_stripe(), index)
        session_id = order.stripe_checkout_session_id
        if self.stripe.sessions[session_id]["status"] == "complete":
            self.settled.add(session_id)
            succeeded = how in ("card", "delayed")
            session = self.stripe.settle(session_id, succeeded=succeeded)
            kind = "succeeded" if succeeded else "failed"
            self._stripe_sends(f"checkout.session.async_payment_{kind}", session, now=now)
        elif how == "abandons":
            self._stripe_sends("checkout.session.expired", self.stripe.expire(session_id), now=now)
        else:
            if how == "card":
                session = self.stripe.complete(session_id)
            elif how == "delayed":
                session = self.stripe.complete(session_id, payment_status="unpaid")
            else:
                session = self.stripe.complete(session_id, amount_total=order.amount_cents + 100)
            self._stripe_sends("checkout.session.completed", session, now=now)

    def _refund_in_stripes_dashboard(self, order, *, full):
        """Someone refunds in Stripe's Dashboard: all that is left of a charged payment, or
        half of it."""
        session = self._session(order)
        if session is None or not session["payment_intent"]:
            return
        charge = self.stripe.charge_for(session["id"])
        left = charge["amount_captured"] - charge["amount_refunded"]
        if left <= 0:  # nothing charged (held, pending, failed) or all refunded already
            return
        refunded = self.stripe.refund_from_dashboard(
            session["id"], amount=left if full else max(left // 2, 1)
        )
        self._stripe_sends("charge.refunded", refunded)

    @precondition(lambda self: self.outbox or self.delivered)
    @rule(index=st.integers(0, 15), again=st.booleans())
    def stripe_delivers(self, index, again):
        """Delivers a waiting event (any of them: out of order), or one already delivered."""
        if self.outbox and not (again and self.delivered):
            event = self.outbox.pop(index % len(self.outbox))
            self.delivered.append(event)
        else:
            event = self.delivered[index % len(self.delivered)]
        self._post(event)

    def _post(self, event):
        response = post_event(self.client, event)
        assert response.status_code == 200, response.content
        self._take_new_tasks()

    # ------------------------------------------------------------------ the worker and supplier

    def supplier_call(self, diamond, reference: str) -> str:
        plan, self.plan = self.plan, None
        assert plan is not None, "a supplier call nobody planned"
        current, status = Order.objects.values_list("feed_order_attempt", "status").get(
            order_number=reference
        )
        call = Call(reference, diamond.pk, plan.attempt, current, status, has_order=False)
        self.calls.append(call)
        plan.call = call
        if plan.outcome == "hold":
            call.has_order = True
            plan.arrived.set()
            plan.release.wait(timeout=60)
            outcome = plan.answer
        else:
            outcome = plan.outcome
        if outcome == "killed":
            raise WorkerKilled
        if outcome == "accept":
            call.has_order = True
            call.supplier_order_id = f"SUP-{next(self.supplier_ids)}"
            return call.supplier_order_id
        if outcome == "refuse":
            call.has_order = False
            raise FeedError("The supplier refused the order: the stone is on memo elsewhere.")
        if outcome == "timeout_taken":
            call.has_order = True
            raise FeedError("The supplier did not answer in time.", outcome_unknown=True)
        if outcome == "timeout_lost":
            raise FeedError("The supplier did not answer in time.", outcome_unknown=True)
        raise RuntimeError("the adapter broke")  # "crash"

    @precondition(lambda self: self.queue)
    @rule(index=st.integers(0, 15), outcome=st.sampled_from(OUTCOMES), twice=st.booleans())
    def worker_runs_a_task(self, index, outcome, twice):
        """Runs a queued task; `twice`: the queue hands it out again later (a redelivery)."""
        order_id, attempt = self.queue[index % len(self.queue)]
        if not twice:
            self.queue.remove((order_id, attempt))
        plan = Plan(outcome, order_id, attempt)
        self.plan = plan
        if outcome == "hold":
            thread = threading.Thread(target=self._held_worker, args=(plan,), daemon=True)
            thread.start()
            while not plan.arrived.wait(0.005) and thread.is_alive():
                pass
            if plan.arrived.is_set():
                self.held.append(plan)
                self.threads[id(plan)] = thread
            else:  # the attempt was not this task's to take: no supplier call
                thread.join()
                self._raise_from(plan)
        else:
            feed_order_place.call(order_id=order_id, attempt=attempt)
        self.plan = None
        self._take_new_tasks()

    def _held_worker(self, plan: Plan):
        try:
            feed_order_place.call(order_id=plan.order_id, attempt=plan.attempt)
        except WorkerKilled:
            pass
        except BaseException as exc:
            plan.error = exc
        finally:
            connection.close()

    @staticmethod
    def _raise_from(plan: Plan):
        if plan.error is not None:
            raise plan.error

    @precondition(lambda self: self.held)
    @rule(index=st.integers(0, 15), answer=st.sampled_from(ANSWERS))
    def held_answer_arrives(self, index, answer):
        """The supplier's held answer reaches its worker at last, or the worker dies."""
        self._let_go(self.held[index % len(self.held)], answer)

    def _let_go(self, plan: Plan, answer: str):
        plan.answer = answer
        plan.release.set()
        self.threads.pop(id(plan)).join(timeout=60)
        self.held.remove(plan)
        self._raise_from(plan)

    # ------------------------------------------------------------------ ops

    @precondition(lambda self: self._paid_ever())
    @rule(
        index=st.integers(0, 15),
        action=st.sampled_from(["retry", "retry", "retry", "resolve", "refund"]),
        refund=st.sampled_from(["keep", "release", "dashboard", "dashboard_partial"]),
    )
    def ops_act(self, index, action, refund):
        """Ops press a button on a paid order (the table may refuse it); a refund keeps or
        releases the stone, or is made in Stripe's Dashboard (Stripe sends `charge.refunded`,
        delivered later). Refunds are the rarer action, so that most histories go on."""
        order = self._pick(self._paid_ever(), index)
        if action == "refund":
            action = refund if refund.startswith("dashboard") else f"refund_{refund}"
        if action.startswith("dashboard"):
            self._refund_in_stripes_dashboard(order, full=action == "dashboard")
        elif action == "retry":
            self._ops_retry(order)
        elif action == "resolve":
            self._ops_resolve(order)
        else:
            self._ops_refund(order, release=action == "refund_release")

    def _ops_retry(self, order):
        allowed = may(order, "feed_order_retried", timezone.now())
        unknown = order.feed_order_status == FS.UNKNOWN or (
            order.feed_order_status == FS.PENDING and order.feed_order_started_at is not None
        )
        changed = order_feed_order_retry(order=order, actor=self.staff, reason="Ops retried.")
        assert changed == allowed, state_of(order)
        if changed:
            order.refresh_from_db()
            assert order.resolved_at is None  # a retry reopens a resolved order
            self.risky_retries[order.pk] += unknown
        self._take_new_tasks()

    def _ops_refund(self, order, *, release):
        allowed = may(order, "refunded", timezone.now())
        feed_before = order.feed_order_status
        started_before = feed_before == FS.PENDING and order.feed_order_started_at is not None
        never_placed_before = supplier_order_never_placed(order)
        changed = order_mark_refunded(order=order, actor=self.staff, release_diamond=release)
        assert changed == allowed, state_of(order)
        if changed:
            released = release and never_placed_before
            self.released_at_refund[order.pk] = released
            self.released_in_flight[order.pk] += released and started_before
            session = self._session(order)
            if session is not None and session["payment_intent"]:  # Stripe tells us too
                self._stripe_sends("charge.refunded", self.stripe.charge_for(session["id"]))

    def _ops_resolve(self, order):
        allowed = may(order, "resolved", timezone.now())
        assert allowed == (order.resolved_at is None)
        changed = order_resolve(order=order, actor=self.staff, note="Checked with the supplier.")
        assert changed == allowed

    # ------------------------------------------------------------------ the stone's way

    @precondition(lambda self: Order.objects.filter(confirmed_at__isnull=False).exists())
    @rule(
        index=st.integers(0, 15),
        move=st.sampled_from(
            [
                "stone_received",
                "shipped",
                "delivered",
                "return_requested",
                "return_approved",
                "returned_keep",
                "returned_restock",
            ]
        ),
        follow=st.sampled_from([True, True, True, False]),
    )
    def ops_and_shopper_fulfil(self, index, move, follow):
        """Ops receive, ship and deliver the stone, approve and receive a return (its refund
        goes to Stripe, which may refuse it when a Dashboard refund has not reached us yet);
        the shopper asks for a return. The table may refuse any of them."""
        confirmed = set(
            Order.objects.filter(confirmed_at__isnull=False).values_list("pk", flat=True)
        )
        order = self._pick([o for o in self.orders if o.pk in confirmed], index)
        if follow:  # mostly the next step of the stone's way, so that histories reach returns
            nxt = NEXT_STEP.get(order.fulfilment_status)
            if nxt == "returned":
                nxt = "returned_restock" if move.endswith("_restock") else "returned_keep"
            move = nxt or move
        name = move.removesuffix("_keep").removesuffix("_restock")
        allowed = may(order, name, timezone.now())
        if name == "stone_received":
            changed = order_stone_receive(order=order, actor=self.staff)
        elif name == "shipped":
            changed = order_ship(
                order=order, actor=self.staff, carrier="nzpost", tracking_number="NZ123"
            )
        elif name == "delivered":
            changed = order_mark_delivered(order=order, actor=self.staff)
        elif name == "return_requested":
            changed = order_return_request(order=order, actor=order.user, reason="Too small.")
        elif name == "return_approved":
            changed = order_return_approve(order=order, actor=self.staff)
        else:
            restock = move == "returned_restock"
            try:
                order_return_receive(order=order, actor=self.staff, restock=restock)
                changed = True
            except FulfilmentError:
                changed = False
            except PaymentActionError:  # returned; the refund needs ops
                changed = True
            if changed:
                if restock:
                    self.restocked.add(order.pk)
                order.refresh_from_db()
                session = self._session(order)
                if order.status == S.CANCELLED and session is not None:
                    self._stripe_sends("charge.refunded", self.stripe.charge_for(session["id"]))
        assert changed == allowed, (move, state_of(order))

    # ------------------------------------------------------------------ time and reconciliation

    @precondition(
        lambda self: Order.objects.filter(status__in=[S.PENDING_PAYMENT, S.PAID]).exists()
    )
    @rule(
        minutes=st.sampled_from([0, 3, 11, 40]),
        step=st.sampled_from(["all", "stale_checkouts", "stalled_feed_orders", "events", None]),
    )
    def time_passes_and_reconciliation_runs(self, minutes, step):
        """Moves every stored time back (the same as the clock moving forward), then runs
        reconciliation (all of it, or one step), or not."""
        ago = timedelta(minutes=minutes)
        columns = (
            "created_at",
            "updated_at",
            "paid_at",
            "confirmed_at",
            "refunded_at",
            "resolved_at",
            "feed_order_requested_at",
            "feed_order_started_at",
            "delivered_at",
        )
        if minutes:
            for column in columns:
                Order.objects.filter(**{f"{column}__isnull": False}).update(
                    **{column: F(column) - ago}
                )
            OrderEvent.objects.update(created_at=F("created_at") - ago)
            WebhookEvent.objects.update(received_at=F("received_at") - ago)
        now = timezone.now()
        if step == "all":
            reconciliation.payments_reconcile(now=now)
        elif step == "stale_checkouts":
            reconciliation.stale_checkouts_reconcile(now=now)
        elif step == "stalled_feed_orders":
            reconciliation.stalled_feed_orders_reconcile(now=now)
        elif step == "events":
            reconciliation.unprocessed_events_reconcile(now=now)
        self._take_new_tasks()

    # ------------------------------------------------------------------ invariants

    @invariant()
    def the_invariants_hold(self):
        if not self.ready:
            return
        now = timezone.now()
        orders = list(Order.objects.order_by("created_at", "order_number"))
        for order in orders:
            assert state_of(order) in LEGAL, (order.order_number, state_of(order))
        self._check_diamonds(orders)
        self._check_supplier_orders(orders)
        self._check_attention(orders, now)
        assert not WebhookEvent.objects.exclude(processing_error="").exists()
        payments = Counter(
            OrderEvent.objects.filter(kind__in=["paid", "payment_mismatch"]).values_list(
                "order_id", flat=True
            )
        )
        assert all(count == 1 for count in payments.values()), payments

    def _holds(self, order) -> str | None:
        """What `order` does to its diamond now: reserved, sold, or nothing (None)."""
        if order.pk in self.restocked:  # returned, and back on sale
            return None
        if order.status in (S.PENDING_PAYMENT, S.PAID):
            return Availability.RESERVED
        if order.status == S.CONFIRMED:
            return Availability.SOLD
        if order.status == S.CANCELLED:
            if order.confirmed_at is not None:
                return Availability.SOLD
            # A refund from the Stripe Dashboard releases the stone when no supplier order
            # was placed; the refund's timeline entry says which it did.
            released = self.released_at_refund.get(order.pk)
            if released is None:
                released = order.events.filter(
                    kind="refunded", message__contains="back on sale"
                ).exists()
            return None if released else Availability.RESERVED
        return None  # failed, expired

    def _check_diamonds(self, orders):
        for stone in Diamond.objects.filter(pk__in=[d.pk for d in self.diamonds]):
            mine = [o for o in orders if o.diamond_id == stone.pk]
            for older in mine[:-1]:
                assert self._holds(older) is None, (older.order_number, state_of(older))
            expected = (self._holds(mine[-1]) if mine else None) or Availability.AVAILABLE
            assert stone.availability == expected, (
                [(o.order_number, state_of(o)) for o in mine],
                stone.availability,
            )

    def _check_supplier_orders(self, orders):
        by_number = {order.order_number: order for order in orders}
        per_attempt = Counter((call.order_number, call.attempt) for call in self.calls)
        assert all(count == 1 for count in per_attempt.values()), per_attempt
        for call in self.calls:
            assert (call.attempt, call.status) == (call.current_attempt, S.PAID), call
        for order in orders:
            if order.feed_order_status == FS.SUCCESS:
                current = [
                    c
                    for c in self.calls
                    if (c.order_number, c.attempt) == (order.order_number, order.feed_order_attempt)
                ]
                assert [c.supplier_order_id for c in current] == [order.feed_order_id], (
                    order.order_number,
                    order.feed_order_attempt,
                    order.feed_order_id,
                    self.calls,
                )
        placed = defaultdict(int)
        for call in self.calls:
            placed[call.order_number] += call.has_order
        allowance = defaultdict(int)
        for number, count in placed.items():
            order = by_number[number]
            assert count <= 1 + self.risky_retries[order.pk], (number, count, self.calls)
        per_diamond = defaultdict(int)
        for number, count in placed.items():
            per_diamond[by_number[number].diamond_id] += count
        for order in orders:
            allowance[order.diamond_id] += (
                self.risky_retries[order.pk] + self.released_in_flight[order.pk]
            )
        for stone, count in per_diamond.items():
            assert count <= 1 + allowance[stone], (stone, count, self.calls)

    def _check_attention(self, orders, now):
        listed = set(Order.objects.needs_attention(now).values_list("pk", flat=True))
        by_rules = {order.pk for order in orders if attention_rule(order, now) is not None}
        by_words = {order.pk for order in orders if _needs_attention_in_words(order, now)}
        assert listed == by_rules == by_words, (
            [(o.order_number, state_of(o), o.pk in listed, o.pk in by_rules) for o in orders],
        )


NEXT_STEP = {
    "awaiting_stone": "stone_received",
    "received": "shipped",
    "shipped": "delivered",
    "delivered": "return_requested",
    "return_requested": "return_approved",
    "return_approved": "returned",
}


def _needs_attention_in_words(order, now) -> bool:
    """Issue 10's definition, written without the state module."""
    if order.resolved_at is not None:
        return False
    if order.status == S.CONFIRMED:  # a return asked for, or back with us and not refunded
        return order.fulfilment_status in ("return_requested", "returned")
    if order.status == S.PAID:
        if order.feed_order_status in (FS.FAILED, FS.UNKNOWN, FS.NOT_ATTEMPTED):
            return True
        return order.feed_order_status == FS.PENDING and (
            order.feed_order_requested_at < now - FEED_ORDER_STALL_AFTER
        )
    return (
        order.status == S.CANCELLED
        and order.feed_order_status == FS.SUCCESS
        and order.confirmed_at is None
    )


MACHINE_SETTINGS = hypothesis_settings(
    max_examples=30,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize("capture", ["automatic", "manual"])
def test_random_histories_keep_the_orders_invariants(stripe_api, settings, monkeypatch, capture):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: the production database, with held worker threads writing on "
            "their own connections while the history goes on"
        )
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.CHECKOUT_CAPTURE = capture
    monkeypatch.setitem(base._registry, ScriptedFeed.name, ScriptedFeed)
    run_state_machine_as_test(
        lambda: OrderMachine(stripe_api),
        settings=MACHINE_SETTINGS,
    )
