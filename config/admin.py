"""The ops admin site: Django's own, with the store's headers and the dashboard as its index."""

from django.contrib import admin

from accounts.forms import AdminLoginForm
from orders.selectors.dashboard import ops_dashboard
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
            context["attention_url"] = attention_filter_url()
        return super().index(request, context)
