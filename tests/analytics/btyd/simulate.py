"""Simulators of the BTYD models, used by the parameter-recovery tests and the benchmark."""

from __future__ import annotations

import numpy as np


def simulate_bg_nbd(
    rng: np.random.Generator, n: int, r: float, alpha: float, a: float, b: float, t_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, recency and T of ``n`` customers drawn from the BG/NBD model."""
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    arrivals = rng.poisson(lam * t_end)
    # The customer drops out right after repeat purchase number `last` (geometric on 1, 2, ...).
    last = rng.geometric(np.clip(p, 1e-12, 1.0))
    x = np.minimum(arrivals, last)
    # Given `arrivals` purchases in (0, T], the x-th is the x-th uniform order statistic.
    rec = np.where(x > 0, t_end * rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1)), 0.0)
    return x.astype(float), rec, t_end


def simulate_pareto_nbd(
    rng: np.random.Generator,
    n: int,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    t_end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, recency and T of ``n`` customers drawn from the Pareto/NBD model."""
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    life = np.minimum(rng.exponential(1.0 / mu), t_end)
    x = rng.poisson(lam * life)
    rec = np.where(x > 0, life * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    return x.astype(float), rec, t_end


def simulate_gamma_gamma(
    rng: np.random.Generator, x: np.ndarray, p: float, q: float, gamma: float
) -> np.ndarray:
    """Average spend over ``x`` transactions (0 where ``x == 0``) from the Gamma-Gamma model."""
    nu = rng.gamma(q, 1.0 / gamma, len(x))
    xs = np.maximum(x, 1)
    mean = rng.gamma(p * xs, 1.0 / (nu * xs))
    return np.where(x > 0, mean, 0.0)
