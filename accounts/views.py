from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST, require_safe

from accounts.forms import AccountDeleteForm, ShopLoginForm, SignupForm, StorePasswordResetForm
from accounts.selectors import account_deletion_blockers
from accounts.services import AccountDeletionRefused, account_delete, signup_confirm, signup_request
from core.http import safe_next_url

BACKEND = "accounts.backends.EmailOrUsernameBackend"


class SafeNextMixin:
    """Django's auth views, with `next` read by the store's one helper (core.http)."""

    def get_redirect_url(self):
        return safe_next_url(self.request, default="")


class ShopLoginView(SafeNextMixin, auth_views.LoginView):
    authentication_form = ShopLoginForm
    redirect_authenticated_user = True

    def get_redirect_url(self):
        """Never the log-in page itself: a logged-in visitor sent back to it would loop
        (Django refuses that with an error)."""
        url = super().get_redirect_url()
        return "" if urlsplit(url).path == self.request.path else url


class ShopLogoutView(SafeNextMixin, auth_views.LogoutView):
    pass


class ShopPasswordResetView(auth_views.PasswordResetView):
    """Django's reset page; the mail goes from the worker (StorePasswordResetForm)."""

    form_class = StorePasswordResetForm


def _after_login_default() -> str:
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password1", "password2")
@never_cache
def signup_view(request):
    """Every valid sign-up answers "check your inbox"; the mail says what happened."""
    if request.user.is_authenticated:
        return HttpResponseRedirect(safe_next_url(request, default=_after_login_default()))
    next_url = safe_next_url(request, default="")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        signup_request(
            full_name=form.cleaned_data["full_name"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            next_url=next_url,
        )
        return HttpResponseRedirect(reverse("signup_done"))
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


@require_safe
def signup_done_view(request):
    return render(request, "registration/signup_done.html")


@never_cache
@require_safe
def signup_confirm_view(request, uidb64, token):
    """The link in the confirmation mail: opens the account, logs it in, welcomes it."""
    user = signup_confirm(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "registration/signup_confirm_invalid.html", status=400)
    login(request, user, backend=BACKEND)
    next_url = safe_next_url(request, default="")
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    return HttpResponseRedirect(reverse("signup_welcome") + query)


@require_safe
@login_required
def welcome_view(request):
    return render(
        request, "registration/welcome.html", {"next": safe_next_url(request, default="")}
    )


def _account_page(request, *, form, status=200):
    return render(
        request,
        "accounts/account.html",
        {
            "form": form,
            "blockers": account_deletion_blockers(user=request.user),
            "store_contact_email": settings.STORE_CONTACT_EMAIL,
        },
        status=status,
    )


@require_safe
@login_required
def account_view(request):
    return _account_page(request, form=AccountDeleteForm(user=request.user, request=request))


@sensitive_post_parameters("password")
@require_POST
@login_required
def account_delete_view(request):
    form = AccountDeleteForm(request.POST, user=request.user, request=request)
    if not form.is_valid():
        return _account_page(request, form=form)
    try:
        account_delete(user=request.user)
    except AccountDeletionRefused:
        return _account_page(request, form=form, status=409)
    logout(request)
    return HttpResponseRedirect(reverse("account_deleted"))


@require_safe
def account_deleted_view(request):
    return render(request, "accounts/deleted.html")
