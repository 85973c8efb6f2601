from django.contrib import admin
from django.urls import include, path

from config import views
from monitoring import views as monitoring_views

urlpatterns = [
    path("", include("catalog.urls")),
    path("", include("orders.urls")),
    path("", include("payments.urls")),
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("metrics", monitoring_views.metrics, name="metrics"),
]
