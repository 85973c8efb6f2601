import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Availability, Diamond, Feed
from feeds.demo import demo_stones


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run(*args, stdout=None, stderr=None):
    stdout = stdout or io.StringIO()
    stderr = stderr or io.StringIO()
    call_command("import_feed", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


@pytest.mark.django_db
def test_first_import_creates_every_stone():
    out, err = run("demo", "--batch-size", "10")
    assert out.strip() == "Imported demo: 40 created, 0 updated, 0 unchanged, 0 skipped."
    assert err == ""  # no progress bar when output is not a terminal
    assert Diamond.objects.filter(feed=Feed.DEMO).count() == 40
    stone = demo_stones()[5]
    diamond = Diamond.objects.get(feed=Feed.DEMO, supplier_stone_id=stone.supplier_stone_id)
    for field in ("offer_id", "shape", "carats", "color", "clarity", "cut", "polish", "symmetry"):
        assert getattr(diamond, field) == getattr(stone, field)
    assert (diamond.lab, diamond.certificate_number, diamond.image_url) == (
        stone.lab,
        stone.certificate_number,
        "/static/catalog/photos/pear.svg",
    )
    for field in (
        "lab_grown",
        "certificate_url",
        "fluorescence",
        "length_mm",
        "width_mm",
        "depth_mm",
        "depth_percent",
        "table_percent",
    ):
        assert getattr(diamond, field) == getattr(stone, field), field
    assert diamond.lab_grown is True
    assert (diamond.price_nzd, diamond.price_model_nzd) == (stone.price_nzd, stone.price_model_nzd)
    assert diamond.availability == Availability.AVAILABLE


@pytest.mark.django_db
def test_a_rerun_changes_nothing():
    run("demo")
    before = {d.pk: d.updated_at for d in Diamond.objects.all()}
    out, _ = run("demo", "--batch-size", "7")
    assert "0 created, 0 updated, 40 unchanged, 0 skipped" in out
    assert {d.pk: d.updated_at for d in Diamond.objects.all()} == before


@pytest.mark.django_db
def test_changed_stones_are_updated_and_only_those(settings):
    run("demo")
    stone_ids = [s.supplier_stone_id for s in demo_stones()[:3]]
    Diamond.objects.filter(supplier_stone_id__in=stone_ids).update(
        price_model_nzd=Decimal("1.00"), color="Z"
    )
    untouched = Diamond.objects.exclude(supplier_stone_id__in=stone_ids).first()
    out, _ = run("demo")
    assert "0 created, 3 updated, 37 unchanged" in out
    assert not Diamond.objects.filter(color="Z").exists()
    assert Diamond.objects.get(pk=untouched.pk).updated_at == untouched.updated_at

    settings.FEED_MARKUP_PERCENT = Decimal("30")
    settings.FEED_MARKUP_PERCENT_LAB_GROWN = Decimal("50")
    out, _ = run("demo")
    assert "0 created, 40 updated, 0 unchanged" in out


@pytest.mark.django_db
def test_store_owned_availability_survives_an_import():
    run("demo")
    ids = [s.supplier_stone_id for s in demo_stones()[:4]]
    for stone_id, availability in zip(
        ids, ["reserved", "sold", "on_hold", "unavailable"], strict=True
    ):
        Diamond.objects.filter(supplier_stone_id=stone_id).update(availability=availability)
    Diamond.objects.filter(supplier_stone_id__in=ids[:2]).update(price_nzd=Decimal("1.00"))
    out, _ = run("demo")
    assert "4 updated, 36 unchanged" in out
    found = dict(
        Diamond.objects.filter(supplier_stone_id__in=ids).values_list(
            "supplier_stone_id", "availability"
        )
    )
    # Reserved and sold belong to the store's orders; the feed's other states follow the feed.
    assert [found[i] for i in ids] == ["reserved", "sold", "available", "available"]
    # The rest of a reserved stone's data still follows the feed.
    assert Diamond.objects.get(supplier_stone_id=ids[0]).price_nzd == demo_stones()[0].price_nzd


@pytest.mark.django_db
def test_a_store_owned_stone_the_feed_has_not_changed_is_not_written():
    run("demo")
    ids = [s.supplier_stone_id for s in demo_stones()[:2]]
    for stone_id, availability in zip(ids, ["reserved", "sold"], strict=True):
        Diamond.objects.filter(supplier_stone_id=stone_id).update(availability=availability)
    before = dict(
        Diamond.objects.filter(supplier_stone_id__in=ids).values_list(
            "supplier_stone_id", "updated_at"
        )
    )

    out, _ = run("demo")

    assert "0 created, 0 updated, 40 unchanged" in out
    after = Diamond.objects.filter(supplier_stone_id__in=ids)
    assert {d.supplier_stone_id: d.updated_at for d in after} == before
    assert sorted(d.availability for d in after) == ["reserved", "sold"]


@pytest.mark.django_db
def test_limit_imports_only_that_many():
    out, _ = run("demo", "--limit", "10", "--batch-size", "4")
    assert "10 created, 0 updated, 0 unchanged, 0 skipped" in out
    assert Diamond.objects.count() == 10
    out, _ = run("demo", "--limit", "12")
    assert "2 created, 0 updated, 10 unchanged" in out


@pytest.mark.django_db
def test_a_progress_bar_is_drawn_on_a_terminal():
    out, err = run("demo", "--batch-size", "10", stdout=Terminal())
    assert "Importing demo" in err and "40/40" in err
    assert "40 created" in out


@pytest.mark.django_db
def test_bad_arguments_are_refused():
    with pytest.raises(CommandError, match="Unknown feed 'nope'"):
        run("nope")
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        run("demo", "--batch-size", "0")


@pytest.mark.django_db
def test_importing_nivoda_pages_through_and_counts_skipped_records(nivoda_api):
    for n in range(120):
        nivoda_api.add_stone(**({"diamond": {"image": ""}} if n % 40 == 0 else {}))
    out, _ = run("nivoda", "--batch-size", "100")
    assert out.strip() == (
        "Imported nivoda: 117 created, 0 updated, 0 unchanged, 3 skipped (3 without an image)."
    )
    assert Diamond.objects.filter(feed=Feed.NIVODA).count() == 117
    assert {c.variables["limit"] for c in nivoda_api.calls("diamonds_by_query")} == {50}

    nivoda_api.stones[1]["price"] += 100
    nivoda_api.stones[2]["diamond"]["availability"] = "SOLD"
    out, _ = run("nivoda")
    assert "0 created, 2 updated, 115 unchanged, 3 skipped" in out
    assert Diamond.objects.get(offer_id="offer-3").availability == Availability.UNAVAILABLE
    assert len(nivoda_api.calls("authenticate")) == 1


@pytest.mark.django_db
def test_a_feed_failure_part_way_keeps_what_was_imported(nivoda_api):
    for _ in range(120):
        nivoda_api.add_stone()
    nivoda_api.fail("http_500", operation="diamonds_by_query")
    with pytest.raises(CommandError, match="HTTP 500") as failure:
        run("nivoda")
    assert "0 created" in str(failure.value)

    nivoda_api.fail("http_500", operation="diamonds_by_query", after=2)
    with pytest.raises(CommandError) as failure:
        run("nivoda", "--batch-size", "50")
    message = str(failure.value)
    assert message.startswith("Import from nivoda stopped: Nivoda answered HTTP 500")
    assert "Kept so far: 100 created, 0 updated, 0 unchanged, 0 skipped" in message
    assert "run it again" in message
    assert Diamond.objects.filter(feed=Feed.NIVODA).count() == 100
    out, _ = run("nivoda")
    assert "20 created, 0 updated, 100 unchanged" in out


@pytest.mark.django_db
def test_withdraw_missing_makes_delisted_stones_unavailable(nivoda_api):
    for _ in range(5):
        nivoda_api.add_stone()
    run("nivoda")
    Diamond.objects.filter(offer_id="offer-2").update(availability=Availability.RESERVED)
    Diamond.objects.filter(offer_id="offer-3").update(availability=Availability.ON_HOLD)
    nivoda_api.stones = [s for s in nivoda_api.stones if s["id"] not in {"offer-2", "offer-3"}]
    nivoda_api.stones[-1]["diamond"]["image"] = ""  # offer-5 can no longer be sold

    out, _ = run("nivoda")
    # Nothing is withdrawn unasked.
    assert "0 created, 0 updated, 2 unchanged, 1 skipped (1 without an image)." in out
    assert Diamond.objects.filter(availability=Availability.AVAILABLE).count() == 3

    out, _ = run("nivoda", "--withdraw-missing")
    assert out.strip() == (
        "Imported nivoda: 0 created, 0 updated, 2 unchanged, 1 skipped (1 without an image), "
        "2 withdrawn."
    )
    found = dict(Diamond.objects.values_list("offer_id", "availability"))
    assert found == {
        "offer-1": "available",
        "offer-2": "reserved",  # the store's checkout keeps it
        "offer-3": "unavailable",  # was on hold
        "offer-4": "available",
        "offer-5": "unavailable",
    }
    out, _ = run("nivoda", "--withdraw-missing")
    assert "0 withdrawn" in out


@pytest.mark.django_db
def test_withdraw_missing_needs_a_complete_import(nivoda_api):
    nivoda_api.add_stone()
    with pytest.raises(CommandError, match="needs a complete import: drop --limit"):
        run("nivoda", "--withdraw-missing", "--limit", "10")
    run("nivoda")
    nivoda_api.stones.clear()
    nivoda_api.add_stone()
    nivoda_api.fail("http_500", operation="diamonds_by_query")
    with pytest.raises(CommandError, match="HTTP 500"):
        run("nivoda", "--withdraw-missing")
    assert Diamond.objects.get().availability == Availability.AVAILABLE


@pytest.mark.django_db
def test_lab_grown_nivoda_stones_are_stored_and_priced_as_lab_grown(nivoda_api, settings):
    settings.FEED_USD_TO_NZD_RATE = Decimal("1.70")
    settings.FEED_MARKUP_PERCENT = Decimal("25")
    settings.FEED_MARKUP_PERCENT_LAB_GROWN = Decimal("60")
    nivoda_api.add_stone(price=400_033, certificate={"labgrown": True, "lab": "IGI"})
    nivoda_api.add_stone(price=400_033, certificate={"labgrown": False})
    run("nivoda")

    lab = Diamond.objects.get(offer_id="offer-1")
    natural = Diamond.objects.get(offer_id="offer-2")
    assert (lab.lab_grown, natural.lab_grown) == (True, False)
    assert lab.price_nzd == natural.price_nzd == Decimal("6800.56")
    assert lab.price_model_nzd == Decimal("10881.00")  # +60%, whole dollars
    assert natural.price_model_nzd == Decimal("8501.00")  # +25%, whole dollars

    # The feed corrects a stone to lab-grown: the next import relabels and reprices it.
    nivoda_api.stones[1]["diamond"]["certificate"]["labgrown"] = True
    out, _ = run("nivoda")
    assert "1 updated, 1 unchanged" in out
    natural.refresh_from_db()
    assert natural.lab_grown is True
    assert natural.price_model_nzd == Decimal("10881.00")


@pytest.mark.django_db
def test_stripe_is_charged_exactly_the_whole_dollar_price_shown(client):
    from payments.services import checkout_amount_cents

    run("demo")
    for diamond in Diamond.objects.all():
        shown = diamond.price_model_nzd
        assert shown == shown.to_integral_value(), diamond.supplier_stone_id
        assert checkout_amount_cents(diamond) == int(shown) * 100
    diamond = Diamond.objects.get(supplier_stone_id="DEMO-0037")
    assert (
        f"${diamond.price_model_nzd:,.0f} NZD"
        in client.get(diamond.get_absolute_url()).content.decode()
    )
