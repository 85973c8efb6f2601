from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from config.demo import seed_demo_orders
from feeds.base import FeedError
from feeds.importing import feed_import

DEMO_USERS = (
    # username, password, staff (in the Ops group, not a superuser), full name
    ("staff", "staff-demo-pass", True, "Tama Wiremu"),
    ("shopper", "shopper-demo-pass", False, "Aroha Ngata"),
)
OPS_GROUP = "Ops"  # created by config/migrations/0001_ops_group.py


class Command(BaseCommand):
    help = (
        "Demo data: the demo feed's diamonds, an ops staff user (the Ops group) and a shopper "
        "with known passwords. Idempotent. Refuses to run with DEBUG off unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (known passwords!)"
        )

    def handle(self, *args, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with publicly known passwords; it only runs with "
                "DEBUG on. Use --force to run it anyway."
            )
        try:
            result = feed_import(feed="demo")
        except FeedError as exc:
            raise CommandError(f"Could not load the demo diamonds: {exc}") from exc
        self.stdout.write(f"Demo diamonds: {result.summary()}.")
        for username, password, is_staff, full_name in DEMO_USERS:
            state = self._ensure_user(username, password, is_staff=is_staff, full_name=full_name)
            role = f"staff ({OPS_GROUP} group)" if is_staff else "shopper"
            self.stdout.write(f"Demo {role}: {username} / {password} ({state})")
        seed_demo_orders(stdout=self.stdout)

    def _ensure_user(self, username: str, password: str, *, is_staff: bool, full_name: str) -> str:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@example.com",
                "first_name": full_name,  # the whole name (accounts.selectors.customer_name)
                "is_staff": is_staff,
                "is_superuser": False,
            },
        )
        changed = []
        if user.is_staff != is_staff or user.is_superuser:
            user.is_staff, user.is_superuser = is_staff, False
            changed.append("role")
        if not user.is_active:
            user.is_active = True
            changed.append("activated")
        if not user.first_name:
            user.first_name = full_name
            changed.append("name")
        if created or not user.check_password(password):
            user.set_password(password)
            changed.append("password")
        if changed:
            user.save()
        if is_staff and not user.groups.filter(name=OPS_GROUP).exists():
            user.groups.add(Group.objects.get(name=OPS_GROUP))
            if not created:
                changed.append("group")
        if created:
            return "created"
        return f"updated: {', '.join(changed)}" if changed else "unchanged"
