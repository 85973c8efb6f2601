from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST, require_safe

from catalog.forms import GRADE_HELP, CatalogFilterForm
from catalog.models import Diamond
from catalog.selectors import (
    COMPARE_LIMIT,
    DiamondResults,
    compare_ids,
    diamonds_by_ids,
)
from catalog.services import CompareFull, compare_add, compare_clear, compare_remove
from core.http import safe_next_url

PAGE_SIZE = 24
# The catalog's own query parameters: all a "back to results" link may carry.
CATALOG_PARAMETERS = (*CatalogFilterForm.base_fields, "page")


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 matches, so a page never counts the whole catalog.

    Past `cap` matches, `capped` is true, `count` is `cap` and the pages stop there: the
    catalog then says "10,000+ diamonds" and asks the shopper to narrow the filters.
    Takes a queryset, or `DiamondResults` (counted by its queryset, paged by its slices).
    """

    cap = 10_000

    @cached_property
    def _counted(self) -> int:
        queryset = getattr(self.object_list, "queryset", self.object_list)
        return queryset.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap

    @property
    def count_label(self) -> str:
        return f"{self.count:,}+" if self.capped else f"{self.count:,}"


def catalog_query(query: QueryDict | str) -> str:
    """The catalog's own parameters of a query string, re-encoded (anything else dropped):
    what "back to results" links carry, never a foreign URL."""
    if isinstance(query, str):
        query = QueryDict(query[:2000])
    kept = QueryDict(mutable=True)
    for name in CATALOG_PARAMETERS:
        values = [v for v in query.getlist(name) if v][:20]
        if values:
            kept.setlist(name, values)
    return kept.urlencode()


def _page_notice(raw: str | None, page) -> str:
    if not raw or raw == str(page.number):
        return ""
    return f"There is no page “{raw[:20]}” of these results, so page {page.number} is shown."


@require_safe
def diamond_list_view(request):
    form = CatalogFilterForm(request.GET or None)
    filters = form.chosen_filters()
    diamonds = DiamondResults(filters=filters, sort=form.chosen_sort())
    raw_page = request.GET.get("page")
    page = CappedPaginator(diamonds, PAGE_SIZE).get_page(raw_page)
    query = catalog_query(request.GET)
    return render(
        request,
        "catalog/list.html",
        {
            "form": form,
            "page": page,
            "filters_active": bool(filters),
            "view": form.chosen_view(),
            "back_query": query,
            "page_notice": _page_notice(raw_page, page),
            "help": GRADE_HELP,
            "compare_ids": compare_ids(session=request.session),
            "compare_limit": COMPARE_LIMIT,
        },
    )


@require_safe
def diamond_detail_view(request, pk):
    diamond = get_object_or_404(Diamond, pk=pk)
    back = catalog_query(request.GET.get("back", ""))
    return render(
        request,
        "catalog/detail.html",
        {
            "diamond": diamond,
            "back_query": back,
            "results_url": reverse("catalog:list") + (f"?{back}" if back else ""),
            "compare_ids": compare_ids(session=request.session),
            "compare_limit": COMPARE_LIMIT,
            "help": GRADE_HELP,
        },
    )


@require_safe
@login_required
def diamond_purchase_view(request, pk):
    """The confirmation page: what the Purchase dialog shows, for browsers without script."""
    diamond = get_object_or_404(Diamond, pk=pk)
    return render(request, "catalog/purchase.html", {"diamond": diamond})


# ---------------------------------------------------------------- compare


@require_safe
def compare_view(request):
    diamonds = diamonds_by_ids(compare_ids(session=request.session))
    return render(
        request,
        "catalog/compare.html",
        {
            "diamonds": diamonds,
            "compare_limit": COMPARE_LIMIT,
            "back_query": catalog_query(request.GET.get("back", "")),
        },
    )


def _posted_diamond(request) -> Diamond | None:
    try:
        return Diamond.objects.filter(pk=request.POST.get("diamond", "")).first()
    except ValidationError:
        return None


@require_POST
def compare_add_view(request):
    diamond = _posted_diamond(request)
    if diamond is None:
        messages.warning(request, "That diamond could not be found, so it was not added.")
        return HttpResponseRedirect(safe_next_url(request, default=reverse("catalog:compare")))
    try:
        ids = compare_add(session=request.session, diamond=diamond)
    except CompareFull:
        messages.warning(
            request,
            f"You can compare up to {COMPARE_LIMIT} diamonds. Remove one on the compare "
            "page first.",
        )
    else:
        messages.success(
            request,
            f"The {diamond.shape.title()} {diamond.carats}ct diamond is in your comparison "
            f"({len(ids)} of {COMPARE_LIMIT}).",
        )
    return HttpResponseRedirect(safe_next_url(request, default=reverse("catalog:compare")))


@require_POST
def compare_remove_view(request):
    if request.POST.get("all"):
        compare_clear(session=request.session)
        messages.success(request, "Your comparison is empty.")
    else:
        compare_remove(session=request.session, diamond_id=request.POST.get("diamond", ""))
        messages.success(request, "Removed from your comparison.")
    return HttpResponseRedirect(safe_next_url(request, default=reverse("catalog:compare")))


# ---------------------------------------------------------------- content


@require_safe
def guide_view(request):
    return render(request, "catalog/guide.html", {"help": GRADE_HELP})
