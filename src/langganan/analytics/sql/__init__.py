"""The analytics queries, each written once in DuckDB's SQL dialect.

DuckDB runs them as they are; Spark runs ``sqlglot.transpile(sql, read="duckdb", write="spark")``
of the very same strings. To keep that translation exact the queries stick to constructs both
engines implement identically:

- weekdays as ``(days since Monday 1970-01-05) mod 7`` rather than ``ISODOW``/``DAYOFWEEK``
  (their numbering differs between the engines);
- weeks as ``DATE_TRUNC('week', …)`` — ISO weeks starting on Monday in both engines;
- modes as ``MAX(count * K + (K - 1 - value))``, decoded with ``%`` and ``//``: the largest count
  wins and ties go to the smallest value, without window sorting or ``ARG_MAX`` ties;
- averages, shares and standard deviations computed from exact integer or DECIMAL sums and one
  final DOUBLE division, so both engines produce bit-identical floats;
- every denominator wrapped in ``NULLIF(…, 0)`` (Spark's ANSI mode raises on division by zero);
- no dates in results: month/period starts are cast to TIMESTAMP.

The queries read the normalised views described in :mod:`langganan.analytics._inputs`
(``transactions``, ``lines``) and one-row parameter views (``*_params``).
"""

from .baskets import (
    BASKET_ITEMS,
    BASKET_PAIRS,
    BASKET_TRIPLES,
    BASKETS,
    FREQUENT_BASKET_ITEMS,
    ITEM_CODES,
)
from .cohorts import (
    COHORT_MONTHS,
    COHORT_RETENTION,
    COHORT_RETENTION_FROM_MONTHS,
    REVENUE_BY_CUSTOMER_TYPE,
    REVENUE_BY_CUSTOMER_TYPE_FROM_MONTHS,
)
from .habits import PURCHASE_RHYTHM, USUAL_ORDER, USUAL_ORDER_WITH_QUANTITY
from .summary import SUMMARY

__all__ = [
    "BASKETS",
    "BASKET_ITEMS",
    "BASKET_PAIRS",
    "BASKET_TRIPLES",
    "COHORT_MONTHS",
    "COHORT_RETENTION",
    "COHORT_RETENTION_FROM_MONTHS",
    "FREQUENT_BASKET_ITEMS",
    "ITEM_CODES",
    "PURCHASE_RHYTHM",
    "REVENUE_BY_CUSTOMER_TYPE",
    "REVENUE_BY_CUSTOMER_TYPE_FROM_MONTHS",
    "SUMMARY",
    "USUAL_ORDER",
    "USUAL_ORDER_WITH_QUANTITY",
]
