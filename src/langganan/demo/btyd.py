"""The demo's "buy till you die" draws: a mix of MBG/CNBD-k buyers, pure numpy.

Each customer follows the MBG/CNBD-k process of Platzer & Reutterer (2016), "Ticking away the
moments", Marketing Science 35(5) (``k = 1`` is the MBG/NBD of Batislam, Denizel & Filiztekin
2007):

* the first purchase ("joining") falls uniformly over the period;
* after *every* purchase, the first one included, the customer drops out for good with
  probability ``p`` (unlike BG/NBD, where nobody leaves before their second purchase, so a
  one-time buyer of long ago would still be alive);
* while alive, the gaps between purchases are Erlang-``k`` with mean ``1 / λ`` days (``k``
  exponential phases of rate ``k λ`` each): ``k = 1`` is a Poisson buyer, ``k > 1`` a regular
  one who comes back at a steady rhythm (coefficient of variation ``1 / √k`` of the gaps);
* ``λ`` (purchases per day) varies across customers as Gamma(shape ``r``, rate ``α``, in days)
  and ``p`` as Beta(``a``, ``b``), the same for both kinds of buyer;
* a share ``regular_share`` of the customers (the office workers, "karyawan kantor") are
  regular with ``k = regular_k``, the others have ``k = 1``.

So each kind on its own is an exact MBG/CNBD-k population: the Poisson buyers with parameters
``(r, α, a, b)``, the regular ones with ``(r, α / k, a, b)`` (the phase rate ``k λ`` is
Gamma(``r``, ``α / k``)); the whole demo is their mixture.

An optional daily ``intensity`` (mean 1) modulates the pace: the process runs in operational
time τ(t) = ∫ m(s) ds, so λ keeps its meaning of purchases per average day, and a season's busy
days bring the next purchase of every customer forward. Without it the output is an exact
sample of the mixture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PurchaseParams:
    """Heterogeneity of purchase rates (Gamma r, α in days), of dropout (Beta a, b) and of
    regularity (a share of Erlang-``regular_k`` buyers).

    The defaults make a plausible neighbourhood café: a mean of about one visit a month, a
    median customer with a few visits in 18 months, many who tried it once or twice and did not
    come back, a long tail of weekly regulars, and about 30 % office workers who come at a steady
    rhythm.
    """

    r: float = 0.75
    alpha: float = 15.0
    a: float = 1.2
    b: float = 7.0
    regular_share: float = 0.3
    regular_k: int = 3

    @property
    def lambda_mean(self) -> float:
        return self.r / self.alpha

    @property
    def p_mean(self) -> float:
        return self.a / (self.a + self.b)


@dataclass(frozen=True)
class PurchaseHistories:
    """The simulated truth for ``n`` customers; times are days since the start of the period."""

    params: PurchaseParams
    horizon: int  # days observed
    lam: np.ndarray  # purchases per (average) day while alive
    p: np.ndarray  # probability of dropping out after each purchase
    k: np.ndarray  # Erlang order of the gaps: 1 Poisson, > 1 regular
    times: list[np.ndarray]  # sorted purchase times per customer, the first is joining
    alive_at_end: np.ndarray

    @property
    def n_purchases(self) -> np.ndarray:
        return np.array([len(t) for t in self.times])

    @property
    def first(self) -> np.ndarray:
        return np.array([t[0] for t in self.times])

    @property
    def regular(self) -> np.ndarray:
        return self.k > 1

    @property
    def dropout(self) -> np.ndarray:
        """Time of the purchase after which the customer dropped out; NaN while alive."""
        last = np.array([t[-1] for t in self.times])
        return np.where(self.alive_at_end, np.nan, last)


def _gap_sums(rng: np.random.Generator, k: int, rate: float, remaining: float, most: int):
    """Cumulative Erlang-``k`` gaps (phase rate ``rate``) up to ``most`` of them, drawn until
    one ends past ``remaining`` (or ``most`` are drawn)."""
    mean_gap = k / rate
    sums = np.empty(0)
    offset = 0.0
    while len(sums) < most and offset <= remaining:
        expected = (remaining - offset) / mean_gap
        batch = min(most - len(sums), int(expected + 4 * math.sqrt(expected) + 8))
        gaps = rng.gamma(k, 1.0 / rate, size=batch)
        sums = np.concatenate([sums, offset + np.cumsum(gaps)])
        offset = sums[-1]
    return sums


def simulate_purchases(
    n: int,
    params: PurchaseParams,
    *,
    horizon_days: int,
    rng: np.random.Generator,
    intensity: np.ndarray | None = None,
) -> PurchaseHistories:
    """Draw ``n`` customers' λ, p, k and purchase times over ``horizon_days`` days.

    ``intensity`` (one multiplier per day, mean 1) modulates the pace; see the module notes.
    """
    if intensity is None:
        intensity = np.ones(horizon_days)
    if len(intensity) != horizon_days or np.any(intensity <= 0):
        raise ValueError("intensity needs one positive multiplier per day")
    if params.regular_k < 1 or not 0 <= params.regular_share <= 1:
        raise ValueError("regular_k must be >= 1 and regular_share within [0, 1]")
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=n)
    p = rng.beta(params.a, params.b, size=n)
    k = np.where(rng.random(n) < params.regular_share, params.regular_k, 1)
    cumulative = np.concatenate([[0.0], np.cumsum(intensity)])
    total = cumulative[-1]
    first = rng.uniform(0.0, total, size=n)
    remaining = total - first
    # the purchase after which the customer leaves, counting the first as 1
    lifetime_purchases = rng.geometric(p)
    alive = np.empty(n, dtype=bool)
    operational = []
    for i in range(n):
        most = int(min(lifetime_purchases[i] - 1, 1 << 40))
        sums = _gap_sums(rng, int(k[i]), k[i] * lam[i], remaining[i], most)
        repeats = sums[sums <= remaining[i]]
        alive[i] = len(repeats) + 1 < lifetime_purchases[i]
        operational.append(first[i] + np.concatenate([[0.0], repeats]))
    flat = np.concatenate(operational)
    day = np.clip(np.searchsorted(cumulative, flat, side="right") - 1, 0, horizon_days - 1)
    calendar_time = day + (flat - cumulative[day]) / intensity[day]
    bounds = np.cumsum([0] + [len(t) for t in operational])
    times = [calendar_time[bounds[i] : bounds[i + 1]] for i in range(n)]
    return PurchaseHistories(params, horizon_days, lam, p, k, times, alive)
