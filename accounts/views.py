from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views


class StorePasswordResetView(auth_views.PasswordResetView):
    """Django's reset, with the link on the store's own address (STOREFRONT_URL), like every
    other link the store sends, not the sites framework's placeholder domain."""

    html_email_template_name = "registration/password_reset_email.html"
    email_template_name = "registration/password_reset_email.txt"

    def form_valid(self, form):
        storefront = urlsplit(settings.STOREFRONT_URL)
        self.domain_override = storefront.netloc
        self.extra_email_context = {
            **(self.extra_email_context or {}),
            "site_name": "Diamond Store",
        }
        form.save(
            domain_override=storefront.netloc,
            use_https=storefront.scheme == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=self.html_email_template_name,
            extra_email_context=self.extra_email_context,
        )
        return super(auth_views.PasswordResetView, self).form_valid(form)
