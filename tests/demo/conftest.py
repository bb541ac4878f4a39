"""Shared simulations for the demo tests (pure numpy, built once per session)."""

import numpy as np
import pytest

from langganan.demo.btyd import BGNBDParams, simulate_bgnbd

SEED = 11


@pytest.fixture(scope="session")
def histories():
    return simulate_bgnbd(20_000, BGNBDParams(), horizon_days=548, rng=np.random.default_rng(SEED))
