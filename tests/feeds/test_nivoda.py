import threading
from decimal import Decimal

import pytest

from catalog.models import Availability, Feed
from feeds import nivoda
from feeds.base import FeedError
from feeds.nivoda import NivodaFeed, availability_from_nivoda
from feeds.registry import get_adapter
from tests.factories import DiamondFactory


@pytest.fixture
def adapter(nivoda_api):
    return get_adapter("nivoda")


def stone_of(item):
    return DiamondFactory.build(
        feed=Feed.NIVODA, supplier_stone_id=item["diamond"]["id"], offer_id=item["id"]
    )


# ---------------------------------------------------------------- search and mapping


def test_search_maps_items_to_stones(adapter, nivoda_api, settings):
    settings.FEED_USD_TO_NZD_RATE = Decimal("1.70")
    settings.FEED_MARKUP_PERCENT = Decimal("20")
    nivoda_api.add_stone(
        id="offer-abc",
        price=1_234_567,
        diamond={"id": "stone-abc", "image": "https://img.example/abc.jpg"},
        certificate={
            "lab": "IGI",
            "certNumber": "LG612345",
            "shape": "oval",
            "carats": 2.05,
            "color": "E",
            "clarity": "VVS2",
            "cut": "VG",
            "polish": "EX",
            "symmetry": "GD",
        },
    )
    page = adapter.search(offset=0, limit=10)
    assert (page.total_count, page.skipped, len(page.stones)) == (1, 0, 1)
    stone = page.stones[0]
    assert (stone.supplier_stone_id, stone.offer_id) == ("stone-abc", "offer-abc")
    assert (stone.shape, stone.carats, stone.color, stone.clarity) == (
        "OVAL",
        Decimal("2.05"),
        "E",
        "VVS2",
    )
    assert (stone.cut, stone.polish, stone.symmetry) == ("VG", "EX", "GD")
    assert (stone.lab, stone.certificate_number) == ("IGI", "LG612345")
    assert stone.image_url == "https://img.example/abc.jpg"
    assert stone.price_nzd == Decimal("20987.64")  # 12,345.67 USD x 1.70
    assert stone.price_model_nzd == Decimal("25185.00")  # x 1.20, to whole dollars
    assert stone.availability == Availability.AVAILABLE


def test_search_maps_origin_media_and_proportions(adapter, nivoda_api, settings):
    settings.FEED_USD_TO_NZD_RATE = Decimal("1.70")
    settings.FEED_MARKUP_PERCENT = Decimal("20")
    settings.FEED_MARKUP_PERCENT_LAB_GROWN = Decimal("50")
    nivoda_api.add_stone(
        price=400_000,
        diamond={"video": "https://video.nivoda.example/360/abc.mp4"},
        certificate={
            "lab": "igi",
            "certNumber": "LG612345678",
            "labgrown": True,
            "floInt": "MEDIUM",
            "length": 7.41,
            "width": 5.32,
            "depth": 3.3,
            "depthPercentage": 62.1,
            "table": 58.5,
        },
    )
    nivoda_api.add_stone(certificate={"labgrown": False, "floInt": None, "length": None})
    nivoda_api.add_stone(certificate={"labgrown": "true", "lab": "HRD", "certNumber": "240001"})
    lab, natural, lab_as_text = adapter.search(offset=0, limit=10).stones

    assert lab.lab_grown is True
    assert lab.video_url == "https://video.nivoda.example/360/abc.mp4"
    assert lab.fluorescence == "Medium"
    assert (lab.length_mm, lab.width_mm, lab.depth_mm) == (
        Decimal("7.41"),
        Decimal("5.32"),
        Decimal("3.3"),
    )
    assert (lab.depth_percent, lab.table_percent) == (Decimal("62.1"), Decimal("58.5"))
    assert lab.lab == "IGI"
    assert lab.certificate_url == "https://www.igi.org/verify-your-report/?r=LG612345678"
    # 4,000 USD x 1.70 = 6,800 NZD cost; lab-grown markup 50% (never the natural 20%).
    assert (lab.price_nzd, lab.price_model_nzd) == (Decimal("6800.00"), Decimal("10200.00"))

    assert natural.lab_grown is False
    assert natural.video_url == ""
    assert natural.fluorescence == ""
    assert natural.length_mm is None
    assert natural.width_mm == Decimal("6.42")
    assert natural.certificate_url == (
        f"https://www.gia.edu/report-check?reportno={natural.certificate_number}"
    )
    assert natural.price_model_nzd == Decimal("13260.00")  # 6,500 USD x 1.70 x 1.20

    assert lab_as_text.lab_grown is True
    assert lab_as_text.certificate_url == "https://my.hrdantwerp.com/?record_number=240001"


