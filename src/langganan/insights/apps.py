from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "langganan.insights"
    verbose_name = "Wawasan"
