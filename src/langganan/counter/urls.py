"""The counter's pages. One block per part of the counter; keep each block's lines together."""

from django.urls import path  # noqa: F401

app_name = "counter"

urlpatterns: list = []

# -- the counter screen: search, the card, the basket and the sale (counter.views_sale) --------

from langganan.counter import views_sale  # noqa: E402

urlpatterns += [
    path("m/<slug:slug>/kasir/", views_sale.screen, name="screen"),
    path("m/<slug:slug>/kasir/pilih/<int:pk>/", views_sale.pick, name="pick"),
    path("m/<slug:slug>/kasir/bayar/", views_sale.sale, name="sale"),
    path("m/<slug:slug>/kasir/struk/<str:key>/", views_sale.receipt, name="receipt"),
    path(
        "m/<slug:slug>/kasir/struk/<str:key>/wa/",
        views_sale.receipt_whatsapp,
        name="receipt_whatsapp",
    ),
]

# -- enrolment at the counter and self sign-up by QR (counter.views_enrol, counter.signup) -----

from langganan.counter import signup, views_enrol  # noqa: E402

urlpatterns += [
    path("m/<slug:slug>/kasir/daftar/", views_enrol.enrol, name="enrol"),
    path("m/<slug:slug>/kasir/daftar/cek/", views_enrol.enrol_check, name="enrol_check"),
    path("m/<slug:slug>/kasir/daftar/<int:pk>/", views_enrol.enrol_done, name="enrol_done"),
    path("m/<slug:slug>/kasir/poster/", views_enrol.poster_list, name="poster_list"),
    path("m/<slug:slug>/kasir/poster/<int:outlet_id>/", views_enrol.poster, name="poster"),
    path(
        "m/<slug:slug>/kasir/poster/<int:outlet_id>/baru/",
        views_enrol.poster_renew,
        name="poster_renew",
    ),
    # public: the customer's own phone, no login (see counter.signup)
    path("daftar/<slug:token>/", signup.signup, name="signup"),
    path("daftar/<slug:token>/terima-kasih/", signup.signup_thanks, name="signup_thanks"),
    path("daftar/<slug:token>/privasi/", signup.signup_privacy, name="signup_privacy"),
    path("kartu/<str:token>/", signup.card, name="card"),
]

# -- the open tabs (kasbon) and the end-of-day summary (counter.views_tab, counter.day) --------

from langganan.counter import views_tab  # noqa: E402

urlpatterns += [
    path("m/<slug:slug>/kasbon/", views_tab.tab_list, name="tab_list"),
    path("m/<slug:slug>/kasbon/<int:pk>/", views_tab.tab_detail, name="tab_detail"),
    path("m/<slug:slug>/kasbon/<int:pk>/bayar/", views_tab.tab_pay, name="tab_pay"),
    path("m/<slug:slug>/kasbon/<int:pk>/limit/", views_tab.tab_limit, name="tab_limit"),
    path("m/<slug:slug>/kasir/ringkasan/", views_tab.day_summary, name="day_summary"),
]
