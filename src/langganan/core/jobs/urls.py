"""The jobs page, mounted at the site root under ``m/<slug>/jobs/``."""

from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("m/<slug:slug>/jobs/", views.job_list, name="list"),
    path("m/<slug:slug>/jobs/<str:name>/run/", views.job_run, name="run"),
]
