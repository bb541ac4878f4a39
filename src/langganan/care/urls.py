"""The complaint pages (``/m/<merchant>/keluhan/``) and the public feedback page."""

from django.urls import path

from . import views, views_figures, views_photos

app_name = "care"

urlpatterns = [
    path("m/<slug:slug>/keluhan/", views.complaint_list, name="complaint_list"),
    path("m/<slug:slug>/keluhan/baru/", views.complaint_create_view, name="complaint_create"),
    path(
        "m/<slug:slug>/keluhan/baru/pelanggan/<int:pk>/",
        views.complaint_create_for,
        name="complaint_create_for",
    ),
    path("m/<slug:slug>/keluhan/kategori/", views.categories, name="categories"),
    path(
        "m/<slug:slug>/keluhan/<int:complaint_id>/",
        views.complaint_detail,
        name="complaint_detail",
    ),
    path(
        "m/<slug:slug>/keluhan/<int:complaint_id>/catatan/",
        views.complaint_note_view,
        name="complaint_note",
    ),
    path(
        "m/<slug:slug>/keluhan/<int:complaint_id>/status/",
        views.complaint_status_view,
        name="complaint_status",
    ),
    path(
        "m/<slug:slug>/keluhan/<int:complaint_id>/tugaskan/",
        views.complaint_assign_view,
        name="complaint_assign",
    ),
    path(
        "m/<slug:slug>/keluhan/<int:complaint_id>/pemulihan/",
        views.complaint_recover_view,
        name="complaint_recover",
    ),
    path(
        "m/<slug:slug>/keluhan/<int:complaint_id>/balas/",
        views.complaint_reply_view,
        name="complaint_reply",
    ),
    path(
        "m/<slug:slug>/keluhan/<int:complaint_id>/foto/",
        views_photos.complaint_photo_add,
        name="complaint_photo_add",
    ),
    path(
        "m/<slug:slug>/keluhan/<int:complaint_id>/foto/<int:photo_id>/",
        views_photos.complaint_photo,
        name="complaint_photo",
    ),
    path(
        "m/<slug:slug>/keluhan/<int:complaint_id>/refund/",
        views_photos.complaint_refund_view,
        name="complaint_refund",
    ),
    path("m/<slug:slug>/keluhan/angka/", views_figures.figures, name="figures"),
    path("m/<slug:slug>/keluhan/pesan/", views.inbound_list, name="inbound_list"),
    path("m/<slug:slug>/keluhan/ulasan/", views.feedback_list, name="feedback_list"),
    path(
        "m/<slug:slug>/keluhan/pesan/<int:inbound_id>/jadikan-keluhan/",
        views.inbound_complaint,
        name="inbound_complaint",
    ),
    # public: the customer's own phone, no login (see care.feedback)
    path("ulasan/<str:token>/", views.feedback, name="feedback"),
]
