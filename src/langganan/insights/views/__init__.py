"""The insights app's pages, one module each: how accurate the predictions are (accuracy) and
the overview (Ringkasan, the landing page of owners and managers)."""

from .accuracy import accuracy
from .overview import overview

__all__ = ["accuracy", "overview"]
