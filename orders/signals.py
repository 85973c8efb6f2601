"""What the order announces to the layers above it (payments listens)."""

from django.dispatch import Signal

# The supplier confirmed an order whose payment is only authorised: capture it now. Sent
# inside the transaction that recorded the confirmation (a receiver may enqueue durably).
supplier_confirmed_authorized_order = Signal()
