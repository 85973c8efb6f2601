from django.contrib.auth.password_validation import UserAttributeSimilarityValidator
from django.core.exceptions import ValidationError


class NameSimilarityValidator(UserAttributeSimilarityValidator):
    """Django's similarity check, calling `first_name` what the store keeps in it: the
    shopper's whole name ("too similar to the name", not "to the first name")."""

    def validate(self, password, user=None):
        try:
            super().validate(password, user)
        except ValidationError as error:
            if getattr(error, "params", None) and error.params.get("verbose_name") == "first name":
                error.params["verbose_name"] = "name"
            raise
