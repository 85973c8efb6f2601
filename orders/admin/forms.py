from django import forms


class RefundForm(forms.Form):
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


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="Resolution note",
        help_text="What was done and why no further action is needed. Kept in the timeline.",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )
