"""Maximum-likelihood "buy till you die" models and customer lifetime value.

``BetaGeo`` (BG/NBD), ``ParetoNBD`` and ``MBGCNBD`` (MBG/CNBD-k, for regular buyers) model
repeat-purchase counts from each customer's (frequency, recency, T) summary (``MBGCNBD`` also
uses the sum of the log intertransaction times); ``GammaGamma`` models average spend;
``customer_lifetime_value`` and ``predicted_next_purchase`` combine them. Conventions follow
Fader, Hardie & Lee (2005): ``frequency`` is the number of repeat purchase periods, ``recency``
the time from the first to the last purchase, ``T`` the time from the first purchase to the end
of observation, in one explicit time unit. Rows are compressed (identical rows merged into
weights) before fitting.
The package has no Django dependency.
"""

from ._validation import FitWarning, NotFittedError, compress_rows
from .beta_geo import BetaGeo
from .clv import DAYS_PER_MONTH, customer_lifetime_value, predicted_next_purchase
from .gamma_gamma import GammaGamma
from .mbg_cnbd import MBGCNBD
from .pareto_nbd import ParetoNBD

__all__ = [
    "DAYS_PER_MONTH",
    "BetaGeo",
    "FitWarning",
    "GammaGamma",
    "MBGCNBD",
    "NotFittedError",
    "ParetoNBD",
    "compress_rows",
    "customer_lifetime_value",
    "predicted_next_purchase",
]
