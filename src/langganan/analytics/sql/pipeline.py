"""DuckDB-only queries of the pipeline's shared pass over the line items.

:func:`~langganan.analytics.pipeline.run_pipeline` needs both each customer's usual order and the
basket counts from the same lines. Instead of the two public queries (each grouping every line by
customer, transaction and item), it groups the lines once by transaction into an item *bitmask*
(item codes 0 … 62, numbered in item order), keeps that table, and derives both from it:

- basket counts from the number of transactions per distinct mask (a few hundred rows);
- usual orders from per-customer counts of the transactions whose mask holds each item.

Bit operations are not translated for Spark; on Spark (or with more than 63 items) the pipeline
runs the public queries instead.
"""

from .habits import _RHYTHM_AGGREGATES, _RHYTHM_COLUMNS, _rhythm_modes, _rhythm_row_columns
from .summary import _SUMMARY_COLUMNS

#: Reads ``lines`` (NULL customers kept). Codes from 0, in item order (as ``ITEM_CODES``).
LINE_ITEM_CODES = """
SELECT item, CAST(ROW_NUMBER() OVER (ORDER BY item) - 1 AS BIGINT) AS code
FROM (SELECT DISTINCT item FROM lines) AS d
"""

# One row per transaction: its item mask, its customer and whether its lines name more than one
# customer or mix missing and given customers (``mixed``; such transactions are regrouped by
# customer from the lines for the usual order, as the public query does).
TRANSACTION_MASKS = """
SELECT
    l.transaction_id,
    BIT_OR(CAST(1 AS BIGINT) << CAST(c.code AS INTEGER)) AS mask,
    MIN(l.customer_id) AS customer_id,
    COUNT(l.customer_id) > 0
        AND (MIN(l.customer_id) <> MAX(l.customer_id) OR COUNT(l.customer_id) <> COUNT(*))
        AS mixed
FROM lines AS l
JOIN line_item_codes AS c ON c.item = l.item
GROUP BY l.transaction_id
"""

MASK_COUNTS = """
SELECT mask, CAST(COUNT(*) AS BIGINT) AS n
FROM transaction_masks
GROUP BY mask
"""

# Per customer: the number of their transactions (with an item) and, for each item code k, the
# number of those transactions holding it. ``{counts}`` is filled in with one COUNT per code.
_CUSTOMER_ITEM_COUNTS = """
WITH per_transaction AS (
    SELECT customer_id, mask
    FROM transaction_masks
    WHERE NOT mixed AND customer_id IS NOT NULL
    UNION ALL
    SELECT l.customer_id, BIT_OR(CAST(1 AS BIGINT) << CAST(c.code AS INTEGER)) AS mask
    FROM lines AS l
    JOIN line_item_codes AS c ON c.item = l.item
    WHERE l.customer_id IS NOT NULL
      AND l.transaction_id IN (SELECT transaction_id FROM transaction_masks WHERE mixed)
    GROUP BY l.customer_id, l.transaction_id
)
SELECT customer_id, CAST(COUNT(*) AS BIGINT) AS n_transactions, {counts}
FROM per_transaction
GROUP BY customer_id
ORDER BY customer_id
"""


def customer_item_counts(n_codes: int) -> str:
    """The per-customer item counts query for ``n_codes`` item codes (columns ``t0`` …)."""
    if not 0 < n_codes <= 63:
        raise ValueError(f"1 to 63 item codes expected, got {n_codes}")
    counts = ", ".join(
        f"CAST(COUNT(CASE WHEN (mask >> {k}) & 1 = 1 THEN 1 END) AS INTEGER) AS t{k}"
        for k in range(n_codes)
    )
    return _CUSTOMER_ITEM_COUNTS.replace("{counts}", counts)


# --------------------------------------------------------------------- summary and rhythm together