def test_the_feed_pdf_is_the_certificate_link_when_there_is_one(adapter, nivoda_api):
    nivoda_api.add_stone(certificate={"pdfUrl": "https://certs.example/LG1.pdf"})
    nivoda_api.add_stone(certificate={"lab": "GCAL", "certNumber": "99"})
    with_pdf, unknown_lab = adapter.search(offset=0, limit=10).stones
    assert with_pdf.certificate_url == "https://certs.example/LG1.pdf"
    assert unknown_lab.certificate_url == ""  # no report check we know: the number is shown


def test_skipped_records_are_counted_by_reason(adapter, nivoda_api):
    nivoda_api.add_stone(diamond={"certificate": None})
    nivoda_api.add_stone(certificate={"certNumber": ""})
    nivoda_api.add_stone(diamond={"image": ""})
    nivoda_api.add_stone(price="not a price")
    nivoda_api.add_stone(id=None)
    nivoda_api.add_stone()
    page = adapter.search(offset=0, limit=50)
    assert len(page.stones) == 1
    assert page.skipped == 5
    assert page.skipped_reasons == {
        "without a certificate": 2,
        "without an image": 1,
        "without a usable price or carat weight": 1,
        "without an offer or stone id": 1,
    }


def test_records_that_cannot_be_sold_are_skipped_and_counted(adapter, nivoda_api):
    nivoda_api.add_stone()
    nivoda_api.add_stone(diamond={"certificate": None})
    nivoda_api.add_stone(diamond={"image": ""})
    nivoda_api.add_stone(diamond={"image": None})
    nivoda_api.add_stone(price=None)
    nivoda_api.add_stone(certificate={"carats": 0})
    nivoda_api.add_stone(id=None)
    nivoda_api.add_stone()
    page = adapter.search(offset=0, limit=50)
    assert [s.offer_id for s in page.stones] == ["offer-1", "offer-8"]
    assert (page.skipped, page.total_count) == (6, 8)


@pytest.mark.parametrize(
    ("value", "hold_id", "expected"),
    [
        ("AVAILABLE", None, "available"),
        ("AVAILABLE", "hold-9", "on_hold"),
        ("ON HOLD", None, "on_hold"),
        ("HOLD", "hold-9", "on_hold"),
        ("on hold", None, "on_hold"),
        ("SOLD", None, "unavailable"),
        ("MEMO", None, "unavailable"),
        ("SOMETHING NEW", None, "unavailable"),
        (None, None, "unavailable"),
    ],
)
def test_availability_mapping(value, hold_id, expected):
    assert availability_from_nivoda(value, hold_id) == expected


def test_availability_strings_arrive_mapped(adapter, nivoda_api):
    nivoda_api.add_stone(diamond={"availability": "ON HOLD"})
    nivoda_api.add_stone(diamond={"availability": "AVAILABLE", "HoldId": "h-1"})
    nivoda_api.add_stone(diamond={"availability": "SOLD"})
    nivoda_api.add_stone(diamond={"availability": "MEMO"})
    stones = adapter.search(offset=0, limit=10).stones
    assert [s.availability for s in stones] == ["on_hold", "on_hold", "unavailable", "unavailable"]


