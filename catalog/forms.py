"""The catalog's GET filters: the SPEC's shareable query parameters.

    origin          natural | lab_grown
    shape           repeatable (any of)
    carat_min/max   inclusive, in carats
    price_min/max   inclusive, the retail price in NZD
    color_min/max   a range on the best-first colour scale (D, E, F, …)
    clarity_min/max a range on the best-first clarity scale (FL, IF, VVS1, …)
    cut_min         the lowest cut grade accepted ("VG": Very Good or better)
    lab             GIA, IGI, HRD, …
    sort            price | -price | carats | -carats | newest
    view            grid | list

Grade ranges: `_min` is the start of the range on the best-first scale (the best grade
wanted) and `_max` its end (the lowest grade accepted); either may be left out (the scale's
end), and two given the wrong way round are read as the same range. `cut_min` is a floor.

Invalid input never fails the page: the field is reported in calm words and left out.
"""

import re
from decimal import Decimal

from django import forms

from catalog.models import (
    CLARITY_SCALE,
    COLOR_SCALE,
    CUT_SCALE,
    LAB_ORDER,
    SHAPE_ORDER,
    Origin,
)
from catalog.selectors import DEFAULT_SORT, diamond_filter_values
from catalog.templatetags.store import grade_label, shape_label

SORT_CHOICES = [
    ("price", "Price: low to high"),
    ("-price", "Price: high to low"),
    ("carats", "Carat: small to large"),
    ("-carats", "Carat: large to small"),
    ("newest", "Newest first"),
]
VIEW_CHOICES = [("grid", "Grid"), ("list", "List")]
DEFAULT_VIEW = "grid"

# What the grade scales mean, one line each (shown beside the controls and in the guide).
GRADE_HELP = {
    "origin": "Lab-grown diamonds are real diamonds grown in a lab; natural ones formed "
    "in the earth. Both are graded the same way.",
    "shape": "The outline of the stone seen from above.",
    "carat": "Weight: one carat is 0.2 g. Size grows more slowly than weight.",
    "price": "In New Zealand dollars, the price you pay.",
    "color": "D is colourless and rarest; by K a warm tint shows. D to F are colourless, "
    "G to J near colourless.",
    "clarity": "How few inclusions the stone has: FL flawless, VVS hard to find even "
    "under magnification, VS minor, SI visible under a loupe.",
    "cut": "How well the facets return light: the grade that most decides sparkle.",
    "lab": "Who graded the stone: the certificate can be checked on the lab's site.",
}

# The colour scale offered in the form (D to M); the rest of D to Z is accepted in a URL.
COLOR_CHOICES = COLOR_SCALE[:10]
CUT_CHOICES = (
    ("ID", "Ideal"),
    ("EX", "Excellent"),
    ("VG", "Very Good"),
    ("GD", "Good"),
    ("F", "Fair"),
)
# Equal grades spelled two ways count as one step on the cut scale.
CUT_RANK = {"ID": 0, "EX": 1, "VG": 2, "G": 3, "GD": 3, "F": 4, "FR": 4, "P": 5, "PR": 5}
assert set(CUT_RANK) == set(CUT_SCALE)

INVALID_CHOICE = "“%(value)s” isn't one of the options, so it was left out."


def _choice(label: str, **kwargs) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        error_messages={"invalid_choice": INVALID_CHOICE},
        **kwargs,
    )


# HTML's "valid floating-point number", the only kind of value a number input may carry.
_HTML_NUMBER = re.compile(r"-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?")


class NumberBox(forms.NumberInput):
    """A number input that shows back only a number: a word typed into the URL (`?price_max=
    abc`) is left out of its `value`, and the field's error says what was wrong."""

    def format_value(self, value):
        value = super().format_value(value)
        return value if value is not None and _HTML_NUMBER.fullmatch(str(value)) else None


def _bound(label: str, *, places: int, digits: int, step: str, example: str):
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal("0"),
        max_digits=digits,
        decimal_places=places,
        error_messages={
            "invalid": f"Enter a number, like {example}.",
            "min_value": "Enter a number of 0 or more.",
            "max_digits": "That number is too large.",
            "max_decimal_places": "Use at most %(max)s decimal places.",
            "max_whole_digits": "That number is too large.",
        },
        widget=NumberBox(
            attrs={"step": step, "min": "0", "inputmode": "decimal", "placeholder": "Any"}
        ),
    )


def grade_range(scale, low: str, high: str) -> list[str] | None:
    """The grades from `low` to `high` on a best-first scale (either may be empty; any
    order); None when the range is the whole scale (no filter)."""
    if not low and not high:
        return None
    first = scale.index(low) if low else 0
    last = scale.index(high) if high else len(scale) - 1
    first, last = min(first, last), max(first, last)
    if first == 0 and last == len(scale) - 1:
        return None
    return list(scale[first : last + 1])


