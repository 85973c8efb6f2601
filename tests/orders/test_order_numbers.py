import datetime

import pytest
from django.db import transaction

from orders.models import OrderNumberCounter
from orders.services import (
    order_number_allocate,
)
from tests.threads import at_once

DAY = datetime.date(2026, 11, 24)


def allocate(day=DAY):
    with transaction.atomic():
        return order_number_allocate(day=day)


@pytest.mark.django_db
def test_numbers_start_at_one_per_day_and_count_up():
    assert [allocate() for _ in range(3)] == [
        "DO-20261124-0001",
        "DO-20261124-0002",
        "DO-20261124-0003",
    ]
    assert allocate(datetime.date(2026, 11, 25)) == "DO-20261125-0001"


@pytest.mark.django_db
def test_numbers_widen_past_9999_instead_of_truncating():
    OrderNumberCounter.objects.create(day=DAY, last_value=9998)
    assert allocate() == "DO-20261124-9999"
    assert allocate() == "DO-20261124-10000"


@pytest.mark.django_db
def test_a_rolled_back_checkout_gives_its_number_back():
    allocate()
    with pytest.raises(RuntimeError), transaction.atomic():
        order_number_allocate(day=DAY)
        raise RuntimeError("checkout failed before commit")
    assert allocate() == "DO-20261124-0002"


@pytest.mark.django_db(transaction=True)
def test_allocation_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        order_number_allocate(day=DAY)


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_are_unique_and_consecutive():
    """Many connections at once (threads, each with its own connection) on one day's counter."""
    workers, per_worker = 8, 25

    batches = at_once(lambda _: [allocate() for _ in range(per_worker)], range(workers))

    numbers = [number for batch in batches for number in batch]
    expected = [f"DO-20261124-{n:04d}" for n in range(1, workers * per_worker + 1)]
    assert sorted(numbers) == expected