def test_pages_are_capped_at_50_and_walk_the_whole_feed(adapter, nivoda_api):
    for _ in range(120):
        nivoda_api.add_stone()
    pages = list(adapter.iter_pages(page_size=500))
    assert [len(p.stones) for p in pages] == [50, 50, 20]
    searches = nivoda_api.calls("diamonds_by_query")
    assert [(c.variables["offset"], c.variables["limit"]) for c in searches] == [
        (0, 50),
        (50, 50),
        (100, 50),
    ]
    assert len({s.offer_id for p in pages for s in p.stones}) == 120
    assert [len(p.stones) for p in adapter.iter_pages(page_size=50, limit=60)] == [50, 10]


# ---------------------------------------------------------------- login and token


def test_logs_in_once_and_reuses_the_token(adapter, nivoda_api):
    nivoda_api.add_stone()
    adapter.search(offset=0, limit=10)
    adapter.check_availability(stone_of(nivoda_api.stones[0]))
    get_adapter("nivoda").search(offset=0, limit=10)  # a new adapter shares the cache
    logins = nivoda_api.calls("authenticate")
    assert len(logins) == 1
    assert logins[0].variables == {"username": "store-api", "password": "store-api-password"}
    assert {r.token for r in nivoda_api.requests if r.operation != "authenticate"} == {"token-1"}


def test_the_token_is_refreshed_a_few_minutes_before_it_expires(adapter, nivoda_api, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(nivoda, "monotonic", lambda: clock[0])
    adapter.search(offset=0, limit=1)
    clock[0] += nivoda.TOKEN_REFRESH_AFTER - 1
    adapter.search(offset=0, limit=1)
    assert len(nivoda_api.calls("authenticate")) == 1
    assert nivoda.TOKEN_REFRESH_AFTER <= 6 * 3600 - 5 * 60
    clock[0] += 2
    adapter.search(offset=0, limit=1)
    assert len(nivoda_api.calls("authenticate")) == 2
    assert nivoda_api.calls("diamonds_by_query")[-1].token == "token-2"


def test_an_expired_token_is_refreshed_once_and_the_call_retried(adapter, nivoda_api):
    nivoda_api.add_stone()
    adapter.search(offset=0, limit=10)
    nivoda_api.expire_tokens()
    page = adapter.search(offset=0, limit=10)
    assert len(page.stones) == 1
    assert [(r.operation, r.token) for r in nivoda_api.requests] == [
        ("authenticate", None),
        ("diamonds_by_query", "token-1"),
        ("diamonds_by_query", "token-1"),
        ("authenticate", None),
        ("diamonds_by_query", "token-2"),
    ]


def test_a_token_rejected_twice_is_an_error(adapter, nivoda_api):
    nivoda_api.fail("expired_token", operation="diamonds_by_query", times=2)
    with pytest.raises(FeedError, match="rejected a fresh login token"):
        adapter.search(offset=0, limit=10)
    assert len(nivoda_api.calls("authenticate")) == 2
    assert len(nivoda_api.calls("diamonds_by_query")) == 2


def test_concurrent_callers_share_one_login(nivoda_api):
    nivoda_api.add_stone()
    start = threading.Barrier(8)
    errors = []

    def search():
        start.wait()
        try:
            NivodaFeed().search(offset=0, limit=10)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=search) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(nivoda_api.calls("authenticate")) == 1
    assert len(nivoda_api.calls("diamonds_by_query")) == 8


def test_wrong_credentials_say_which_settings_to_check(adapter, nivoda_api, settings):
    settings.NIVODA_PASSWORD = "wrong"
    with pytest.raises(FeedError) as failure:
        adapter.search(offset=0, limit=10)
    message = str(failure.value)
    assert "Invalid username or password" in message
    assert "store-api" in message and "NIVODA_PASSWORD" in message
    assert nivoda_api.calls("diamonds_by_query") == []


