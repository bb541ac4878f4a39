"""Set-up pages: ``/setup/`` (a new business) and ``/m/<merchant>/setup/``."""

from django.urls import path

from langganan.core import views

app_name = "setup"

urlpatterns = [
    path("setup/", views.setup_start, name="start"),
    path("m/<slug:slug>/setup/", views.setup_checklist, name="checklist"),
    path("m/<slug:slug>/setup/outlets/", views.outlet_add, name="outlet_add"),
]
