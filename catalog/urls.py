from django.contrib.flatpages import views as flatpage_views
from django.urls import path, re_path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.diamond_list_view, name="list"),
    path("diamonds/<uuid:pk>/", views.diamond_detail_view, name="detail"),
    path("diamonds/<uuid:pk>/purchase/", views.diamond_purchase_view, name="purchase"),
    path("compare/", views.compare_view, name="compare"),
    path("compare/add/", views.compare_add_view, name="compare-add"),
    path("compare/remove/", views.compare_remove_view, name="compare-remove"),
    path("guide/", views.guide_view, name="guide"),
    # Content pages (shipping, returns, …): flatpages whose URL is /pages/<name>/.
    re_path(r"^(?P<url>pages/[\w-]+/)$", flatpage_views.flatpage, name="page"),
]
