"""Defaults of the demo generator, kept free of heavy imports (the CLI loads them at start)."""

DEFAULT_SEED = 2024
DEFAULT_CUSTOMERS = 2000
HISTORY_MONTHS = 18
