"""The diamond's availability table against the database: every move from every state, the
database's own refusal of any other value, and no writer outside the table's one writer."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from catalog.availability import MOVES, STORE_OWNED, Availability
from catalog.models import Diamond
from catalog.services import diamond_move
from tests.factories import DiamondFactory

CASES = [
    (move, state, target)
    for move in MOVES.values()
    for state in Availability.values
    for target in sorted(move.targets)
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("move", "state", "target"), CASES, ids=[f"{m.name}-{s}-{t}" for m, s, t in CASES]
)
def test_a_move_changes_a_stone_only_from_its_source_states(move, state, target):
    stone = DiamondFactory(availability=state)

    moved = diamond_move(diamonds=[stone.pk], move=move.name, to=target)

    stone.refresh_from_db()
    if state in move.source:
        assert (moved, stone.availability) == (1, target)
    else:
        assert (moved, stone.availability) == (0, state)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("move", "only_from"), [("refused", Availability.RESERVED), ("restock", Availability.SOLD)]
)
def test_a_refused_stone_was_reserved_and_a_restocked_one_sold(move, only_from):
    """Said here apart from the table (the test above follows the table): the stone of an
    order the supplier refused is the one that order reserved, and a returned stone put back
    on sale is one the store sold. A stone in any other state (another shopper's, one ops
    withdrew, one on sale) is left as it is."""
    for state in Availability.values:
        stone = DiamondFactory(availability=state)
        moved = diamond_move(diamonds=[stone.pk], move=move)
        stone.refresh_from_db()
        assert (moved, stone.availability != state) == (
            (1, True) if state == only_from else (0, False)
        )


@pytest.mark.django_db
def test_a_move_refuses_a_target_it_does_not_have():
    stone = DiamondFactory()
    with pytest.raises(ValueError, match="withdraw goes to"):
        diamond_move(diamonds=[stone.pk], move="withdraw", to=Availability.SOLD)
    with pytest.raises(ValueError, match="feed_check goes to"):
        diamond_move(diamonds=[stone.pk], move="feed_check")  # two targets: say which


@pytest.mark.django_db
def test_no_feed_move_touches_a_stone_the_store_owns():
    assert {Availability.RESERVED, Availability.SOLD} == STORE_OWNED
    for move in ("import", "delist", "feed_check", "withdraw"):
        assert not MOVES[move].source & STORE_OWNED


@pytest.mark.django_db
def test_the_database_refuses_any_other_availability():
    stone = DiamondFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Diamond.objects.filter(pk=stone.pk).update(availability="maybe")


def test_nothing_but_the_one_writer_updates_availability():
    """No `.update(availability=…)` anywhere in the project's code but `diamond_move`."""
    base = Path(settings.BASE_DIR)
    outside = {"tests", "benchmarks"}  # test and benchmark set-up, not the store
    apps = [p for p in base.iterdir() if (p / "__init__.py").exists() and p.name not in outside]
    writers = []
    for path in (file for app in apps for file in app.rglob("*.py")):
        relative = path.relative_to(base)
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") == "update"
                and any(keyword.arg == "availability" for keyword in node.keywords)
            ):
                writers.append(f"{relative}:{node.lineno}")
    assert [w.split(":")[0] for w in writers] == ["catalog/services.py"], writers
