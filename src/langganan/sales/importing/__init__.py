"""Import customers and transactions from CSV and Excel files."""

from langganan.sales.importing.common import ImportReport, RowError
from langganan.sales.importing.customers import customers_import
from langganan.sales.importing.transactions import transactions_import

__all__ = ["ImportReport", "RowError", "customers_import", "transactions_import"]
