import threading
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connections

from catalog.models import Availability, Diamond
from feeds.base import Stone
from feeds.importing import diamonds_upsert

STONE = Stone(
    supplier_stone_id="S-0",
    offer_id="O-0",
    shape="ROUND",
    carats=Decimal("1.01"),
    color="G",
    clarity="VS1",
    cut="EX",
    polish="EX",
    symmetry="VG",
    lab="GIA",
    certificate_number="2141300000",
    image_url="https://images.example.com/s-0.jpg",
    price_nzd=Decimal("10000.00"),
    price_model_nzd=Decimal("12500.00"),
    availability=Availability.AVAILABLE,
)


def stones(count, **changes):
    return [
        replace(STONE, supplier_stone_id=f"S-{i}", offer_id=f"O-{i}", **changes)
        for i in range(count)
    ]


@pytest.mark.django_db
def test_counts_across_batches_larger_than_one_statement():
    # 250 rows x 19 columns is more than one SQLite statement's 999 parameters.
    result = diamonds_upsert(feed="demo", stones=stones(250), batch_size=120)
    assert (result.created, result.updated, result.unchanged, result.invalid) == (250, 0, 0, 0)
    changed = stones(100) + stones(300, price_nzd=Decimal("9000.00"))[100:]
    result = diamonds_upsert(feed="demo", stones=changed, batch_size=1000)
    assert (result.created, result.updated, result.unchanged) == (50, 150, 100)
    assert Diamond.objects.filter(price_nzd=Decimal("9000.00")).count() == 200


@pytest.mark.django_db
def test_the_same_stone_id_in_another_feed_is_another_diamond():
    diamonds_upsert(feed="demo", stones=stones(2))
    result = diamonds_upsert(feed="nivoda", stones=stones(2))
    assert result.created == 2
    assert Diamond.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"supplier_stone_id": ""},
        {"carats": Decimal("0")},
        {"carats": Decimal("-1")},
        {"carats": None},
        {"carats": Decimal("10000")},
        {"price_nzd": Decimal("-0.01")},
        {"price_model_nzd": Decimal("NaN")},
        {"availability": "gone"},
        {"shape": "X" * 31},
        {"image_url": "https://x.example/" + "a" * 500},
        {"certificate_number": "12\x1f34"},
        {"color": "G\x1e"},
    ],
)
def test_invalid_stones_are_skipped_and_counted(changes, caplog):
    bad = replace(STONE, **{"supplier_stone_id": "BAD", **changes})
    result = diamonds_upsert(feed="demo", stones=[*stones(2), bad])
    assert (result.created, result.invalid) == (2, 1)
    assert not Diamond.objects.filter(supplier_stone_id="BAD").exists()
    assert "Skipped demo stone" in caplog.text


@pytest.mark.django_db
def test_values_are_rounded_like_the_columns_and_missing_prices_allowed():
    odd = replace(STONE, carats=Decimal("1.005"), price_nzd=None, price_model_nzd=None)
    assert diamonds_upsert(feed="demo", stones=[odd]).created == 1
    diamond = Diamond.objects.get()
    assert (diamond.carats, diamond.price_nzd, diamond.price_model_nzd) == (
        Decimal("1.01"),
        None,
        None,
    )
    assert diamonds_upsert(feed="demo", stones=[odd]).unchanged == 1


@pytest.mark.django_db
def test_a_single_stone_with_empty_fields_is_written():
    bare = replace(STONE, cut="", polish="", symmetry="", image_url="", offer_id="")
    assert diamonds_upsert(feed="demo", stones=[bare], batch_size=1).created == 1
    diamond = Diamond.objects.get()
    assert (diamond.cut, diamond.image_url, diamond.offer_id) == ("", "", "")
    assert diamonds_upsert(feed="demo", stones=[bare], batch_size=1).unchanged == 1


@pytest.mark.django_db
def test_a_stone_twice_in_one_batch_is_written_once_with_the_last_data():
    result = diamonds_upsert(feed="demo", stones=[STONE, replace(STONE, color="H")], batch_size=10)
    assert (result.created, result.unchanged) == (1, 1)
    assert Diamond.objects.get().color == "H"


@pytest.mark.django_db
def test_feed_availability_changes_are_applied_but_not_over_store_states():
    diamonds_upsert(feed="demo", stones=stones(3))
    Diamond.objects.filter(supplier_stone_id="S-0").update(availability=Availability.RESERVED)
    Diamond.objects.filter(supplier_stone_id="S-1").update(availability=Availability.SOLD)
    result = diamonds_upsert(feed="demo", stones=stones(3, availability=Availability.ON_HOLD))
    # Only S-2 changed: the feed's on_hold does not replace the store's reserved and sold.
    assert (result.updated, result.unchanged) == (1, 2)
    assert dict(Diamond.objects.values_list("supplier_stone_id", "availability")) == {
        "S-0": "reserved",
        "S-1": "sold",
        "S-2": "on_hold",
    }


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size"):
        diamonds_upsert(feed="demo", stones=[], batch_size=0)


@pytest.mark.django_db(transaction=True)
def test_an_import_waiting_on_a_checkout_keeps_the_reservation(postgres_only):
    """The checkout reserves the stone first and commits while the import waits for the row:
    the import then sees `reserved` and keeps it, while still updating the price."""
    from django.db import connection, transaction

    diamonds_upsert(feed="demo", stones=stones(2))
    done = threading.Event()
    errors = []

    def run_import():
        try:
            diamonds_upsert(feed="demo", stones=stones(2, price_nzd=Decimal("9999.00")))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()
            done.set()

    with transaction.atomic():
        Diamond.objects.filter(supplier_stone_id="S-0", availability="available").update(
            availability=Availability.RESERVED
        )
        importer = threading.Thread(target=run_import)
        importer.start()
        with connection.cursor() as cursor:
            waiting = 0
            while not waiting and not done.is_set():
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh stats each time
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                (waiting,) = cursor.fetchone()
        assert waiting == 1, "the import should be waiting for the reserved row"
    importer.join()
    assert errors == []
    rows = {d.supplier_stone_id: d for d in Diamond.objects.all()}
    assert rows["S-0"].availability == Availability.RESERVED
    assert rows["S-0"].price_nzd == rows["S-1"].price_nzd == Decimal("9999.00")
    assert rows["S-1"].availability == Availability.AVAILABLE
