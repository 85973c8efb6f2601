import pytest
from django.test import Client

from tests.factories import PASSWORD, DiamondFactory, UserFactory


def known_demo_stone_ids() -> list[str]:
    """Stones the demo feed reports available (and that do not always fail an order)."""
    from feeds.demo import FAIL_PREFIX, demo_stones

    return [
        s.supplier_stone_id
        for s in demo_stones()
        if not s.supplier_stone_id.startswith(FAIL_PREFIX)
    ]


@pytest.fixture
def make_diamond(db):
    """Demo-feed diamonds the demo adapter knows, so live availability says `available`."""
    ids = iter(known_demo_stone_ids())

    def make(**fields):
        fields.setdefault("supplier_stone_id", next(ids))
        return DiamondFactory(**fields)

    return make


@pytest.fixture
def demo_diamond(make_diamond):
    return make_diamond(shape="OVAL", carats="1.50", price_model_nzd="12345.67")


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def shopper_client(shopper):
    return login(shopper)


@pytest.fixture
def other_shopper(db):
    return UserFactory()
