"""Log in with an email address or a username: Django's own ModelBackend, told which
account an email address (any case) belongs to first."""

from django.contrib.auth.backends import ModelBackend

from accounts.selectors import user_for_login


class EmailOrUsernameBackend(ModelBackend):
    """ModelBackend keeps everything else: the password check, refusing inactive accounts,
    and hashing a password even for an unknown account (so timing tells nothing)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username:
            user = user_for_login(username)
            if user is not None:
                username = user.get_username()
        return super().authenticate(request, username=username, password=password, **kwargs)
