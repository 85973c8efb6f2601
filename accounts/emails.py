"""The account's emails, rendered here and put in the outbox (the worker delivers them; no
mail is sent inside a web request).

KINDS: `signup-confirm` (the link that opens a new account), `signup-existing` (someone
signed up with an address that has an account already), `password-reset`. Each address gets
at most ACCOUNT_EMAIL_LIMIT mails of one kind (3 an hour), counted in the outbox itself, so
nobody can fill a stranger's inbox through the store's forms. The outbox's
`Category.ACCOUNT_EMAIL` messages hold one-time links: the admin does not show them and their
bodies are erased once delivered.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.selectors import customer_name
from accounts.tokens import signup_token
from core.rates import rate_parse
from notifications.models import Category, Notification
from notifications.outbox import email_message_create, email_messages_sent_count, email_render

logger = logging.getLogger(__name__)

SIGNUP_CONFIRM = "signup-confirm"
SIGNUP_EXISTING = "signup-existing"
PASSWORD_RESET = "password-reset"
SUBJECTS = {
    SIGNUP_CONFIRM: "Confirm your email to open your Diamond Store account",
    SIGNUP_EXISTING: "You already have a Diamond Store account",
    PASSWORD_RESET: "Reset your Diamond Store password",
}
KINDS = tuple(SUBJECTS)


def storefront_link(path: str, **query: str) -> str:
    return f"{settings.STOREFRONT_URL}{path}" + (f"?{urlencode(query)}" if query else "")


def account_email_allowed(*, to: str, kind: str) -> bool:
    """Fewer than ACCOUNT_EMAIL_LIMIT mails of this kind went to the address in the window."""
    rate = rate_parse(settings.ACCOUNT_EMAIL_LIMIT)
    since = timezone.now() - rate.window
    return email_messages_sent_count(to=to, reference=kind, since=since) < rate.count


def _links(kind: str, user, next_url: str) -> dict:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    if kind == SIGNUP_CONFIRM:
        path = reverse("signup_confirm", args=[uid, signup_token.make_token(user)])
        return {"link": storefront_link(path, **({"next": next_url} if next_url else {}))}
    if kind == PASSWORD_RESET:
        path = reverse(
            "password_reset_confirm", args=[uid, default_token_generator.make_token(user)]
        )
        return {"link": storefront_link(path)}
    return {
        "login_url": storefront_link(reverse("login")),
        "reset_url": storefront_link(reverse("password_reset")),
    }


def account_email_send(*, kind: str, user, next_url: str = "") -> Notification | None:
    """Put the `kind` email to `user` in the outbox; None (and nothing sent) when the
    address has had its limit of that kind. Call with the user's row locked in the current
    transaction (`select_for_update`), so two requests cannot both take the last one."""
    if not account_email_allowed(to=user.email, kind=kind):
        logger.info(
            "Account email %s to user %s not sent: the address's limit is reached.", kind, user.pk
        )
        return None
    context = {
        "greeting_name": customer_name(user),
        "username": user.get_username(),
        "email": user.email,
        "shop_url": storefront_link("/"),
        "store_contact_email": settings.STORE_CONTACT_EMAIL,
        **_links(kind, user, next_url),
    }
    text, html = email_render(template=f"emails/account/{kind}", context=context)
    return email_message_create(
        to=user.email,
        subject=SUBJECTS[kind],
        text=text,
        html=html,
        reference=kind,
        category=Category.ACCOUNT_EMAIL,
    )
