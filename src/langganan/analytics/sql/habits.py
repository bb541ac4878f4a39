"""Buying habits: each customer's rhythm (weekday, hour, time of month, gaps) and usual order."""


def _histogram(column: str, size: int, prefix: str) -> str:
    """``COUNT(CASE …)`` per value 0 … size-1: one pass over the rows, no group per value."""
    return ",\n        ".join(
        f"COUNT(CASE WHEN {column} = {v} THEN 1 END) AS {prefix}{v}" for v in range(size)
    )


def _mode_code(prefix: str, size: int, base: int) -> str:
    """``GREATEST(count_v * base + (base - 1 - v))``: largest count wins, ties → smallest v."""
    terms = ", ".join(f"{prefix}{v} * {base} + {base - 1 - v}" for v in range(size))
    return f"GREATEST({terms})"


# Counts are of transactions (rows); gaps are between consecutive distinct purchase days: ordered
# by time, the day steps between consecutive transactions that are > 0. Modes: per-value counts
# in one aggregation (a histogram), then the largest count wins and ties go to the smallest value,
# encoded as GREATEST(count * K + (K - 1 - value)) and decoded with % and // (see the package
# docstring). Weekday 0 = Monday … 6 = Sunday, from the days since Monday 1970-01-05 (kept
# non-negative for earlier dates). Part of the month: 0 = days 1–10, 1 = 11–20, 2 = 21–31. Payday
# window: day of month >= 25 or <= 5. The gap variance comes from integer sums, exact in DOUBLE
# below 2**53 (so the same in both engines, whatever the summation order):
# (n·Σg² − (Σg)²) / (n·(n − 1)). Conditional counts are COUNT(CASE WHEN … THEN 1 END): measured
# faster on DuckDB than COUNT(*) FILTER (WHERE …) or SUM(CASE … THEN 1 ELSE 0 END) (integer SUM
# accumulates in 128 bits).
#
# The rhythm is written once, as the fragments below, and used by ``PURCHASE_RHYTHM`` and by the
# pipeline's combined pass (:mod:`.pipeline`): per row ``_rhythm_row_columns``, per customer
# ``_RHYTHM_AGGREGATES`` (over those row columns), then the CTE ``_rhythm_modes`` (over the
# aggregates) and the projection ``_RHYTHM_COLUMNS`` (over both).


def _rhythm_row_columns(ts: str, day: str, previous_day: str) -> str:
    """The row columns ``weekday``, ``hour``, ``dom`` and ``step`` of a transaction at ``ts``.

    ``day`` is its date (``CAST(ts AS DATE)``) and ``previous_day`` the date of the customer's
    previous transaction in time order (NULL for the first).
    """
    return f"""CAST(((DATE_DIFF('day', DATE '1970-01-05', {day}) % 7) + 7) % 7 AS BIGINT)
            AS weekday,
        CAST(HOUR({ts}) AS BIGINT) AS hour,
        CAST(DAY({ts}) AS BIGINT) AS dom,
        CAST(DATE_DIFF('day', {previous_day}, {day}) AS BIGINT) AS step"""


# Per customer (GROUP BY customer_id), over the row columns above.
_RHYTHM_AGGREGATES = f"""COUNT(*) AS n,
        COUNT(CASE WHEN dom >= 25 OR dom <= 5 THEN 1 END) AS payday,
        {_histogram("weekday", 7, "wd")},
        {_histogram("hour", 24, "hr")},
        COUNT(CASE WHEN dom <= 10 THEN 1 END) AS pt0,
        COUNT(CASE WHEN dom > 10 AND dom <= 20 THEN 1 END) AS pt1,
        COUNT(CASE WHEN dom > 20 THEN 1 END) AS pt2,
        COUNT(CASE WHEN step > 0 THEN 1 END) AS n_gaps,
        SUM(CASE WHEN step > 0 THEN CAST(step AS DOUBLE) ELSE 0 END) AS gap_sum,
        SUM(CASE WHEN step > 0 THEN CAST(step * step AS DOUBLE) ELSE 0 END)
            AS gap_sq_sum,
        MEDIAN(CASE WHEN step > 0 THEN CAST(step AS DOUBLE) END) AS median_gap"""


