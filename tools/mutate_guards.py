"""Mutation run over the order state machine's guards: remove or widen each one, run the
tests that should notice, and record whether one did.

Each mutant is one textual change to a copy of the project (never to the working tree):

- every column of every transition's `source` in `orders.states.TRANSITIONS`, removed (the move
  may start from any value of that column). A removal that admits exactly the same legal states
  (`orders.states.LEGAL`) cannot change behaviour and is listed as equivalent, not run;
- every guard name in every transition's `guard`, removed;
- every branch of `orders.transitions._guard_q`, made to match everything;
- every condition of every `AttentionRule` (each column it matches, its staleness, the field
  that must be empty, the resolved check), and the questions `refusal` / `outcome_unknown` ask;
- the guarded UPDATE and the diamond's conditional move in `order_transition`;
- each condition in `orders.services` and `orders.feed_orders` that chooses what to apply.

For each mutant the selected tests run on PostgreSQL with `-x` (stop at the first failure),
fastest and most pointed first; the first failing test is recorded as the mutant's killer.
Tests that already fail on the unmutated code are reported and deselected. Hypothesis does not
shrink during the run (a killed mutant only needs its first failing example).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python tools/mutate_guards.py
    ... tools/mutate_guards.py --list            # the mutants, nothing run
    ... tools/mutate_guards.py --only S03 T12    # some of them
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = [  # pointed first: most mutants die here
    "tests/orders/test_state_guards.py",
    "tests/orders/test_services.py",
    "tests/payments/test_refund.py",
    "tests/payments/test_webhooks.py",
    "tests/payments/test_reconcile.py",
    "tests/orders/test_state_table.py",
    "tests/orders/test_state_machine_stateful.py",
    "tests/payments/test_money_safety.py",
    "tests/catalog/test_availability.py",
]
LAST = [  # slow: only survivors get this far
    "tests/reliability/test_faults.py",
]
# Not run per mutant (they guard input handling and throughput, not the state machine, and take
# two minutes a run on the shared machine); the baseline runs them.
SKIPPED = [
    "tests/reliability/test_fuzz.py",
    "tests/reliability/test_fuzz_routes.py",
    "tests/reliability/test_webhook_load.py",
]
PLUGIN = """from hypothesis import Phase, settings
settings.register_profile("mutation", phases=[Phase.explicit, Phase.reuse, Phase.generate])
settings.load_profile("mutation")
"""


@dataclass
class Mutant:
    id: str
    path: str
    description: str
    old: str
    new: str
    equivalent: str = ""


# ---------------------------------------------------------------- the mutants


def _replace_transition(name: str, **changes) -> str:
    """Code appended to `orders/states.py` that swaps one row of the table for a mutant (the
    services look moves up by name at call time), whatever the table's layout."""
    values = ", ".join(f"{key}={value!r}" for key, value in changes.items())
    return (
        "\n\nimport dataclasses as _mutation\n"
        f"TRANSITIONS[{name!r}] = _mutation.replace(TRANSITIONS[{name!r}], {values})\n"
    )


def transition_mutants(text: str) -> list[Mutant]:
    from orders import states

    mutants = []
    anything = set(states.LEGAL)

    def add(name, description, admitted, **changes):
        mutants.append(
            Mutant(
                id="",
                path="orders/states.py",
                description=f"`{name}`: {description}",
                old="",
                new=_replace_transition(name, **changes),
                equivalent="admits the same legal states" if admitted else "",
            )
        )

    for name, transition in states.TRANSITIONS.items():
        legal = {s for s in states.LEGAL if transition.admits(s)}
        source = {c: set(v) for c, v in transition.source.items()}
        for column in transition.source:
            widened = dataclasses.replace(
                transition, source={c: v for c, v in transition.source.items() if c != column}
            )
            same = legal == {s for s in states.LEGAL if widened.admits(s)}
            rest = {c: frozenset(v) for c, v in source.items() if c != column}
            add(name, f"any `{column}` (source column removed)", same, source=rest)
        if len(transition.source) > 1:
            add(name, "from any state (whole source removed)", legal == anything, source={})
        for guard in transition.guard:
            rest = tuple(g for g in transition.guard if g != guard)
            add(name, f"guard `{guard}` removed", False, guard=rest)
    return mutants


