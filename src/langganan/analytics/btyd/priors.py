"""Priors for the purchase models: a documented default, and one pooled from comparable shops.

A warung with 80 regulars and six months of history does not identify a BTYD model by itself:
when nobody has dropped out yet, maximum likelihood sends the dropout parameters to the edge of
their range (BG/NBD's ``a`` to 0, ``b`` to infinity) and every prediction assumes nobody ever
leaves. The models here are fitted by penalised likelihood instead: a normal prior on the
logarithm of each shape parameter, i.e. the posterior mode (maximum a posteriori), with the
inverse of the penalised observed information as the posterior covariance (Laplace's
approximation). The prior's weight does not grow with the data, so for thousands of customers
the estimate is the maximum-likelihood one (CDNOW's published values are reproduced to 0.5 %
with the default prior) while a small shop's estimate stays finite and its intervals honest.

Where the prior comes from, in order:

1. **Pooled** (empirical Bayes): the fitted parameters of other merchants of the same business
   type in the same installation (:func:`pooled_prior`). The prior's median of each parameter is
   the geometric mean of theirs (weighted by the square root of their customer counts, so one big
   chain does not swamp the rest); its spread on the log scale is their standard deviation,
   never below :data:`POOLED_MIN_SD` (shops differ) and never above the default's. At least
   :data:`POOLED_MIN_MERCHANTS` merchants with :data:`POOLED_MIN_CUSTOMERS` customers each are
   needed.
2. **Default** (:data:`DEFAULT_PRIORS`): weakly informative, centred on typical published
   values — a shape ``r`` of 1 (purchase rates vary as much as an exponential distribution),
   dropout after a purchase with mean probability 1/4 (``a = 1``, ``b = 3``), and a standard
   deviation of :data:`DEFAULT_SD` on the log scale: a factor of e**4, about 55, either way at
   one standard deviation. The time scales (``alpha``) carry no prior: they are identified by the
   purchase counts of any shop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

Prior = dict[str, tuple[float, float]]

#: Standard deviation of the log of each shape parameter under the default prior.
DEFAULT_SD = 4.0
#: Spread of a pooled prior, on the log scale, is at least this.
POOLED_MIN_SD = 0.5
#: A pooled prior needs this many comparable merchants ...
POOLED_MIN_MERCHANTS = 2
#: ... each with at least this many customers.
POOLED_MIN_CUSTOMERS = 200

DEFAULT_PRIORS: dict[str, Prior] = {
    "bg_nbd": {"r": (1.0, DEFAULT_SD), "a": (1.0, DEFAULT_SD), "b": (3.0, DEFAULT_SD)},
    "mbg_cnbd": {"r": (1.0, DEFAULT_SD), "a": (1.0, DEFAULT_SD), "b": (3.0, DEFAULT_SD)},
    "pareto_nbd": {"r": (1.0, DEFAULT_SD), "s": (1.0, DEFAULT_SD)},
}


def default_prior(model: str) -> Prior:
    """The documented default prior of ``model`` (a key of :data:`DEFAULT_PRIORS`)."""
    return dict(DEFAULT_PRIORS[model])


def pooled_prior(model: str, fits: Iterable[tuple[Mapping[str, float], float]]) -> Prior | None:
    """An empirical-Bayes prior for ``model`` from other merchants' fitted parameters.

    Parameters
    ----------
    model : str
        A key of :data:`DEFAULT_PRIORS`; the prior covers the same parameters as the default.
    fits : iterable of (params, customers)
        Each comparable merchant's fitted parameters (``params_`` of the same model) and its
        number of customers.

    Returns
    -------
    dict or None
        ``{param: (median, sd_log)}``, or None when there are too few comparable fits (the
        caller then uses :func:`default_prior`).
    """
    names = list(DEFAULT_PRIORS[model])
    rows = []
    weights = []
    for params, customers in fits:
        if customers < POOLED_MIN_CUSTOMERS:
            continue
        values = [params.get(name) for name in names]
        if any(v is None or not np.isfinite(v) or v <= 0 for v in values):
            continue
        rows.append(np.log(np.asarray(values, dtype=float)))
        weights.append(np.sqrt(float(customers)))
    if len(rows) < POOLED_MIN_MERCHANTS:
        return None
    logs = np.vstack(rows)
    w = np.asarray(weights) / np.sum(weights)
    centre = w @ logs
    spread = np.sqrt(w @ (logs - centre) ** 2 * len(rows) / (len(rows) - 1))
    sd = np.clip(spread, POOLED_MIN_SD, DEFAULT_SD)
    return {
        name: (float(np.exp(c)), float(s)) for name, c, s in zip(names, centre, sd, strict=True)
    }


__all__ = [
    "DEFAULT_PRIORS",
    "DEFAULT_SD",
    "POOLED_MIN_CUSTOMERS",
    "POOLED_MIN_MERCHANTS",
    "POOLED_MIN_SD",
    "Prior",
    "default_prior",
    "pooled_prior",
]
