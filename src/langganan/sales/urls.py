"""Data pages under ``/m/<merchant>/data/``."""

from django.urls import path

from langganan.sales import import_views, views

app_name = "data"

urlpatterns = [
    path("m/<slug:slug>/data/export/", views.export_page, name="export"),
    path(
        "m/<slug:slug>/data/export/<str:what>.<str:fmt>",
        views.export_file,
        name="export_file",
    ),
    path(
        "m/<slug:slug>/data/export/<int:job_id>/download/",
        views.export_download,
        name="export_download",
    ),
    path("m/<slug:slug>/data/import/", import_views.import_page, name="import"),
    path("m/<slug:slug>/data/import/<int:job_id>/", import_views.job_page, name="import_job"),
    path(
        "m/<slug:slug>/data/import/<int:job_id>/status.json",
        import_views.job_status,
        name="import_status",
    ),
    path(
        "m/<slug:slug>/data/import/<int:job_id>/cancel/",
        import_views.job_cancel,
        name="import_cancel",
    ),
    path(
        "m/<slug:slug>/data/import/<int:job_id>/errors.csv",
        import_views.job_errors,
        name="import_errors",
    ),
    path(
        "m/<slug:slug>/data/import/<int:job_id>/rejects.csv",
        import_views.job_rejects,
        name="import_rejects",
    ),
]
