"""The ops admin site: Django's own, with the store's headers and the dashboard as its index."""

from django.contrib import admin


class OpsAdminSite(admin.AdminSite):
    site_header = "Diamond store ops"
    site_title = "Diamond store ops"
    index_title = "Ops dashboard"
    # The dashboard needs the width for its columns; the index and breadcrumbs navigate.
    enable_nav_sidebar = False
