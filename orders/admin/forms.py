from decimal import Decimal, InvalidOperation

from django import forms
from django.core.validators import MaxValueValidator


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount to refund (NZD)",
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Leave as it is to refund the rest of the payment.",
    )
    release_diamond = forms.TypedChoiceField(
        label="The diamond",
        choices=[
            ("yes", "Release it back to the catalog (available to other shoppers)"),
            ("no", "Keep it reserved"),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=500
    )

    def __init__(self, *args, rest_cents: int = 0, partial: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.rest_cents = rest_cents
        if not partial:
            del self.fields["amount"]
        else:
            rest = (Decimal(rest_cents) / 100).quantize(Decimal("0.01"))
            amount = self.fields["amount"]
            amount.initial = rest
            amount.max_value = rest
            amount.validators.append(MaxValueValidator(rest))
            amount.widget.attrs["max"] = str(rest)

    def clean(self):
        data = super().clean()
        if "amount" in self.fields:
            amount = data.get("amount")
            try:
                cents = None if amount is None else int((amount * 100).to_integral_exact())
            except InvalidOperation:
                cents = None
            # The whole rest is "None": the service refunds what is left, whatever it is.
            data["amount_cents"] = None if cents in (None, self.rest_cents) else cents
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        help_text="Why the order is cancelled. Kept in the timeline.",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=500,
    )


class ResolveForm(forms.Form):
    """`money`: "release" (a held card) or "refund" (money taken) when the customer's money is
    still with the store and no supplier order exists: then the form asks what happens to it."""

    money = forms.ChoiceField(label="The customer's money", widget=forms.RadioSelect)
    note = forms.CharField(
        label="Resolution note",
        help_text="What was done and why no further action is needed. Kept in the timeline.",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )

    def __init__(self, *args, money: str | None = None, amount: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if money is None:
            del self.fields["money"]
            return
        give_back = {
            "release": f"Release the hold of {amount}: cancel the order, nothing is charged",
            "refund": f"Refund {amount} in full: cancel the order",
        }[money]
        self.fields["money"].choices = [
            (money, give_back),
            ("keep", "Keep it (say why in the note)"),
        ]


# ---------------------------------------------------------------- the stone's way


class ReceiveStoneForm(forms.Form):
    checked = forms.BooleanField(
        label="The stone matches its grading report (inscription, weight, grades)",
        required=True,
    )
    note = forms.CharField(
        label="Note",
        help_text="Optional: anything seen on checking it. Kept in the timeline.",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=500,
        required=False,
    )


class ShipForm(forms.Form):
    carrier = forms.ChoiceField(label="Carrier", choices=())
    tracking_number = forms.CharField(label="Tracking number", max_length=100)

    def __init__(self, *args, carriers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].choices = list(carriers)

    def clean_tracking_number(self):
        number = self.cleaned_data["tracking_number"].strip()
        if not number:
            raise forms.ValidationError("Enter the carrier's tracking number.")
        return number


class ApproveReturnForm(forms.Form):
    note = forms.CharField(
        label="Note",
        help_text="Optional. Kept in the timeline; the customer is emailed how to send the "
        "stone back.",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=500,
        required=False,
    )


class ReceiveReturnForm(forms.Form):
    restock = forms.TypedChoiceField(
        label="The returned stone",
        choices=[
            ("yes", "Put it back on sale (available to other shoppers)"),
            ("no", "Keep it off sale (it goes back to the supplier, or needs a look)"),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note",
        help_text="Optional: the state it came back in. Kept in the timeline.",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=500,
        required=False,
    )
