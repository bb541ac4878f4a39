"""Privacy pages, mounted at the site root under ``m/<slug>/``."""

from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("m/<slug:slug>/privacy/", views.privacy_home, name="home"),
    path(
        "m/<slug:slug>/privacy/requests/<int:pk>/close/",
        views.request_close,
        name="request_close",
    ),
    path("m/<slug:slug>/audit/", views.audit_list, name="audit"),
    path("m/<slug:slug>/customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path(
        "m/<slug:slug>/customers/<int:pk>/data.<str:fmt>",
        views.customer_export,
        name="customer_export",
    ),
    path("m/<slug:slug>/customers/<int:pk>/erase/", views.customer_erase, name="customer_erase"),
]
