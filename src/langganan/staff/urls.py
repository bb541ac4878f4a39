"""The staff page, mounted at the site root under ``m/<slug>/staff/``."""

from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("m/<slug:slug>/staff/", views.staff_list, name="list"),
    path("m/<slug:slug>/staff/add/", views.staff_add, name="add"),
    path("m/<slug:slug>/staff/<int:pk>/unlock/", views.staff_unlock_view, name="unlock"),
    path("m/<slug:slug>/staff/two-factor/", views.two_factor, name="two_factor"),
    path("login/code/", views.login_code, name="login_code"),
]
