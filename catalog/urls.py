from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.diamond_list_view, name="list"),
    path("diamonds/<uuid:pk>/", views.diamond_detail_view, name="detail"),
    path("diamonds/<uuid:pk>/purchase/", views.diamond_purchase_view, name="purchase"),
]
