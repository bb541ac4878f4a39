"""Campaign routes, mounted at the site root (``path("", include("langganan.campaigns.urls"))``):
channel webhooks and the opt-out page under ``c/``, staff pages under ``m/<slug>/campaigns/``."""

from django.urls import path

from . import inbound, manual_views

app_name = "campaigns"

urlpatterns = [
    path("c/whatsapp/<int:account_id>/webhook", inbound.whatsapp_webhook, name="whatsapp_webhook"),
    path("c/sms/<int:account_id>/webhook", inbound.sms_webhook, name="sms_webhook"),
    path("c/optout/<str:token>/", inbound.opt_out, name="optout"),
    path("m/<slug:slug>/campaigns/manual/", manual_views.manual_list, name="manual_list"),
    path(
        "m/<slug:slug>/campaigns/manual/<int:message_id>/open/",
        manual_views.manual_open,
        name="manual_open",
    ),
]
