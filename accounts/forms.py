from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordMixin

from accounts.tasks import password_reset_mail
from accounts.throttle import (
    client_ip,
    login_account,
    login_failure_record,
    login_failures_clear,
    login_throttled,
)
from core.tasks import enqueue_durably

THROTTLED = (
    "Too many unsuccessful attempts to log in to this account from here. For your security, "
    "please wait %(wait)s and try again — or reset your password."
)
LOGIN_LABEL = "Email or username"


def _wait_words(minutes: int) -> str:
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def throttled_error(rate) -> forms.ValidationError:
    return forms.ValidationError(
        THROTTLED, code="throttled", params={"wait": _wait_words(rate.minutes)}
    )


class ThrottledLoginMixin:
    """Django's log-in form (the shop's or the admin's), refusing to check passwords once an
    account or an address has used up its failures (`accounts.throttle`), and taking an
    email address as well as a username (`accounts.backends`)."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = LOGIN_LABEL

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password")
        if not (username and password):
            return super().clean()
        account = login_account(username)
        ip = client_ip(self.request) if self.request is not None else "unknown"
        limit = login_throttled(account=account, ip=ip)
        if limit is not None:
            raise throttled_error(limit)
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            login_failure_record(account=account, ip=ip)
            raise
        login_failures_clear(account=account, ip=ip)
        return cleaned


class ShopLoginForm(ThrottledLoginMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter a correct email address (or username) and password. The password "
            "is case-sensitive."
        ),
    }


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's log-in (`/admin/login/`), throttled like the shop's."""


class SignupForm(SetPasswordMixin, forms.Form):
    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        help_text="How we address you, and the name we ship to unless you give another.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="You log in with it, and your order confirmations go to it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1, password2 = SetPasswordMixin.create_password_fields()

    def clean_full_name(self):
        return " ".join(self.cleaned_data["full_name"].split())

    def clean_email(self):
        return get_user_model().objects.normalize_email(self.cleaned_data["email"].strip())

    def clean(self):
        self.validate_passwords()
        applicant = get_user_model()(
            first_name=self.cleaned_data.get("full_name", ""),
            email=self.cleaned_data.get("email", ""),
        )
        self.validate_password_for_user(applicant)
        return self.cleaned_data


class StorePasswordResetForm(PasswordResetForm):
    def save(self, **kwargs):
        """Queue the reset mail for the worker — also, empty, for an address no account has,
        so the request does the same work whatever the address. Nothing is rendered or sent
        here (Django's own `save` sends the mail in the request)."""
        user = next(iter(self.get_users(self.cleaned_data["email"])), None)
        enqueue_durably(password_reset_mail, user_id=user.pk if user is not None else None)


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="To be sure it is you.",
    )

    def __init__(self, *args, user, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.request = user, request

    def clean_password(self):
        password = self.cleaned_data["password"]
        account, ip = login_account(self.user.get_username()), client_ip(self.request)
        limit = login_throttled(account=account, ip=ip)
        if limit is not None:
            raise throttled_error(limit)
        if not self.user.check_password(password):
            login_failure_record(account=account, ip=ip)
            raise forms.ValidationError("That is not your password.", code="password_incorrect")
        return password
