from django.contrib import admin
from django.contrib.humanize.templatetags.humanize import intcomma

from catalog.models import Diamond


def _nzd(amount) -> str:
    return "—" if amount is None else f"${intcomma(f'{amount:.2f}')} NZD"


@admin.register(Diamond)
class DiamondAdmin(admin.ModelAdmin):
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
    readonly_fields = ("id", "created_at", "updated_at")
    ordering = ("feed", "supplier_stone_id")
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description="Origin", ordering="lab_grown")
    def origin(self, obj: Diamond) -> str:
        return obj.origin_label

    @admin.display(description="Retail price", ordering="price_model_nzd")
    def retail_price(self, obj: Diamond) -> str:
        return _nzd(obj.price_model_nzd)

    @admin.display(description="Supplier cost", ordering="price_nzd")
    def supplier_cost(self, obj: Diamond) -> str:
        return _nzd(obj.price_nzd)
