import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from catalog.models import Diamond, Feed

# seed_demo puts its staff user in the Ops group (made by a migration).
pytestmark = pytest.mark.usefixtures("ops_group")


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


@pytest.mark.django_db
def test_seeds_diamonds_and_users_with_known_passwords(debug):
    out = seed()
    assert "Demo diamonds: 40 created" in out
    assert "staff / staff-demo-pass (created)" in out
    assert "shopper / shopper-demo-pass (created)" in out
    assert Diamond.objects.filter(feed=Feed.DEMO).count() == 40
    users = get_user_model().objects
    staff, shopper = users.get(username="staff"), users.get(username="shopper")
    assert staff.is_staff and staff.check_password("staff-demo-pass")
    assert not staff.is_superuser
    assert list(staff.groups.values_list("name", flat=True)) == ["Ops"]
    assert not shopper.is_staff and not shopper.is_superuser
    assert shopper.check_password("shopper-demo-pass")


@pytest.mark.django_db
def test_running_it_again_changes_nothing(debug):
    seed()
    users = get_user_model().objects
    before = {u.username: u.password for u in users.all()}
    diamonds = {d.pk: d.updated_at for d in Diamond.objects.all()}
    out = seed()
    assert "Demo diamonds: 0 created, 0 updated, 40 unchanged" in out
    assert "staff / staff-demo-pass (unchanged)" in out
    assert "shopper / shopper-demo-pass (unchanged)" in out
    assert {u.username: u.password for u in users.all()} == before  # hashes not redone
    assert {d.pk: d.updated_at for d in Diamond.objects.all()} == diamonds


@pytest.mark.django_db
def test_a_changed_demo_password_or_role_is_put_back(debug):
    seed()
    staff = get_user_model().objects.get(username="staff")
    staff.set_password("something-else")
    staff.is_superuser = True
    staff.save()
    staff.groups.clear()
    out = seed()
    assert "staff / staff-demo-pass (updated: role, password, group)" in out
    staff.refresh_from_db()
    assert not staff.is_superuser and staff.check_password("staff-demo-pass")
    assert list(staff.groups.values_list("name", flat=True)) == ["Ops"]


@pytest.mark.django_db
def test_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match=r"only runs with DEBUG on\. Use --force"):
        seed()
    assert not Diamond.objects.exists()
    assert not get_user_model().objects.exists()
    assert "40 created" in seed("--force")
