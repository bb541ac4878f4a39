from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "langganan.api"
    label = "api"
    verbose_name = "API POS"
