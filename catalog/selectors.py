"""Reads for the storefront: the filtered catalog, filter choices, a stone's purchase state."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import QuerySet

from catalog.models import (
    CLARITY_SCALE,
    COLOR_SCALE,
    CUT_SCALE,
    LAB_ORDER,
    SHAPE_ORDER,
    Availability,
    Diamond,
    Origin,
)

# Sort keys and their orderings; each leads with a column of an (availability, …) index.
SORTS = {
    "price": ("price_model_nzd", "id"),
    "-price": ("-price_model_nzd", "-id"),
    "carats": ("carats", "id"),
    "-carats": ("-carats", "-id"),
    "newest": ("-created_at", "-id"),
}
DEFAULT_SORT = "price"


def diamond_list(*, filters: dict, sort: str = DEFAULT_SORT) -> QuerySet[Diamond]:
    """Available stones with a retail price, filtered and sorted for the catalog.

    `filters` may hold `origin` (`natural` or `lab_grown`), `shape` (one or a list: any of),
    `carat_min`, `carat_max`, `price_min`, `price_max` (NZD, on `price_model_nzd`, bounds
    inclusive), lists `color`, `clarity`, `cut` (any of; the form turns grade ranges into
    these lists) and `lab`. Empty values are ignored. An unknown `sort` falls back to price,
    lowest first.
    """
    qs = Diamond.objects.filter(availability=Availability.AVAILABLE, price_model_nzd__isnull=False)
    origin = filters.get("origin")
    if origin in (Origin.NATURAL, Origin.LAB_GROWN):
        qs = qs.filter(lab_grown=origin == Origin.LAB_GROWN)
    shapes = filters.get("shape")
    if isinstance(shapes, str):
        shapes = [shapes]
    shapes = [shape for shape in shapes or () if shape]
    if shapes:
        qs = qs.filter(shape__in=list(shapes)) if len(shapes) > 1 else qs.filter(shape=shapes[0])
    for key, lookup in (
        ("carat_min", "carats__gte"),
        ("carat_max", "carats__lte"),
        ("price_min", "price_model_nzd__gte"),
        ("price_max", "price_model_nzd__lte"),
    ):
        if filters.get(key) is not None:
            qs = qs.filter(**{lookup: filters[key]})
    for field in ("color", "clarity", "cut"):
        values = filters.get(field)
        if values:
            qs = qs.filter(**{f"{field}__in": list(values)})
    if filters.get("lab"):
        qs = qs.filter(lab=filters["lab"])
    return qs.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def diamonds_by_ids(ids) -> list[Diamond]:
    """The stones with these ids (any availability), in the order of `ids`; unknown ids are
    left out."""
    found = {str(d.pk): d for d in Diamond.objects.filter(pk__in=list(ids))}
    return [found[str(pk)] for pk in ids if str(pk) in found]


def _scale_sorted(values, scale) -> list[str]:
    rank = {value: i for i, value in enumerate(scale)}
    return sorted((v for v in values if v), key=lambda v: (rank.get(v.upper(), len(rank)), v))


FILTER_SCALES = {
    "shape": SHAPE_ORDER,
    "color": COLOR_SCALE,
    "clarity": CLARITY_SCALE,
    "cut": CUT_SCALE,
    "lab": LAB_ORDER,
}


FILTER_VALUES_CACHE_KEY = "catalog:filter-values"
FILTER_VALUES_CACHE_SECONDS = 300


def _available_filter_values() -> dict[str, list[str]]:
    """The distinct shapes, grades and labs of the available stones, cached for a few
    minutes: five DISTINCT scans of the catalog would otherwise run on every catalog page."""
    values = cache.get(FILTER_VALUES_CACHE_KEY)
    if values is None:
        available = Diamond.objects.filter(availability=Availability.AVAILABLE).order_by()
        values = {
            field: sorted(v for v in available.values_list(field, flat=True).distinct() if v)
            for field in FILTER_SCALES
        }
        cache.set(FILTER_VALUES_CACHE_KEY, values, FILTER_VALUES_CACHE_SECONDS)
    return values


def diamond_filter_values_forget() -> None:
    """Drop the cached filter choices, so the next catalog page reads them from the stock."""
    cache.delete(FILTER_VALUES_CACHE_KEY)


def diamond_filter_values(*, keep: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """The shapes and grades present in the available stock, in grading order.

    Read from a cache of at most `FILTER_VALUES_CACHE_SECONDS`, which every import that changes
    stones clears (in the web workers too only when `CACHES` is shared between processes), so
    a grade sold out by checkouts meanwhile can stay offered until then: filtering by it then
    finds nothing.

    Values in `keep` (what the shopper asked for) stay offered when they are on the standard
    scale, even once sold out: a saved search then finds nothing instead of failing.
    """
    keep = keep or {}
    available = _available_filter_values()
    result = {}
    for field, scale in FILTER_SCALES.items():
        values = set(available[field])
        values.update(v for v in keep.get(field, ()) if v in scale)
        result[field] = _scale_sorted(values, scale)
    return result


# ---------------------------------------------------------------- compare

COMPARE_SESSION_KEY = "compare"
COMPARE_LIMIT = 4


def compare_ids(*, session) -> list[str]:
    """The ids of the stones the shopper is comparing (kept in the session), oldest first."""
    ids = session.get(COMPARE_SESSION_KEY, [])
    return [str(pk) for pk in ids] if isinstance(ids, list) else []
