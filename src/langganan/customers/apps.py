from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "langganan.customers"
    verbose_name = "Pelanggan"
