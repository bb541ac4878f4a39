"""Customer pages under ``/m/<merchant>/customers/``."""

from django.urls import path

from langganan.customers import views

app_name = "customers"

urlpatterns = [
    path("m/<slug:slug>/customers/", views.customer_list, name="customer_list"),
    path(
        "m/<slug:slug>/customers/export.<str:fmt>",
        views.customer_list_export,
        name="customer_list_export",
    ),
    path("m/<slug:slug>/customers/find/", views.customer_lookup, name="customer_lookup"),
    path("m/<slug:slug>/customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("m/<slug:slug>/customers/<int:pk>/card/", views.member_card, name="member_card"),
    path(
        "m/<slug:slug>/customers/<int:pk>/card.<str:fmt>",
        views.member_card_image,
        name="member_card_image",
    ),
]
