"""Insight pages, mounted at the site root under ``m/<slug>/insights/``."""

from django.urls import path

from . import views, views_market

app_name = "insights"

urlpatterns = [
    path("m/<slug:slug>/insights/accuracy/", views.accuracy, name="accuracy"),
    path("m/<slug:slug>/insights/target/", views_market.target_settings, name="target"),
    path("m/<slug:slug>/insights/market/", views_market.market, name="market"),
    path("m/<slug:slug>/insights/worth/", views_market.worth, name="worth"),
    path("m/<slug:slug>/insights/worth/refresh/", views_market.worth_refresh, name="worth_refresh"),
    path("m/<slug:slug>/insights/worth/spend/", views_market.worth_spend, name="worth_spend"),
]