def test_missing_configuration_is_a_clear_error(adapter, nivoda_api, settings):
    settings.NIVODA_ENDPOINT = ""
    settings.NIVODA_PASSWORD = ""
    with pytest.raises(FeedError, match="not configured: set NIVODA_ENDPOINT, NIVODA_PASSWORD"):
        adapter.search(offset=0, limit=10)
    assert nivoda_api.requests == []


# ---------------------------------------------------------------- errors


def test_graphql_errors_become_a_feed_error(adapter, nivoda_api):
    nivoda_api.fail("graphql_error", operation="diamonds_by_query", message="Query too complex")
    with pytest.raises(FeedError, match=r"Nivoda refused the diamond search .*Query too complex"):
        adapter.search(offset=0, limit=10)


def test_http_errors_become_a_feed_error(adapter, nivoda_api):
    nivoda_api.fail("http_500", operation="diamonds_by_query")
    with pytest.raises(
        FeedError, match=r"answered HTTP 500 to the diamond search.*try again later"
    ):
        adapter.search(offset=0, limit=10)


def test_garbage_becomes_a_feed_error(adapter, nivoda_api):
    nivoda_api.fail("garbage", operation="diamonds_by_query")
    with pytest.raises(FeedError, match=r"was not a GraphQL response.*upstream proxy"):
        adapter.search(offset=0, limit=10)


def test_an_unreachable_endpoint_is_a_feed_error(adapter, nivoda_api, settings):
    settings.NIVODA_ENDPOINT = "http://127.0.0.1:9/api/diamonds"
    with pytest.raises(
        FeedError, match=r"Could not reach Nivoda at http://127\.0\.0\.1:9/"
    ) as failure:
        adapter.search(offset=0, limit=10)
    assert failure.value.outcome_unknown is False


def test_a_search_that_hangs_times_out(adapter, nivoda_api, settings):
    settings.NIVODA_TIMEOUT_SECONDS = 0.3
    nivoda_api.fail("hang", operation="diamonds_by_query")
    with pytest.raises(FeedError, match=r"did not answer the diamond search .* within 0\.3 s") as e:
        adapter.search(offset=0, limit=10)
    assert e.value.outcome_unknown is False


def test_a_login_that_hangs_times_out(adapter, nivoda_api, settings):
    settings.NIVODA_TIMEOUT_SECONDS = 0.3
    nivoda_api.fail("hang", operation="authenticate")
    with pytest.raises(FeedError, match="did not answer the login"):
        adapter.search(offset=0, limit=10)


# ---------------------------------------------------------------- availability and holds


def test_availability_check_asks_for_the_stone(adapter, nivoda_api):
    on_hold = nivoda_api.add_stone(diamond={"availability": "ON HOLD"})
    available = nivoda_api.add_stone()
    assert adapter.check_availability(stone_of(available)) == Availability.AVAILABLE
    assert adapter.check_availability(stone_of(on_hold)) == Availability.ON_HOLD
    gone = DiamondFactory.build(feed=Feed.NIVODA, supplier_stone_id="no-longer-listed")
    assert adapter.check_availability(gone) == Availability.UNAVAILABLE
    assert [c.variables["id"] for c in nivoda_api.calls("get_diamond_by_id")] == [
        available["diamond"]["id"],
        on_hold["diamond"]["id"],
        "no-longer-listed",
    ]


def test_holds_are_created_and_cancelled(adapter, nivoda_api):
    diamond = stone_of(nivoda_api.add_stone())
    assert adapter.supports_holds
    hold_id = adapter.create_hold(diamond)
    assert nivoda_api.holds[hold_id]["product"] == diamond.supplier_stone_id
    adapter.cancel_hold(hold_id)
    assert nivoda_api.holds == {}
    with pytest.raises(FeedError, match="Nivoda refused the cancellation of hold nope"):
        adapter.cancel_hold("nope")


