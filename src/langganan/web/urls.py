from django.contrib.auth import views as auth_views
from django.urls import path

from langganan.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("m/<slug:slug>/", views.merchant_home, name="merchant_home"),
    path("m/<slug:slug>/customers/", views.customer_list, name="customer_list"),
    path("m/<slug:slug>/customers/find/", views.customer_lookup, name="customer_lookup"),
    path("m/<slug:slug>/customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("m/<slug:slug>/customers/<int:pk>/card/", views.member_card, name="member_card"),
    path(
        "m/<slug:slug>/customers/<int:pk>/card.<str:fmt>",
        views.member_card_image,
        name="member_card_image",
    ),
]
