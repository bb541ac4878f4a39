from django.apps import AppConfig


class CounterConfig(AppConfig):
    name = "langganan.counter"
    verbose_name = "Kasir"
    default_auto_field = "django.db.models.BigAutoField"