# ``SUMMARY`` (period 'D') and ``PURCHASE_RHYTHM`` in one pass: both need each customer's
# transactions in time order, so one window (one sort) serves both and one aggregation computes
# both sets of columns. The summary keeps only the days up to the observation end; those are a
# prefix of each customer's history in time order, so the previous day and the first day seen by
# the window are the same as in the summary's own pass over the kept rows. Only customers with a
# kept transaction are returned (the pipeline joins the rhythm onto the summary). The rhythm's and
# the summary's columns are their queries' own fragments (:mod:`.habits`, :mod:`.summary`); with
# period 'D' the observation period (``obs_period``) is the observation day. Reads
# ``transactions`` and ``summary_params`` (observation_end, period = 'D', unit_days,
# calibration_end).
#
# For the models' holdout test (:mod:`langganan.analytics.accuracy`) the same pass also gives
# each customer's history up to ``calibration_end`` (a day before the observation end; NULL for
# no split): its purchase days (``cal_periods``), its last purchase day (``cal_last_period``) and
# sum of log gaps (``cal_litt``), and the purchase days after it up to the observation end
# (``holdout_periods``). ``litt`` is the sum over the kept history of the logarithms of the gaps
# in days between consecutive purchase days (the regular-buyer model's statistic).
SUMMARY_AND_RHYTHM = f"""
WITH bounded AS (
    SELECT
        CAST(COALESCE(p.observation_end, m.max_ts) AS DATE) AS obs_period,
        CAST(p.calibration_end AS DATE) AS cal_end,
        p.unit_days AS unit_days
    FROM summary_params AS p
    CROSS JOIN (SELECT MAX(ts) AS max_ts FROM transactions) AS m
),
marked AS (
    SELECT
        customer_id,
        ts,
        amount,
        day,
        LAG(day) OVER w AS previous_day,
        FIRST_VALUE(day) OVER w AS first_day
    FROM (SELECT customer_id, ts, amount, CAST(ts AS DATE) AS day FROM transactions) AS t
    WINDOW w AS (PARTITION BY customer_id ORDER BY ts)
),
base AS (
    SELECT
        m.customer_id,
        m.ts,
        m.amount,
        m.day,
        m.previous_day,
        m.first_day,
        m.day <= b.obs_period AS kept,
        m.day <= b.cal_end AS in_cal,
        {_rhythm_row_columns("m.ts", "m.day", "m.previous_day")}
    FROM marked AS m
    CROSS JOIN bounded AS b
),
per_customer AS (
    SELECT
        customer_id,
        COUNT(CASE WHEN kept AND (previous_day IS NULL OR previous_day <> day) THEN 1 END)
            AS periods,
        MIN(CASE WHEN kept THEN first_day END) AS first_period,
        MAX(CASE WHEN kept THEN day END) AS last_period,
        SUM(CASE WHEN kept THEN amount END) AS total_spend,
        SUM(CASE WHEN kept AND day = first_day THEN amount ELSE 0 END) AS first_spend,
        COUNT(CASE WHEN kept THEN 1 END) AS orders,
        MIN(CASE WHEN kept THEN ts END) AS first_purchase,
        MAX(CASE WHEN kept THEN ts END) AS last_purchase,
        SUM(CASE WHEN kept AND step > 0 THEN LN(CAST(step AS DOUBLE)) ELSE 0 END) AS litt,
        COUNT(CASE WHEN in_cal AND (previous_day IS NULL OR previous_day <> day) THEN 1 END)
            AS cal_periods,
        MAX(CASE WHEN in_cal THEN day END) AS cal_last_period,
        SUM(CASE WHEN in_cal AND step > 0 THEN LN(CAST(step AS DOUBLE)) ELSE 0 END) AS cal_litt,
        COUNT(CASE WHEN kept AND NOT in_cal
                        AND (previous_day IS NULL OR previous_day <> day) THEN 1 END)
            AS holdout_periods,
        {_RHYTHM_AGGREGATES}
    FROM base
    GROUP BY customer_id
),
{_rhythm_modes("c.orders > 0")}
SELECT
    {_SUMMARY_COLUMNS},
    {_RHYTHM_COLUMNS},
    CAST(c.litt AS DOUBLE) AS litt,
    CAST(c.cal_periods AS BIGINT) AS cal_periods,
    CAST(DATE_DIFF('day', c.first_period, c.cal_last_period) AS DOUBLE) AS cal_recency,
    CAST(DATE_DIFF('day', c.first_period, b.cal_end) AS DOUBLE) AS cal_T,
    CAST(c.cal_litt AS DOUBLE) AS cal_litt,
    CAST(c.holdout_periods AS BIGINT) AS holdout_periods
FROM modes AS c
CROSS JOIN bounded AS b
ORDER BY c.customer_id
"""  # noqa: S608 (only constant column names are formatted in)


#: The first and last timestamp (the holdout's length depends on the history's span).
TIME_SPAN = "SELECT MIN(ts) AS first_ts, MAX(ts) AS last_ts FROM transactions"

#: The per-customer columns of ``SUMMARY_AND_RHYTHM`` beyond the summary and the rhythm.
MODEL_COLUMNS = (
    "litt",
    "cal_periods",
    "cal_recency",
    "cal_T",
    "cal_litt",
    "holdout_periods",
)
