"""Diamonds as ops see them: the feed's data, read-only. A stone comes from its feed and goes
back to it; by hand ops may only withdraw one from sale, and a stone with orders is never
deleted (its orders need it)."""

from django.contrib import admin, messages
from django.contrib.humanize.templatetags.humanize import intcomma

from catalog.availability import MOVES
from catalog.models import Diamond
from catalog.services import diamond_move
from core.admin import SelectionCheckedModelAdmin

# A stone on sale or on hold may be withdrawn (the availability table's `withdraw`); a
# reserved or sold one belongs to an order.


def _nzd(amount) -> str:
    return "—" if amount is None else f"${intcomma(f'{amount:.2f}')} NZD"


@admin.register(Diamond)
class DiamondAdmin(SelectionCheckedModelAdmin):
    list_display = (
        "supplier_stone_id",
        "feed",
        "shape",
        "carats",
        "origin",
        "color",
        "clarity",
        "cut",
        "lab",
        "certificate_number",
        "retail_price",
        "supplier_cost",
        "availability",
        "updated_at",
    )
    list_filter = ("feed", "availability", "lab_grown", "shape", "color", "clarity", "lab")
    search_fields = ("=supplier_stone_id", "=offer_id", "=certificate_number")
    search_help_text = "Exact supplier stone id, offer id or certificate number."
    ordering = ("feed", "supplier_stone_id")
    list_per_page = 50
    show_full_result_count = False
    actions = ["withdraw"]

    def get_readonly_fields(self, request, obj=None):
        # Every field is the feed's: an edit here would be overwritten by the next import
        # or disagree with the supplier.
        return [field.name for field in Diamond._meta.concrete_fields]

    def has_add_permission(self, request):
        return False  # stones come from `import_feed`

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.orders.exists():
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        """Bulk delete leaves alone any stone that has orders (the admin's own check refuses
        those too; this is the last word)."""
        kept = queryset.filter(orders__isnull=False).distinct()
        if kept.exists():
            self.message_user(
                request,
                f"Not deleted, they have orders: {', '.join(str(d) for d in kept)}. "
                "Withdraw them instead.",
                messages.WARNING,
            )
        super().delete_queryset(request, queryset.exclude(pk__in=kept.values("pk")))

    @admin.action(
        description="Withdraw from sale (availability: unavailable)", permissions=["change"]
    )
    def withdraw(self, request, queryset):
        withdrawable = MOVES["withdraw"].source
        diamonds = list(queryset.filter(availability__in=withdrawable))
        skipped = list(
            queryset.exclude(availability__in=withdrawable).values_list(
                "supplier_stone_id", "availability"
            )
        )
        # Conditional: a stone reserved by a checkout meanwhile is left alone.
        withdrawn = diamond_move(diamonds=[d.pk for d in diamonds], move="withdraw")
        for diamond in diamonds:
            self.log_change(request, diamond, "Withdrawn from sale (availability: unavailable).")
        stones = [d.supplier_stone_id for d in diamonds]
        if withdrawn:
            self.message_user(
                request,
                f"Withdrew {withdrawn} stone(s) from sale: {', '.join(stones)}. The next feed "
                "import puts a stone back if the supplier still lists it as available.",
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                "Left as they are (reserved or sold belong to an order; unavailable already): "
                + ", ".join(f"{stone} ({state})" for stone, state in skipped),
                messages.WARNING,
            )

    @admin.display(description="Origin", ordering="lab_grown")
    def origin(self, obj: Diamond) -> str:
        return obj.origin_label

    @admin.display(description="Retail price", ordering="price_model_nzd")
    def retail_price(self, obj: Diamond) -> str:
        return _nzd(obj.price_model_nzd)

    @admin.display(description="Supplier cost", ordering="price_nzd")
    def supplier_cost(self, obj: Diamond) -> str:
        return _nzd(obj.price_nzd)
