from django.contrib import admin
from django.urls import include, path

handler403 = "langganan.web.access.permission_denied"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("langganan.api.urls")),
    path("", include("langganan.campaigns.urls")),
    path("", include("langganan.web.urls")),
    path("", include("langganan.customers.urls")),
    path("", include("langganan.campaigns.web_urls")),
    path("", include("langganan.insights.urls")),
    path("", include("langganan.core.jobs.urls")),
    path("", include("langganan.staff.urls")),
    path("", include("langganan.privacy.urls")),
    path("", include("langganan.counter.urls")),
    path("", include("langganan.sales.urls")),
    path("", include("langganan.core.urls")),
    path("", include("langganan.loyalty.urls")),
    path("", include("langganan.care.urls")),
]
