"""Reads for the storefront: the filtered catalog, filter choices, a stone's purchase state."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Max, Min, QuerySet
from django.db.models.expressions import RawSQL

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


# ---------------------------------------------------------------- a page of the catalog

# Carats are stored to the hundredth, so a carat range holds few distinct weights (at most
# 100 a carat): a page sorted by one of price and carats, filtered by a range of the other,
# can visit those weights one by one instead of walking the whole sort order (see
# `_carat_walk_ids`). A range of more weights than this is read the plain way.
CARAT_STEP = Decimal(1).scaleb(-Diamond._meta.get_field("carats").decimal_places)
CARAT_WALK_MAX_WEIGHTS = 2_000


class DiamondResults:
    """`diamond_list` as the catalog's paginator reads it: `queryset` (what it counts) and
    slices, each slice one page read by `diamond_page`."""

    def __init__(self, *, filters: dict, sort: str = DEFAULT_SORT):
        self.filters = filters
        self.sort = sort if sort in SORTS else DEFAULT_SORT
        self.queryset = diamond_list(filters=filters, sort=self.sort)

    def __getitem__(self, bounds: slice) -> list[Diamond]:
        if not isinstance(bounds, slice) or bounds.step is not None or bounds.stop is None:
            raise TypeError("DiamondResults reads pages: [start:stop]")
        offset = bounds.start or 0
        return diamond_page(
            filters=self.filters, sort=self.sort, offset=offset, limit=bounds.stop - offset
        )


def diamond_page(*, filters: dict, sort: str = DEFAULT_SORT, offset: int, limit: int):
    """The stones `diamond_list(filters=…, sort=…)[offset:offset + limit]`; sorted by price
    or carats, read in two steps: first the page's ids, from an index alone (the price and
    carat indexes hold every filter's column and the id), then just those rows.

    On PostgreSQL, a page sorted by price with a carat range, or sorted by carats with a
    price range, finds its ids by visiting the carat weights of the range one by one
    (`_carat_walk_ids`): price and carats rise together, so walking the sort's own index
    would read most of the catalog before it reached the range.
    """
    queryset = diamond_list(filters=filters, sort=sort)
    if limit <= 0:
        return []
    if sort not in ("price", "-price", "carats", "-carats"):
        # The newest-first index holds neither the filters nor the id: nothing to read
        # from an index alone, so the plain slice (one step fewer).
        return list(queryset[offset : offset + limit])
    ids = None
    if connection.vendor == "postgresql":
        ids = _carat_walk_ids(filters=filters, sort=sort, offset=offset, limit=limit)
    if ids is None:
        ids = queryset.values("pk")[offset : offset + limit]
    return list(queryset.filter(pk__in=ids))


def _carat_walk_ids(*, filters: dict, sort: str, offset: int, limit: int):
    """The page's ids as a subquery that visits each carat weight of the range, or None
    where the plain order is the better read (no range on the other column, or too many
    weights).

    Sorted by price with a carat range: for each weight, its first `offset + limit` stones
    in price order (an index-only scan of the carat index at that weight: a few index
    pages), then those sorted together. Sorted by carats with a price range: the weights in
    the sort's direction, each looked up for stones in the price range (again a short
    index-only scan), stopping as soon as the page is full — instead of reading, say, the
    ~700,000 bigger stones above a price range before the first that fits it.
    """
    sort = sort if sort in SORTS else DEFAULT_SORT
    by_price = sort in ("price", "-price")
    carat_range = filters.get("carat_min") is not None or filters.get("carat_max") is not None
    price_range = filters.get("price_min") is not None or filters.get("price_max") is not None
    if not (carat_range if by_price else price_range and sort in ("carats", "-carats")):
        return None
    held = Diamond.objects.filter(availability=Availability.AVAILABLE).aggregate(
        low=Min("carats"), high=Max("carats")
    )
    if held["low"] is None:
        return []
    low, high = held["low"], held["high"]
    if filters.get("carat_min") is not None:
        low = max(low, Decimal(filters["carat_min"]).quantize(CARAT_STEP, ROUND_CEILING))
    if filters.get("carat_max") is not None:
        high = min(high, Decimal(filters["carat_max"]).quantize(CARAT_STEP, ROUND_FLOOR))
    if low > high:
        return []
    first, last = int(low / CARAT_STEP), int(high / CARAT_STEP)  # weights as whole steps
    if last - first + 1 > CARAT_WALK_MAX_WEIGHTS:
        return None
    # One weight's stones under the other filters (its carat range is the walk's), in the
    # sort's order: `offset + limit` of them at most.
    at_weight = diamond_list(
        filters={**filters, "carat_min": None, "carat_max": None}, sort=sort
    ).filter(carats=RawSQL("w.weight", ()))
    key = "price_model_nzd" if by_price else "carats"
    at_weight = at_weight.values_list("pk", key)[: offset + limit]
    at_weight_sql, at_weight_params = at_weight.query.sql_with_params()
    direction = "DESC" if sort.startswith("-") else "ASC"
    # By price: all weights' candidates sorted together. By carats: the weights in order
    # (`w.step`, whose order the planner knows), so it stops at a full page.
    order = "page.key" if by_price else "w.step"
    # Only the ORM's own SQL and fixed words are written into the text; values are params.
    sql = (
        "SELECT page.id FROM ("  # noqa: S608
        "SELECT step, step * %s AS weight FROM generate_series(%s, %s) AS s(step) "
        f"ORDER BY step {direction}) AS w "
        f"CROSS JOIN LATERAL ({at_weight_sql}) AS page(id, key) "
        f"ORDER BY {order} {direction}, page.id {direction} LIMIT %s OFFSET %s"
    )
    params = (CARAT_STEP, first, last, *at_weight_params, limit, offset)
    return RawSQL(sql, params)  # noqa: S611


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
