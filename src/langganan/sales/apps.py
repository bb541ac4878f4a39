from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "langganan.sales"
    verbose_name = "Penjualan"
