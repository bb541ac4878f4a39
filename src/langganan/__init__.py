"""Langganan: CRM and loyalty for Indonesian merchants."""

__version__ = "0.1.0"
