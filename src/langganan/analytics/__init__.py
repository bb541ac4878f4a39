"""The analytics engine: framework-free (no Django import anywhere in this package).

Aggregations are SQL written once and run on DuckDB (default) or Spark; models are fitted with
numpy/scipy on compressed summaries and follow the scikit-learn estimator contract.
"""

from langganan.analytics.baskets import basket_counts
from langganan.analytics.btyd import (
    BetaGeo,
    GammaGamma,
    ParetoNBD,
    customer_lifetime_value,
    predicted_next_purchase,
)
from langganan.analytics.cohorts import cohort_retention, revenue_by_customer_type
from langganan.analytics.habits import purchase_rhythm, usual_order
from langganan.analytics.lifecycle import lifecycle_stage
from langganan.analytics.pipeline import PipelineSettings, run_pipeline
from langganan.analytics.rfm import rfm_scores
from langganan.analytics.rules import association_rules, cross_sell, cross_sell_many, up_sell
from langganan.analytics.summary import summarize

__all__ = [
    "BetaGeo",
    "GammaGamma",
    "ParetoNBD",
    "PipelineSettings",
    "association_rules",
    "basket_counts",
    "cohort_retention",
    "cross_sell",
    "cross_sell_many",
    "customer_lifetime_value",
    "lifecycle_stage",
    "predicted_next_purchase",
    "purchase_rhythm",
    "revenue_by_customer_type",
    "rfm_scores",
    "run_pipeline",
    "summarize",
    "up_sell",
    "usual_order",
]