def availability_mutants() -> list[Mutant]:
    """Each move of the diamond's own table (`catalog.availability.MOVES`) allowed from every
    state: a stone moved whatever it was (a sold stone released, a reserved one imported…)."""
    from catalog.availability import MOVES, Availability

    everything = frozenset(Availability.values)
    return [
        Mutant(
            id="",
            path="catalog/availability.py",
            description=f"availability move `{name}`: from any state",
            old="",
            new=(
                "\n\nimport dataclasses as _mutation\n"
                f"MOVES[{name!r}] = _mutation.replace(MOVES[{name!r}], source={everything!r})\n"
            ),
        )
        for name, move in MOVES.items()
        if move.source != everything
    ]


def M(path, description, old, new, **kw):
    return Mutant(id="", path=path, description=description, old=old, new=new, **kw)


STATES = "orders/states.py"
TRANS = "orders/transitions.py"
SERV = "orders/services.py"
FEED = "orders/feed_orders.py"
MONEY = "orders/money.py"
CATALOG = "catalog/services.py"

HAND_WRITTEN = [
    # _guard_q: each branch matches everything
    M(
        TRANS,
        "`_guard_q` `attempt`: matches every attempt",
        "return Q(feed_order_attempt=attempt)",
        "return Q()",
    ),
    M(
        TRANS,
        "`_guard_q` `not_started`: matches started attempts too",
        "return Q(feed_order_started_at__isnull=True)",
        "return Q()",
    ),
    M(
        TRANS,
        "`_guard_q` `retryable`: matches an attempt still in progress",
        """return ~Q(feed_order_status=FeedOrderStatus.PENDING) | Q(
            feed_order_requested_at__lt=now - FEED_ORDER_STALL_AFTER
        )""",
        "return Q()",
    ),
    M(
        TRANS,
        "`_guard_q` `unresolved`: matches resolved orders",
        "return Q(resolved_at__isnull=True)",
        "return Q()",
    ),
    # order_transition itself
    M(
        TRANS,
        "`order_transition`: the UPDATE ignores the table's condition",
        "Order.objects.filter(condition, pk=order.pk)",
        "Order.objects.filter(pk=order.pk)",
    ),
    M(
        CATALOG,
        "`diamond_move`: the diamond moves whatever its availability",
        "Diamond.objects.filter(pk__in=diamonds, availability__in=step.source)",
        "Diamond.objects.filter(pk__in=diamonds)",
    ),
    M(
        TRANS,
        "`order_transition`: a caller's diamond effect is ignored",
        "effect = transition.diamond if diamond is None else diamond",
        "effect = transition.diamond",
    ),
    # AttentionRule conditions
    M(
        STATES,
        "attention `feed_failed`: any status",
        '{"status": S.PAID, "feed_order_status": F.FAILED},',
        '{"feed_order_status": F.FAILED},',
    ),
    M(
        STATES,
        "attention `feed_failed`: any feed-order status",
        """"The money is taken or held, but the supplier refused the order.",
        {"status": S.PAID, "feed_order_status": F.FAILED},""",
        """"The money is taken or held, but the supplier refused the order.",
        {"status": S.PAID},""",
    ),
    M(
        STATES,
        "attention `feed_unknown`: any status",
        '{"status": S.PAID, "feed_order_status": F.UNKNOWN},',
        '{"feed_order_status": F.UNKNOWN},',
    ),
    M(
        STATES,
        "attention `feed_stalled`: any status",
        """{"status": S.PAID, "feed_order_status": F.PENDING},
        stale=""",
        """{"feed_order_status": F.PENDING},
        stale=""",
    ),
    M(
        STATES,
        "attention `feed_stalled`: not only when stale",
        """        stale=("feed_order_requested_at", FEED_ORDER_STALL_AFTER),
""",
        "",
    ),
    M(
        STATES,
        "attention `payment_mismatch`: any status",
        '{"status": S.PAID, "feed_order_status": F.NOT_ATTEMPTED},',
        '{"feed_order_status": F.NOT_ATTEMPTED},',
    ),
    M(
        STATES,
        "attention `placed_after_refund`: any status",
        '{"status": S.CANCELLED, "feed_order_status": F.SUCCESS},',
        '{"feed_order_status": F.SUCCESS},',
    ),
    M(
        STATES,
        "attention `placed_after_refund`: any feed-order status",
        '{"status": S.CANCELLED, "feed_order_status": F.SUCCESS},',
        '{"status": S.CANCELLED},',
    ),
    M(
        STATES,
        "attention `placed_after_refund`: confirmed orders too (empty removed)",
        """        empty=("confirmed_at",),
""",
        "",
    ),
    M(
        STATES,
        "`AttentionRule.q`: resolved orders too",
        "condition = Q(resolved_at__isnull=True)",
        "condition = Q()",
    ),
    M(
        STATES,
        "`AttentionRule.holds`: resolved orders too",
        """        if order.resolved_at is not None:
            return False
        for name, value in self.match.items():""",
        """        for name, value in self.match.items():""",
    ),
    M(
        STATES,
        "`AttentionRule.holds`: staleness not checked",
        """            if value is None or value >= now - self._age():
                return False""",
        """            pass""",
    ),
    # the questions the admin and the services ask
    M(
        STATES,
        "`refusal`: the state table not consulted",
        """    if not transition.admits(state_of(order)):
        return _state_refusal(order, name)
""",
        "",
    ),
    M(
        STATES,
        "`refusal`: resolved orders may be resolved again",
        """    if "unresolved" in transition.guard and order.resolved_at is not None:
        return "it is already resolved"
""",
        "",
    ),
    M(
        STATES,
        "`refusal`: an attempt in progress may be retried",
        """    if "retryable" in transition.guard and order.feed_order_status == F.PENDING:""",
        """    if False:""",
    ),
    M(
        STATES,
        "`outcome_unknown`: a stalled attempt never taken on counts as unknown",
        """        and order.feed_order_started_at is not None
        and order.feed_order_requested_at is not None""",
        """        and order.feed_order_requested_at is not None""",
    ),
    # services: what each operation applies
    M(
        SERV,
        "`order_create`: reserves a diamond that is not available",
        """            if not diamond_move(diamonds=[diamond.pk], move="reserve", now=now):
                raise DiamondUnavailable(diamond.pk)""",
        """            diamond_move(diamonds=[diamond.pk], move="reserve", now=now)""",
    ),
    M(
        SERV,
        "`order_mark_paid`: the amount and currency are not checked",
        """    mismatch = (session.amount_total, (session.currency or "").lower()) != (
        order.amount_cents,
        order.currency,
    )""",
        "    mismatch = False",
    ),
    M(
        SERV,
        "`order_mark_paid`: the feed order is queued even when nothing changed",
        """        elif changed:
            enqueue_durably(feed_order_place, order_id=str(order.pk), attempt=1)""",
        """        else:
            enqueue_durably(feed_order_place, order_id=str(order.pk), attempt=1)""",
    ),
    M(
        MONEY,
        "`order_mark_refunded`: releases whatever the supplier order's state",
        "release = full and release_diamond and supplier_order_never_placed(locked)",
        "release = full and release_diamond",
    ),
    M(
        MONEY,
        "`order_mark_refunded`: a partial refund releases the stone",
        "release = full and release_diamond and supplier_order_never_placed(locked)",
        "release = release_diamond and supplier_order_never_placed(locked)",
    ),
    M(
        STATES,
        "`supplier_order_never_placed`: an attempt a worker took on counts as never placed",
        "return order.feed_order_status == F.PENDING and order.feed_order_started_at is None",
        "return order.feed_order_status == F.PENDING",
    ),
    M(
        SERV,
        "`order_feed_order_retry`: keeps the resolution (defect 2)",
        """            resolved_at=None,
            resolved_by=None,
            # Retrying""",
        """            # Retrying""",
    ),
    M(
        SERV,
        "`order_feed_order_retry`: the new attempt keeps the old one's start",
        """            feed_order_started_at=None,
            resolved_at=None,""",
        """            resolved_at=None,""",
    ),
    M(
        SERV,
        "`order_feed_order_retry`: queues a task even when refused",
        """        if changed:
            enqueue_durably(
                feed_order_place, order_id=str(order.pk), attempt=order.feed_order_attempt
            )""",
        """        enqueue_durably(
            feed_order_place, order_id=str(order.pk), attempt=order.feed_order_attempt
        )""",
    ),
    # feed_orders: which answer applies
    M(
        FEED,
        "`feed_order_place`: runs without claiming the attempt",
        """    if not claimed:
        return False
""",
        "",
    ),
    M(
        FEED,
        "`feed_order_place`: the answer applies to the current attempt, not its own (defect 3)",
        "feed_order_record_success(order=order, attempt=attempt, feed_order_id=feed_order_id)",
        "feed_order_record_success(order=order, attempt=Order.objects.get(pk=order_id)"
        ".feed_order_attempt, feed_order_id=feed_order_id)",
    ),
    M(
        FEED,
        "`feed_order_record_success`: a refunded order's late success is dropped",
        """        if order_transition(
            order,
            "feed_order_succeeded_after_refund",""",
        """        if False and order_transition(
            order,
            "feed_order_succeeded_after_refund",""",
    ),
    M(
        FEED,
        "`feed_order_record_failure`: an unknown outcome is recorded as a plain failure",
        'name = "feed_order_unknown" if outcome_unknown else "feed_order_failed"',
        'name = "feed_order_failed"',
    ),
    M(
        FEED,
        "`feed_order_record_failure`: a plain refusal is recorded as unknown",
        'name = "feed_order_unknown" if outcome_unknown else "feed_order_failed"',
        'name = "feed_order_unknown"',
    ),
]


