"""Reads about accounts: the customer's name, log-in lookups, what stands in the way of a
deletion."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from accounts import signals

DELETED_CUSTOMER = "Deleted customer"
STAFF_DELETION = (
    "Staff accounts are closed by an administrator, so that the record of what they did "
    "stays readable."
)


def deleted_username(user_id: int) -> str:
    """The username a deleted account keeps: its id, nothing of the person."""
    return f"deleted-{user_id}"


def account_is_deleted(user) -> bool:
    return user.pk is not None and user.get_username() == deleted_username(user.pk)


def account_awaiting_confirmation(user) -> bool:
    """Signed up, but the link in the confirmation email was never followed: the account
    is inactive and has never been logged in to."""
    return not user.is_active and user.last_login is None and not account_is_deleted(user)


def customer_name(user) -> str:
    """The customer's name, as every email and page addresses them: the full name given at
    sign-up, else (an account made without one, e.g. staff) the username, and "Deleted
    customer" once the account is deleted."""
    if account_is_deleted(user):
        return DELETED_CUSTOMER
    return user.get_full_name().strip() or user.get_username()


def user_for_login(identifier: str):
    """The account an identifier typed at a log-in form names: an email address (any case)
    or a username (exact). None when no account matches."""
    users = get_user_model()._default_manager
    identifier = identifier.strip()
    if "@" in identifier:
        user = users.filter(email__iexact=identifier).first()
        if user is not None:
            return user
    return users.filter(username=identifier).first()


def account_deletion_blockers(*, user) -> list[str]:
    """Why `user`'s account cannot be deleted now, in the shopper's words; [] when it can.
    The apps that keep data about the shopper answer through `signals.deletion_blockers`."""
    reasons = [STAFF_DELETION] if user.is_staff else []
    for _receiver, answer in signals.deletion_blockers.send(sender=type(user), user=user):
        reasons.extend(answer or [])
    return reasons
