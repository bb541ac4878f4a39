"""Dashboard pages for campaigns, mounted at the site root: ``m/<slug>/campaigns/…``."""

from django.urls import path

from . import channel_views, views

app_name = "campaigns_web"

PREFIX = "m/<slug:slug>/campaigns/"

urlpatterns = [
    path(PREFIX, views.campaign_list, name="campaign_list"),
    path(f"{PREFIX}channels/", channel_views.channels, name="channels"),
    path(
        f"{PREFIX}channels/<str:channel>/",
        channel_views.channel_save,
        name="channel_save",
    ),
    path(
        f"{PREFIX}channels/<str:channel>/test/",
        channel_views.channel_test,
        name="channel_test",
    ),
    path(f"{PREFIX}new/", views.campaign_create, name="campaign_create"),
    path(f"{PREFIX}<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path(f"{PREFIX}<int:pk>/preview/", views.campaign_preview, name="campaign_preview"),
    path(f"{PREFIX}<int:pk>/activate/", views.campaign_activate, name="campaign_activate"),
    path(f"{PREFIX}<int:pk>/pause/", views.campaign_pause, name="campaign_pause"),
    path(f"{PREFIX}audiences/", views.audience_list, name="audience_list"),
    path(f"{PREFIX}audiences/new/", views.audience_create, name="audience_create"),
    path(f"{PREFIX}audiences/<int:pk>/edit/", views.audience_edit, name="audience_edit"),
    path(f"{PREFIX}templates/", views.template_list, name="template_list"),
    path(f"{PREFIX}templates/new/", views.template_create, name="template_create"),
    path(f"{PREFIX}templates/<int:pk>/", views.template_detail, name="template_detail"),
]
