from decimal import Decimal

from django import forms

from catalog.selectors import DEFAULT_SORT, FILTER_SCALES, diamond_filter_values
from catalog.templatetags.store import grade_label, shape_label

SORT_CHOICES = [
    ("price", "Price: low to high"),
    ("-price", "Price: high to low"),
    ("carats", "Carat: small to large"),
    ("-carats", "Carat: large to small"),
    ("newest", "Newest first"),
]


class CatalogFilterForm(forms.Form):
    """The catalog's GET filters. Invalid input is reported and left out of the query.

    Shape is a single choice; color, clarity and cut are multiple choices (any of those
    ticked). Carat and price bounds are inclusive; price is the retail price in NZD.
    """

    shape = forms.ChoiceField(required=False)
    carat_min = forms.DecimalField(
        label="Min carat", required=False, min_value=Decimal("0"), max_digits=6, decimal_places=2
    )
    carat_max = forms.DecimalField(
        label="Max carat", required=False, min_value=Decimal("0"), max_digits=6, decimal_places=2
    )
    price_min = forms.DecimalField(
        label="Min price (NZD)",
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
    )
    price_max = forms.DecimalField(
        label="Max price (NZD)",
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
    )
    color = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    clarity = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    cut = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORT_CHOICES)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        requested = {
            field: self.data.getlist(field) if hasattr(self.data, "getlist") else []
            for field in FILTER_SCALES
        }
        values = diamond_filter_values(keep=requested)
        self.fields["shape"].choices = [("", "Any shape")] + [
            (v, shape_label(v)) for v in values["shape"]
        ]
        self.fields["color"].choices = [(v, v) for v in values["color"]]
        self.fields["clarity"].choices = [(v, v) for v in values["clarity"]]
        self.fields["cut"].choices = [(v, grade_label(v)) for v in values["cut"]]

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

    def chosen_filters(self) -> dict:
        """The valid filters only: a field with invalid input is left out."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "sort" and value not in (None, "", [])
        }

    def chosen_sort(self) -> str:
        if not self.is_bound:
            return DEFAULT_SORT
        self.is_valid()
        return self.cleaned_data.get("sort") or DEFAULT_SORT