class CatalogFilterForm(forms.Form):
    origin = _choice(
        "Origin",
        choices=[("", "Natural and lab-grown"), *Origin.choices],
        widget=forms.RadioSelect,
    )
    shape = forms.MultipleChoiceField(
        label="Shape",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": INVALID_CHOICE},
    )
    carat_min = _bound("Min carat", places=2, digits=6, step="0.01", example="0.50")
    carat_max = _bound("Max carat", places=2, digits=6, step="0.01", example="2.00")
    price_min = _bound("Min price (NZD)", places=2, digits=12, step="1", example="1000")
    price_max = _bound("Max price (NZD)", places=2, digits=12, step="1", example="20000")
    color_min = _choice("Colour from", choices=[("", "Any")] + [(c, c) for c in COLOR_SCALE])
    color_max = _choice("Colour to", choices=[("", "Any")] + [(c, c) for c in COLOR_SCALE])
    clarity_min = _choice("Clarity from", choices=[("", "Any")] + [(c, c) for c in CLARITY_SCALE])
    clarity_max = _choice("Clarity to", choices=[("", "Any")] + [(c, c) for c in CLARITY_SCALE])
    cut_min = _choice(
        "Cut at least",
        choices=[("", "Any")] + [(c, grade_label(c)) for c in CUT_SCALE],
    )
    lab = _choice("Lab")
    sort = _choice("Sort by", choices=SORT_CHOICES)
    view = _choice("View", choices=VIEW_CHOICES)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        requested = {
            field: self.data.getlist(field) if hasattr(self.data, "getlist") else []
            for field in ("shape", "lab")
        }
        values = diamond_filter_values(keep=requested)
        shapes = list(SHAPE_ORDER) + [v for v in values["shape"] if v not in SHAPE_ORDER]
        self.fields["shape"].choices = [(v, shape_label(v)) for v in shapes]
        asked = [v for v in requested["lab"] if v in LAB_ORDER]
        labs = list(dict.fromkeys([*values["lab"], *asked]))
        self.fields["lab"].choices = [("", "Any lab")] + [(v, v) for v in labs]
        # The selects offer the usual grades; a URL may use any grade on the scale.
        self.fields["color_min"].widget.choices = [("", "Any")] + [(c, c) for c in COLOR_CHOICES]
        self.fields["color_max"].widget.choices = [("", "Any")] + [(c, c) for c in COLOR_CHOICES]
        for name in ("color_min", "color_max"):
            chosen = self.data.get(name) if hasattr(self.data, "get") else None
            if chosen in COLOR_SCALE and chosen not in COLOR_CHOICES:
                self.fields[name].widget.choices.append((chosen, chosen))
        self.fields["cut_min"].widget.choices = [("", "Any"), *CUT_CHOICES]

    def clean(self):
        cleaned = super().clean()
        for low, high, what in (
            ("carat_min", "carat_max", "carat"),
            ("price_min", "price_max", "price"),
        ):
            lo, hi = cleaned.get(low), cleaned.get(high)
            if lo is not None and hi is not None and lo > hi:
                self.add_error(high, f"The maximum {what} must not be below the minimum.")
        return cleaned

    def _cleaned(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        return self.cleaned_data

    def chosen_filters(self) -> dict:
        """The valid filters only, as `diamond_list` takes them: a field with invalid input
        is left out; grade ranges become lists of grades."""
        data = self._cleaned()
        filters = {}
        if data.get("origin"):
            filters["origin"] = data["origin"]
        if data.get("shape"):
            filters["shape"] = list(data["shape"])
        for name in ("carat_min", "carat_max", "price_min", "price_max"):
            if data.get(name) is not None:
                filters[name] = data[name]
        for field, scale in (("color", COLOR_SCALE), ("clarity", CLARITY_SCALE)):
            grades = grade_range(scale, data.get(f"{field}_min"), data.get(f"{field}_max"))
            if grades:
                filters[field] = grades
        if data.get("cut_min"):
            floor = CUT_RANK[data["cut_min"]]
            filters["cut"] = [grade for grade, rank in CUT_RANK.items() if rank <= floor]
        if data.get("lab"):
            filters["lab"] = data["lab"]
        return filters

    def chosen_sort(self) -> str:
        return self._cleaned().get("sort") or DEFAULT_SORT

    def chosen_view(self) -> str:
        return self._cleaned().get("view") or DEFAULT_VIEW
