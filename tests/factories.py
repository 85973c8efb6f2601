from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from catalog.models import Availability, Diamond, Feed
from orders.models import Order

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"shopper{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


class DiamondFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Diamond

    feed = Feed.DEMO
    supplier_stone_id = factory.Sequence(lambda n: f"STONE-{n:05d}")
    offer_id = factory.LazyAttribute(lambda d: f"OFFER-{d.supplier_stone_id}")
    shape = "ROUND"
    carats = Decimal("1.01")
    color = "G"
    clarity = "VS1"
    cut = "EX"
    polish = "EX"
    symmetry = "EX"
    lab = "GIA"
    certificate_number = factory.Sequence(lambda n: f"{2200000000 + n}")
    image_url = "https://images.example.com/stone.jpg"
    price_nzd = Decimal("9876.00")
    price_model_nzd = Decimal("12345.00")
    availability = Availability.AVAILABLE


def _demo_stone_ids() -> list[str]:
    from feeds.demo import FAIL_PREFIX, demo_stones

    return [
        s.supplier_stone_id
        for s in demo_stones()
        if not s.supplier_stone_id.startswith(FAIL_PREFIX)
    ]


class DemoDiamondFactory(DiamondFactory):
    """A stone the demo feed really lists, so its feed order goes through."""

    supplier_stone_id = factory.Sequence(lambda n: _demo_stone_ids()[n % len(_demo_stone_ids())])


class OrderFactory(factory.django.DjangoModelFactory):
    """An order as checkout leaves it; pass states to build later ones.

    Its diamond is not one the demo feed lists: pass `diamond=DemoDiamondFactory(...)` when
    the test places the feed order.
    """

    class Meta:
        model = Order

    user = factory.SubFactory(UserFactory)
    diamond = factory.SubFactory(DiamondFactory, availability=Availability.RESERVED)
    feed = factory.LazyAttribute(lambda o: o.diamond.feed)
    offer_id = factory.LazyAttribute(lambda o: o.diamond.offer_id)
    order_number = factory.Sequence(lambda n: f"DO-20260101-{n + 1:04d}")
    idempotency_key = factory.Sequence(lambda n: f"checkout-factory-{n}")
    stripe_checkout_session_id = factory.Sequence(lambda n: f"cs_test_factory{n:06d}")
    amount_cents = 1234500
    currency = "nzd"
