"""The link in the sign-up confirmation email: Django's password-reset tokens, salted for
this one purpose. A token is spent once the account is logged in to (its hash covers the
last log-in) or signed up for again (a new password); it lasts PASSWORD_RESET_TIMEOUT."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class SignupTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "accounts.tokens.SignupTokenGenerator"


signup_token = SignupTokenGenerator()
