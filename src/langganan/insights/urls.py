"""Insight pages, mounted at the site root under ``m/<slug>/insights/``."""

from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("m/<slug:slug>/insights/accuracy/", views.accuracy, name="accuracy"),
]
