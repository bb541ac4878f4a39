"""Fixtures for the BTYD model tests: the CDNOW sample shipped with the ``lifetimes`` package.

The files are located without importing ``lifetimes`` (its import fails with recent pandas).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest


def _lifetimes_datasets() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the lifetimes package (CDNOW sample data) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets"


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    """CDNOW calibration summary: 2,357 customers, 39 weeks, time unit weeks."""
    df = pd.read_csv(_lifetimes_datasets() / "cdnow_customers_summary.csv")
    assert len(df) == 2357
    return df


@pytest.fixture(scope="session")
def cdnow_spend() -> pd.DataFrame:
    """CDNOW summary with the average repeat spend ``zbar`` (columns ID, x, t_x, T, zbar)."""
    df = pd.read_csv(_lifetimes_datasets() / "cdnow_customers_summary_with_transactions.csv")
    assert len(df) == 2357
    return df
