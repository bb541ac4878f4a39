from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "langganan.core"
    verbose_name = "Usaha & outlet"
