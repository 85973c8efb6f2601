"""What the diamond page tells each shopper about buying the stone."""

import pytest

from catalog.models import Availability
from orders.selectors.purchase import RESERVED_BY_OTHER, UNAVAILABLE_REASONS, diamond_purchase_state
from orders.transitions import order_event_record
from tests.factories import DiamondFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


class TestPurchaseState:
    def test_available_stone_can_be_bought(self, shopper):
        state = diamond_purchase_state(diamond=DiamondFactory(), user=shopper)
        assert state.purchasable
        assert state.reason == ""

    @pytest.mark.parametrize(
        "availability",
        [Availability.RESERVED, Availability.SOLD, Availability.ON_HOLD, Availability.UNAVAILABLE],
    )
    def test_unavailable_stones_say_why(self, shopper, availability):
        state = diamond_purchase_state(
            diamond=DiamondFactory(availability=availability), user=shopper
        )
        assert not state.purchasable
        assert state.reason == UNAVAILABLE_REASONS[availability]
        assert not state.own_checkout_open

    def test_reserved_by_another_shoppers_checkout(self, shopper):
        order = OrderFactory(user=UserFactory())

        state = diamond_purchase_state(diamond=order.diamond, user=shopper)

        assert not state.own_checkout_open
        assert state.reason == RESERVED_BY_OTHER

    def test_reserved_by_the_shoppers_own_open_checkout(self, shopper):
        order = OrderFactory(user=shopper)

        state = diamond_purchase_state(diamond=order.diamond, user=shopper)

        assert not state.purchasable
        assert state.own_checkout_open

    def test_own_closed_checkout_does_not_count(self, shopper):
        order = OrderFactory(user=shopper, status="expired", payment_status="expired")

        state = diamond_purchase_state(diamond=order.diamond, user=shopper)

        assert not state.own_checkout_open

    def test_stone_without_any_price_cannot_be_bought(self, shopper):
        diamond = DiamondFactory(price_model_nzd=None, price_nzd=None)

        state = diamond_purchase_state(diamond=diamond, user=shopper)

        assert not state.purchasable

    def test_the_buyer_is_told_they_bought_it_even_when_the_supplier_failed(self, shopper):
        order = OrderFactory(user=shopper, feed_failed=True)

        state = diamond_purchase_state(diamond=order.diamond, user=shopper)

        assert state.reason == f"You bought this diamond — order {order.order_number}."
        assert state.order == order
        other = diamond_purchase_state(diamond=order.diamond, user=UserFactory())
        assert other.reason == UNAVAILABLE_REASONS[Availability.RESERVED]
        assert "checking out" not in other.reason

    def test_a_delayed_payment_is_not_offered_a_second_payment(self, shopper):
        order = OrderFactory(user=shopper)
        order_event_record(order=order, kind="payment_processing")

        state = diamond_purchase_state(diamond=order.diamond, user=shopper)

        assert not state.own_checkout_open
        assert "being processed" in state.reason
        assert diamond_purchase_state(diamond=order.diamond, user=UserFactory()).reason == (
            RESERVED_BY_OTHER
        )

    def test_a_sold_stone_tells_its_buyer_and_others_differently(self, shopper):
        order = OrderFactory(
            user=shopper, confirmed=True, diamond=DiamondFactory(availability=Availability.SOLD)
        )
        assert (
            "You bought this diamond"
            in diamond_purchase_state(diamond=order.diamond, user=shopper).reason
        )
        assert (
            diamond_purchase_state(diamond=order.diamond, user=UserFactory()).reason
            == (UNAVAILABLE_REASONS[Availability.SOLD])
        )
