"""The analytics engine: framework-free (no Django import anywhere in this package).

Public API is re-exported here once its modules land.
"""
