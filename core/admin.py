"""Small pieces the apps' admins share."""

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html


class ReadOnlyPermissions:
    """For records that are history (logs, timelines, orders): shown, never edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyModelAdmin(ReadOnlyPermissions, admin.ModelAdmin):
    pass


def admin_link(obj, label) -> str:
    """A link to `obj`'s admin page, or the plain label when it has none."""
    if obj is None:
        return "—"
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return label
    return format_html('<a href="{}">{}</a>', url, label)
