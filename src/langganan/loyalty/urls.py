"""Loyalty pages under ``/m/<merchant>/loyalty/``."""

from django.urls import path

from langganan.loyalty import views

app_name = "loyalty"

urlpatterns = [
    path("m/<slug:slug>/loyalty/program/", views.program, name="program"),
    path("m/<slug:slug>/loyalty/tiers/", views.tiers, name="tiers"),
]
