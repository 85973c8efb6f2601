"""The ops admin site: Django's own, with the store's headers and the dashboard as its index."""

from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import path

from accounts.forms import AdminLoginForm
from orders.selectors.dashboard import ops_dashboard
from orders.selectors.fulfilment import fulfilment_queues
from orders.selectors.ops import attention_filter_url


class OpsAdminSite(admin.AdminSite):
    site_header = "Diamond store ops"
    site_title = "Diamond store ops"
    index_title = "Ops dashboard"
    # The dashboard needs the width for its columns; the index and breadcrumbs navigate.
    enable_nav_sidebar = False
    # The shop's log-in throttle (accounts.throttle), on the admin's log-in too.
    login_form = AdminLoginForm

    def index(self, request, extra_context=None):
        """What needs ops now and how the store is doing, for those who may see orders."""
        context = dict(extra_context or {})
        if request.user.has_perm("orders.view_order"):
            context["dashboard"] = ops_dashboard()
            context["fulfilment_queues"] = fulfilment_queues()
            context["supplier_days"] = settings.SUPPLIER_DAYS
            context["attention_url"] = attention_filter_url()
        return super().index(request, context)

    def get_urls(self):
        # Ahead of Django's own `view_on_site`, which answers 500 to an id its model cannot
        # take (e.g. "12" for a UUID key).
        view_on_site = path(
            "r/<path:content_type_id>/<path:object_id>/",
            self.admin_view(self.view_on_site),
            name="view_on_site",
        )
        return [view_on_site, *super().get_urls()]

    def view_on_site(self, request, content_type_id, object_id):
        """The object's page on the site; 404 for an id that is not the model's kind of key."""
        try:
            return shortcut(request, content_type_id, object_id)
        except ValidationError:
            raise Http404("No such object.") from None
