"""The shopper's account: Django's auth views in the store's templates
(templates/registration/), sign-up with a confirmed email, and the account page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/login/", views.ShopLoginView.as_view(), name="login"),
    path("accounts/logout/", views.ShopLogoutView.as_view(), name="logout"),
    path("accounts/signup/", views.signup_view, name="signup"),
    path("accounts/signup/done/", views.signup_done_view, name="signup_done"),
    path(
        "accounts/signup/confirm/<uidb64>/<token>/",
        views.signup_confirm_view,
        name="signup_confirm",
    ),
    path("accounts/welcome/", views.welcome_view, name="signup_welcome"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password_reset/", views.ShopPasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/", views.account_view, name="account"),
    path("account/delete/", views.account_delete_view, name="account_delete"),
    path("account/deleted/", views.account_deleted_view, name="account_deleted"),
]
