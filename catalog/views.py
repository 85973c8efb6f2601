from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET

from catalog.forms import CatalogFilterForm
from catalog.models import Diamond
from catalog.selectors import diamond_list, diamond_purchase_state

PAGE_SIZE = 24


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 matches, so a page never counts the whole catalog.

    Past `cap` matches, `capped` is true, `count` is `cap` and the pages stop there: the
    catalog then says "10,000+ diamonds" and asks the shopper to narrow the filters.
    """

    cap = 10_000

    @cached_property
    def _counted(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap

    @property
    def count_label(self) -> str:
        return f"{self.count:,}+" if self.capped else f"{self.count:,}"


@require_GET
def diamond_list_view(request):
    form = CatalogFilterForm(request.GET or None)
    filters = form.chosen_filters()
    diamonds = diamond_list(filters=filters, sort=form.chosen_sort())
    page = CappedPaginator(diamonds, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/list.html",
        {"form": form, "page": page, "filters_active": bool(filters)},
    )


def _purchase_context(request, diamond: Diamond) -> dict:
    return {
        "diamond": diamond,
        "state": diamond_purchase_state(diamond=diamond, user=request.user),
    }


@require_GET
def diamond_detail_view(request, pk):
    diamond = get_object_or_404(Diamond, pk=pk)
    return render(request, "catalog/detail.html", _purchase_context(request, diamond))


@require_GET
@login_required
def diamond_purchase_view(request, pk):
    """The confirmation page: what the Purchase dialog shows, for browsers without script."""
    diamond = get_object_or_404(Diamond, pk=pk)
    return render(request, "catalog/purchase.html", _purchase_context(request, diamond))
