"""The counter's pages. One block per part of the counter; keep each block's lines together."""

from django.urls import path  # noqa: F401

app_name = "counter"

urlpatterns: list = []

# -- the counter screen: search, the card, the basket and the sale (counter.views_sale) --------

# -- enrolment at the counter and self sign-up by QR (counter.views_enrol, counter.signup) -----

# -- the open tabs (kasbon) and the end-of-day summary (counter.views_tab, counter.day) --------
