"""The project's URLs with the campaign routes mounted at the root, as config/urls.py will."""

from django.urls import include, path

from langganan.config.urls import urlpatterns as project_urlpatterns

_mounted = any(getattr(p, "namespace", None) == "campaigns" for p in project_urlpatterns)
urlpatterns = [
    *project_urlpatterns,
    *([] if _mounted else [path("", include("langganan.campaigns.urls"))]),
]
