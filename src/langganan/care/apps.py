from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "langganan.care"
    verbose_name = "Keluhan & saran"
    default_auto_field = "django.db.models.BigAutoField"
