"""What an account announces to the apps above it that keep data about its owner.

`accounts` sits below `orders` and `payments` and imports neither; when its owner asks to be
forgotten, those apps answer through these signals (their receivers are connected in their
own `AppConfig.ready`).
"""

from django.dispatch import Signal

# Asked before an account is deleted (and to show the account page): each receiver returns
# a list of reasons, in the shopper's words, why the account must stay for now (e.g. an
# order still in progress); an empty list when nothing stands in the way. Kwargs: `user`.
deletion_blockers = Signal()

# Sent inside the deletion's transaction, with the user row locked and still holding the
# person's details: each receiver erases or anonymises its app's personal data about `user`
# (what the law requires to be kept stays). Raising rolls the whole deletion back.
personal_data_erase = Signal()
