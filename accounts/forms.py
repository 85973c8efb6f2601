from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from accounts.services import (
    client_ip,
    login_failure_record,
    login_failures_clear,
    login_throttled,
)

EMAIL_TAKEN = (
    "An account with this email already exists. Log in, or reset your password if you have "
    "forgotten it."
)


def email_in_use(email: str) -> bool:
    return get_user_model().objects.filter(email__iexact=email).exists()


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        label="Email",
        help_text="For your order confirmations and password resets.",
        max_length=254,
        required=True,
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if email_in_use(email):
            raise forms.ValidationError(EMAIL_TAKEN, code="email_taken")
        return email


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's log-in form, refusing to check passwords after too many failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": (
            "Too many unsuccessful attempts to log in to this account from here. For your "
            "security, please wait %(wait)s and try again — or reset your password."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password")
        ip = client_ip(self.request) if self.request is not None else "unknown"
        if username and password:
            limit = login_throttled(username=username, ip=ip)
            if limit is not None:
                raise forms.ValidationError(
                    self.error_messages["throttled"],
                    code="throttled",
                    params={
                        "wait": "a minute" if limit.minutes == 1 else f"{limit.minutes} minutes"
                    },
                )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username and password:
                login_failure_record(username=username, ip=ip)
            raise
        if username:
            login_failures_clear(username=username, ip=ip)
        return cleaned
