from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "langganan.privacy"
    verbose_name = "Data pribadi & audit"
