"""Money as people read it. Amounts are kept in minor units (cents), as Stripe keeps them."""

from __future__ import annotations


def money_display(cents: int | None, currency: str = "nzd", *, code: bool = True) -> str:
    """`123456` → `$1,234.56 NZD` (`code=False`: `$1,234.56`); a missing amount is $0.00."""
    amount = f"${(cents or 0) / 100:,.2f}"
    return f"{amount} {currency.upper()}" if code else amount
