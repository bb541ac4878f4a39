from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "langganan.staff"
    verbose_name = "Staf & keamanan masuk"
    default_auto_field = "django.db.models.BigAutoField"