def all_mutants() -> list[Mutant]:
    text = (ROOT / STATES).read_text()
    mutants = transition_mutants(text) + availability_mutants() + HAND_WRITTEN
    for number, mutant in enumerate(mutants, 1):
        mutant.id = f"M{number:02d}"
    return mutants


class StaleMutant(Exception):
    """A hand-written mutant's text is no longer in the code (the code moved on)."""


def mutate(text: str, mutant: Mutant) -> str:
    if not mutant.old:  # a row of the table swapped: appended
        return text + mutant.new
    if text.count(mutant.old) != 1:
        raise StaleMutant(f"{mutant.id}: {mutant.old!r} is not exactly once in {mutant.path}")
    return text.replace(mutant.old, mutant.new)


# ---------------------------------------------------------------- running


def selected_tests(copy: Path) -> list[str]:
    found = sorted(
        str(p.relative_to(copy))
        for folder in (
            "tests/orders",
            "tests/payments",
            "tests/catalog",
            "tests/feeds",
            "tests/reliability",
        )
        for p in (copy / folder).glob("test_*.py")
    )
    first = [t for t in FIRST if t in found]
    last = [t for t in LAST if t in found]
    return first + [t for t in found if t not in first + last + SKIPPED] + last


def run_tests(copy: Path, tests: list[str], *, stop_first: bool, deselect=()) -> tuple[bool, list]:
    command = [
        sys.executable, "-m", "pytest", *tests, "-q", "-rfE", "-m", "not browser",
        "-p", "no:cacheprovider", "-p", "mutation_profile", "--reuse-db",
        *(["-x"] if stop_first else []),
        *(f"--deselect={node}" for node in deselect),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            command, cwd=copy, env=env, capture_output=True, text=True, timeout=900
        )
    except subprocess.TimeoutExpired:
        return False, ["(timed out after 900 s)"]
    failed = re.findall(r"^(?:FAILED|ERROR) (tests/\S+)", done.stdout, re.M)  # not a log line
    if done.returncode not in (0, 1) and not failed:
        failed = [f"(pytest exit {done.returncode}) " + done.stdout[-500:] + done.stderr[-500:]]
    return done.returncode == 0, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--json", default="", help="write the results here, as they come")
    parser.add_argument("--resume", action="store_true", help="skip the mutants already in --json")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the run on the unmutated code"
    )
    parser.add_argument(
        "--without",
        nargs="*",
        default=[],
        help="leave these test files out (was a mutant killed before they existed?)",
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    mutants = all_mutants()
    if args.only:
        mutants = [m for m in mutants if m.id in args.only]
    if args.list:
        for m in mutants:
            print(
                f"{m.id} {m.path}: {m.description}" + (f" [{m.equivalent}]" if m.equivalent else "")
            )
        return 0
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Run it on PostgreSQL: set DATABASE_URL=postgres://…")

    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        copy = Path(tmp) / "project"
        shutil.copytree(
            ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.sqlite3")
        )
        (copy / "mutation_profile.py").write_text(PLUGIN)
        tests = [t for t in selected_tests(copy) if t not in args.without]
        print("Tests:", " ".join(tests), flush=True)

        started = time.monotonic()
        failing = []
        if not args.no_baseline:
            ok, failing = run_tests(copy, tests + SKIPPED, stop_first=False)
            print(f"Baseline: {'green' if ok else 'failing: ' + ', '.join(failing)} "
                  f"({time.monotonic() - started:.0f} s)", flush=True)  # fmt: skip

        saved = Path(args.json) if args.json else None
        results = json.loads(saved.read_text()) if args.resume and saved.exists() else []
        done = {r["id"] for r in results}
        for mutant in mutants:
            if mutant.id in done:
                continue
            if mutant.equivalent:
                results.append({**mutant.__dict__, "outcome": "equivalent", "by": "", "s": 0})
                print(f"{mutant.id} equivalent: {mutant.description}", flush=True)
                continue
            target = copy / mutant.path
            original = target.read_text()
            try:
                mutated = mutate(original, mutant)
            except StaleMutant as exc:
                results.append({**mutant.__dict__, "outcome": "stale", "by": str(exc), "s": 0})
                print(f"{mutant.id} stale: {exc}", flush=True)
                continue
            target.write_text(mutated)
            began = time.monotonic()
            try:
                survived, failed = run_tests(copy, tests, stop_first=True, deselect=failing)
            finally:
                target.write_text(original)
            seconds = time.monotonic() - began
            outcome = "SURVIVED" if survived else "killed"
            by = failed[0] if failed else ""
            results.append({**mutant.__dict__, "outcome": outcome, "by": by, "s": round(seconds)})
            print(
                f"{mutant.id} {outcome} ({seconds:.0f} s): {mutant.description} — {by}", flush=True
            )
            if saved:
                saved.write_text(json.dumps(results, indent=2))

    print(f"\nTotal {time.monotonic() - started:.0f} s\n")
    print("| mutant | change | result | first failing test |")
    print("|---|---|---|---|")
    for r in sorted(results, key=lambda r: r["id"]):
        by = f"`{r['by']}`" if r["by"] else ""
        result = r["outcome"] + (f" ({r['equivalent']})" if r["equivalent"] else "")
        print(f"| {r['id']} | `{r['path']}` {r['description']} | {result} | {by} |")
    results.sort(key=lambda r: r["id"])
    if saved:
        saved.write_text(json.dumps(results, indent=2))
    return 1 if any(r["outcome"] == "SURVIVED" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
