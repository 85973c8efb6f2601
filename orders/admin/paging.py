"""The orders list's default order, needs-attention first and then newest, without sorting
every order.

Ordering by the needs-attention flag (a CASE over every rule) makes PostgreSQL compute it for
each row and sort the whole table for each page. Instead a page is read from two ordered
slices: the orders that need attention (few), newest first, then the others, newest first —
the second walks the `created_at` index and stops at the page's end. Same rows, same order.
"""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import Paginator

DEFAULT_ORDER = ("-attention_first", "-created_at")


class AttentionFirst:
    """A sequence over `queryset` (annotated with `attention_first`) in the default order."""

    ordered = True

    def __init__(self, queryset, *, attention_count: int | None = None):
        self.queryset = queryset
        if attention_count is not None:  # already counted for the banner
            self.__dict__["attention_count"] = attention_count
        newest = queryset.order_by("-created_at", "-pk")
        self.attention = newest.filter(attention_first=True)
        self.others = newest.filter(attention_first=False)

    def count(self) -> int:
        return self.queryset.order_by().count()

    @cached_property
    def attention_count(self) -> int:
        return self.attention.order_by().count()

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        split = self.attention_count
        rows = []
        if start < split:
            rows += list(self.attention[start : min(stop, split)])
        if stop > split:
            rows += list(self.others[max(start - split, 0) : stop - split])
        return rows


def uses_default_order(queryset) -> bool:
    return tuple(queryset.query.order_by[: len(DEFAULT_ORDER)]) == DEFAULT_ORDER


class OrdersPaginator(Paginator):
    """`attention_count`: how many of all orders need attention, when already known; used
    only when the list is not filtered (then it is the same number)."""

    def __init__(self, object_list, *args, attention_count: int | None = None, **kwargs):
        if hasattr(object_list, "query") and uses_default_order(object_list):
            unfiltered = not object_list.query.where
            object_list = AttentionFirst(
                object_list, attention_count=attention_count if unfiltered else None
            )
        super().__init__(object_list, *args, **kwargs)