def _rhythm_modes(where: str | None = None) -> str:
    """The CTE ``modes``: the rows of ``per_customer`` (those ``where`` holds) and mode codes."""
    condition = "" if where is None else f"\n    WHERE {where}"
    return f"""modes AS (
    SELECT
        c.*,
        {_mode_code("wd", 7, 8)} AS wd_code,
        {_mode_code("hr", 24, 32)} AS hr_code,
        {_mode_code("pt", 3, 4)} AS pt_code
    FROM per_customer AS c{condition}
)"""  # noqa: S608 (only constant SQL is formatted in)


# The rhythm's result columns, over the aggregates and the mode codes.
_RHYTHM_COLUMNS = """CAST(7 - wd_code % 8 AS BIGINT) AS typical_weekday,
    CAST(wd_code // 8 AS DOUBLE) / n AS weekday_share,
    CAST(31 - hr_code % 32 AS BIGINT) AS typical_hour,
    CAST(hr_code // 32 AS DOUBLE) / n AS hour_share,
    CASE 3 - pt_code % 4 WHEN 0 THEN 'start' WHEN 1 THEN 'middle' ELSE 'end' END
        AS time_of_month,
    CAST(pt_code // 4 AS DOUBLE) / n AS time_of_month_share,
    CAST(payday AS DOUBLE) / n AS payday_share,
    median_gap AS median_gap_days,
    gap_sum / NULLIF(n_gaps, 0) AS mean_gap_days,
    CASE WHEN n_gaps >= 2 AND gap_sum > 0
         THEN SQRT((n_gaps * gap_sq_sum - gap_sum * gap_sum)
                   / (n_gaps * (n_gaps - 1)))
              / (gap_sum / n_gaps)
    END AS gap_cv,
    CAST(n_gaps + 1 AS BIGINT) AS n_purchase_days,
    CAST(n AS BIGINT) AS n_transactions"""

_PREVIOUS_DAY = "LAG(CAST(ts AS DATE)) OVER (PARTITION BY customer_id ORDER BY ts)"

# Reads ``transactions``.
PURCHASE_RHYTHM = f"""
WITH base AS (
    SELECT
        customer_id,
        ts,
        {_rhythm_row_columns("ts", "CAST(ts AS DATE)", _PREVIOUS_DAY)}
    FROM transactions
),
per_customer AS (
    SELECT
        customer_id,
        MAX(ts) AS last_purchase,
        {_RHYTHM_AGGREGATES}
    FROM base
    GROUP BY customer_id
),
{_rhythm_modes()}
SELECT
    customer_id,
    {_RHYTHM_COLUMNS},
    last_purchase
FROM modes
ORDER BY customer_id
"""  # noqa: S608 (only constant column names are formatted in)

# Reads ``lines`` and ``usual_order_params`` (top). An item's ``times`` is the number of the
# customer's distinct transactions containing it; ``share`` divides by the customer's number of
# transactions; ``usual_quantity`` is the median quantity of the item per transaction. Ranks are
# by times (descending), ties by item (ascending).
USUAL_ORDER = """
WITH per_transaction AS (
    SELECT customer_id, transaction_id, item, SUM(quantity) AS quantity
    FROM lines
    GROUP BY customer_id, transaction_id, item
),
customer_transactions AS (
    SELECT customer_id, COUNT(DISTINCT transaction_id) AS n_transactions
    FROM per_transaction
    GROUP BY customer_id
),
item_counts AS (
    SELECT
        customer_id,
        item,
        COUNT(*) AS times,
        {usual_quantity} AS usual_quantity
    FROM per_transaction
    GROUP BY customer_id, item
),
ranked AS (
    SELECT
        customer_id,
        item,
        times,
        usual_quantity,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY times DESC, item ASC) AS item_rank
    FROM item_counts
)
SELECT
    r.customer_id,
    CAST(r.item_rank AS BIGINT) AS "rank",
    r.item,
    CAST(r.times AS BIGINT) AS times,
    CAST(r.times AS DOUBLE) / c.n_transactions AS share,
    CAST(c.n_transactions AS BIGINT) AS n_transactions,
    r.usual_quantity
FROM ranked AS r
JOIN customer_transactions AS c ON c.customer_id = r.customer_id
CROSS JOIN usual_order_params AS p
WHERE r.item_rank <= p.top
ORDER BY r.customer_id, r.item_rank
"""

# The median is a holistic aggregate (it cannot spill to disk), so it is computed only when the
# caller gives a quantity column.
USUAL_ORDER_WITH_QUANTITY = USUAL_ORDER.replace("{usual_quantity}", "MEDIAN(quantity)")
USUAL_ORDER = USUAL_ORDER.replace("{usual_quantity}", "CAST(NULL AS DOUBLE)")
