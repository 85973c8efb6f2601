"""Account operations: sign-up and its confirmation, the password-reset mail, deletion.

Sign-up never says whether an address has an account: every valid sign-up answers "check
your inbox", and the mail tells the address's owner what happened — a link that opens the
new account, or (when the address has an account already) how to log in or reset the
password. Both paths hash the password, which is most of the request's time, and only
write to the outbox, so neither the answer nor its timing tells the two apart.

A new account waits, inactive, for its confirmation link; until then signing up again with
the same address replaces its details and sends a new link. Usernames are derived from the
address (shoppers log in with their email; the username also works).
"""

from __future__ import annotations

import logging
import re

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from accounts import signals
from accounts.emails import (
    PASSWORD_RESET,
    SIGNUP_CONFIRM,
    SIGNUP_EXISTING,
    account_email_allowed,
    account_email_send,
)
from accounts.selectors import (
    account_awaiting_confirmation,
    account_deletion_blockers,
    deleted_username,
)
from accounts.tokens import signup_token
from notifications.outbox import email_messages_erase

logger = logging.getLogger(__name__)

USERNAME_MAX = 140  # of Django's 150, leaving room for a number
USERNAME_UNSAFE = re.compile(r"[^\w.+-]")
SIGNUP_ATTEMPTS = 3  # two sign-ups racing for one address or one username: try again


class AccountDeletionRefused(Exception):
    def __init__(self, reasons: list[str]):
        super().__init__(" ".join(reasons))
        self.reasons = reasons


def username_derive(email: str) -> str:
    """A free username from the address's local part (`aroha.ngata@…` → `aroha.ngata`, then
    `aroha.ngata2`, …), compared without case. Never `deleted-…` (deleted accounts' names)."""
    base = USERNAME_UNSAFE.sub("", email.rsplit("@", 1)[0]).lower()[:USERNAME_MAX] or "shopper"
    if base.startswith("deleted-"):
        base = f"shopper-{base}"[:USERNAME_MAX]
    users = get_user_model()._default_manager
    taken = {
        name.lower()
        for name in users.filter(username__istartswith=base).values_list("username", flat=True)
    }
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}{number}", number + 1
    return candidate


def signup_request(*, full_name: str, email: str, password: str, next_url: str = "") -> None:
    """Open (or re-send) a sign-up for `email`, or tell the address's owner that someone tried.
    `next_url` (already checked safe) is where the confirmation link leads after the welcome."""
    password_hash = make_password(password)
    for attempt in range(1, SIGNUP_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                _signup(
                    full_name=full_name, email=email, password_hash=password_hash, next_url=next_url
                )
            return
        except IntegrityError:
            if attempt == SIGNUP_ATTEMPTS:
                raise
            logger.info("Sign-up for a new address raced another; trying again.")


def _signup(*, full_name: str, email: str, password_hash: str, next_url: str) -> None:
    users = get_user_model()._default_manager
    user = users.select_for_update().filter(email__iexact=email).first()
    if user is not None and not account_awaiting_confirmation(user):
        account_email_send(kind=SIGNUP_EXISTING, user=user)
        return
    if not account_email_allowed(to=email, kind=SIGNUP_CONFIRM):
        # The links already sent stay valid: the account is left as they knew it.
        logger.info("Sign-up not sent again: the address's limit of confirmation mails is reached.")
        return
    if user is None:
        user = get_user_model()(username=username_derive(email), is_active=False)
    user.first_name, user.last_name = full_name, ""
    user.email = email
    user.password = password_hash
    user.save()
    account_email_send(kind=SIGNUP_CONFIRM, user=user, next_url=next_url)


def signup_confirm(*, uidb64: str, token: str):
    """The account the link opens, now active; None for a link that is wrong, spent or
    expired (or for an account that is no longer waiting)."""
    try:
        user_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    with transaction.atomic():
        user = get_user_model()._default_manager.select_for_update().filter(pk=user_id).first()
        if user is None or not account_awaiting_confirmation(user):
            return None
        if not signup_token.check_token(user, token):
            return None
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


def password_reset_mail_send(*, user_id: int) -> bool:
    """Put the reset mail for the account in the outbox (the worker's half of a reset);
    False when the account cannot log in or its address had its limit of reset mails."""
    with transaction.atomic():
        user = get_user_model()._default_manager.select_for_update().filter(pk=user_id).first()
        if user is None or not user.is_active or not user.has_usable_password() or not user.email:
            return False
        return account_email_send(kind=PASSWORD_RESET, user=user) is not None


def account_delete(*, user) -> None:
    """Erase or anonymise everything personal the store keeps about `user`, in one
    transaction: the apps above erase their own data (`signals.personal_data_erase`), the
    outbox forgets every email to the address, and the user row stays (orders refer to it)
    as an inactive "Deleted customer" with nothing of the person. Raises
    AccountDeletionRefused while something stands in the way (an order in progress)."""
    users = get_user_model()._default_manager
    with transaction.atomic():
        user = users.select_for_update().get(pk=user.pk)
        reasons = account_deletion_blockers(user=user)
        if reasons:
            raise AccountDeletionRefused(reasons)
        signals.personal_data_erase.send(sender=type(user), user=user)
        email_messages_erase(to=user.email)
        anonymous = deleted_username(user.pk)
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(user), object_id=str(user.pk)
        ).update(object_repr=anonymous)
        user.username = anonymous
        user.first_name = user.last_name = user.email = ""
        user.set_unusable_password()
        user.is_active = user.is_staff = user.is_superuser = False
        user.save()
        user.groups.clear()
        user.user_permissions.clear()
    logger.info("Account %s deleted at its owner's request.", user.pk)