def test_a_denied_hold_is_an_error(adapter, nivoda_api):
    nivoda_api.deny_holds = True
    diamond = stone_of(nivoda_api.add_stone())
    with pytest.raises(FeedError, match=f"denied a hold on stone {diamond.supplier_stone_id}"):
        adapter.create_hold(diamond)


# ---------------------------------------------------------------- orders


def test_an_order_sends_the_order_item_and_returns_nivodas_id(adapter, nivoda_api):
    diamond = stone_of(nivoda_api.add_stone())
    order_id = adapter.create_order(
        diamond, reference="DO-20261124-0007", comments="Gift wrap please"
    )
    assert order_id == "NIV-ORDER-1"
    assert nivoda_api.orders == [
        {
            "offerId": diamond.offer_id,
            "destinationId": "destination-auckland",
            "customer_comment": "Gift wrap please",
            "customer_order_number": "DO-20261124-0007",
            "return_option": False,
        }
    ]


def test_an_order_that_times_out_is_unknown_and_never_retried(adapter, nivoda_api, settings):
    settings.NIVODA_TIMEOUT_SECONDS = 0.3
    diamond = stone_of(nivoda_api.add_stone())
    nivoda_api.fail("hang", operation="create_order")
    with pytest.raises(FeedError) as failure:
        adapter.create_order(diamond, reference="DO-20261124-0008")
    assert failure.value.outcome_unknown is True
    message = str(failure.value)
    assert "DO-20261124-0008" in message and diamond.offer_id in message
    assert "UNKNOWN" in message and "twice" in message
    assert len(nivoda_api.calls("create_order")) == 1


@pytest.mark.parametrize("mode", ["http_500", "garbage"])
def test_an_order_answered_unreadably_is_unknown(adapter, nivoda_api, mode):
    diamond = stone_of(nivoda_api.add_stone())
    nivoda_api.fail(mode, operation="create_order")
    with pytest.raises(FeedError, match="outcome is UNKNOWN") as failure:
        adapter.create_order(diamond, reference="DO-20261124-0009")
    assert failure.value.outcome_unknown is True
    assert len(nivoda_api.calls("create_order")) == 1


def test_an_order_nivoda_refuses_is_a_plain_failure(adapter, nivoda_api):
    diamond = DiamondFactory.build(
        feed=Feed.NIVODA, supplier_stone_id="stone-x", offer_id="offer-gone"
    )
    with pytest.raises(FeedError) as failure:
        adapter.create_order(diamond, reference="DO-20261124-0010")
    assert failure.value.outcome_unknown is False
    assert str(failure.value) == (
        "Nivoda refused order DO-20261124-0010 for offer offer-gone (stone stone-x): "
        "Offer offer-gone is no longer available."
    )


def test_an_order_with_an_expired_token_logs_in_again_and_orders_once(adapter, nivoda_api):
    diamond = stone_of(nivoda_api.add_stone())
    adapter.search(offset=0, limit=1)
    nivoda_api.expire_tokens()
    assert adapter.create_order(diamond, reference="DO-20261124-0011") == "NIV-ORDER-1"
    assert [c.token for c in nivoda_api.calls("create_order")] == ["token-1", "token-2"]
    assert len(nivoda_api.orders) == 1


def test_an_order_needs_a_destination_and_an_offer(adapter, nivoda_api, settings):
    diamond = stone_of(nivoda_api.add_stone())
    settings.NIVODA_DESTINATION_ID = ""
    with pytest.raises(FeedError, match="NIVODA_DESTINATION_ID is not set"):
        adapter.create_order(diamond, reference="DO-20261124-0012")
    settings.NIVODA_DESTINATION_ID = "destination-auckland"
    diamond.offer_id = ""
    with pytest.raises(FeedError, match="no Nivoda offer id"):
        adapter.create_order(diamond, reference="DO-20261124-0012")
    assert nivoda_api.requests == []
