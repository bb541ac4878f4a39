from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "langganan.web"
    verbose_name = "Dashboard"
