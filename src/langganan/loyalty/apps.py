from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "langganan.loyalty"
    verbose_name = "Loyalitas"
