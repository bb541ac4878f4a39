"""RFM / BTYD summary per customer (frequency, recency, T, monetary value)."""

# The summary's result columns, written once for ``SUMMARY`` and the pipeline's combined pass
# (:mod:`.pipeline`). Over ``c``, one row per customer (periods, first_period, last_period,
# total_spend, first_spend, orders, first_purchase, last_purchase), and ``b``, the one-row bounds
# (obs_period: the start of the period holding the observation end; unit_days).
_SUMMARY_COLUMNS = """c.customer_id,
    CAST(c.periods - 1 AS BIGINT) AS frequency,
    CAST(DATE_DIFF('day', c.first_period, c.last_period) AS DOUBLE) / b.unit_days AS recency,
    CAST(DATE_DIFF('day', c.first_period, b.obs_period) AS DOUBLE) / b.unit_days AS "T",
    CASE WHEN c.periods > 1
         THEN CAST(c.total_spend - c.first_spend AS DOUBLE) / (c.periods - 1)
         ELSE CAST(0 AS DOUBLE) END AS monetary_value,
    c.first_purchase,
    c.last_purchase,
    CAST(c.orders AS BIGINT) AS orders,
    CAST(c.periods AS BIGINT) AS periods,
    CAST(c.total_spend AS DOUBLE) AS total_spend,
    CAST(c.first_period AS TIMESTAMP) AS first_period,
    CAST(b.obs_period AS TIMESTAMP) AS observation_period"""

# Reads ``transactions`` and ``summary_params`` (observation_end TIMESTAMP or NULL for "the last
# timestamp in the data", period 'D' | 'W', unit_days 1 | 7).
#
# A customer's purchases are grouped into periods (the day, or the Monday-starting week, of the
# local timestamp). frequency = periods - 1; recency = first → last period start; T = first period
# start → the period start containing observation_end; both in days / unit_days. monetary_value is
# the mean spend of the repeat periods (spend summed within a period, the first period left out).
# One window pass (per customer, by time) marks where a new period starts and which period is the
# first; a single aggregation then counts periods and sums the first period's spend. On DuckDB this
# is faster than grouping by (customer, period) and then by customer.
SUMMARY = f"""
WITH bounds AS (
    SELECT
        CAST(COALESCE(p.observation_end, m.max_ts) AS DATE) AS obs_day,
        p.period AS period,
        p.unit_days AS unit_days
    FROM summary_params AS p
    CROSS JOIN (SELECT MAX(ts) AS max_ts FROM transactions) AS m
),
bounded AS (
    SELECT
        b.obs_day,
        b.period,
        b.unit_days,
        CASE WHEN b.period = 'W' THEN CAST(DATE_TRUNC('week', b.obs_day) AS DATE)
             ELSE b.obs_day END AS obs_period
    FROM bounds AS b
),
kept AS (
    SELECT
        t.customer_id,
        t.ts,
        t.amount,
        CASE WHEN b.period = 'W' THEN CAST(DATE_TRUNC('week', CAST(t.ts AS DATE)) AS DATE)
             ELSE CAST(t.ts AS DATE) END AS period_start
    FROM transactions AS t
    CROSS JOIN bounded AS b
    WHERE CAST(t.ts AS DATE) <= b.obs_day
),
marked AS (
    SELECT
        customer_id,
        ts,
        amount,
        period_start,
        LAG(period_start) OVER (PARTITION BY customer_id ORDER BY ts) AS previous_period,
        FIRST_VALUE(period_start) OVER (PARTITION BY customer_id ORDER BY ts) AS first_period
    FROM kept
),
per_customer AS (
    SELECT
        customer_id,
        COUNT(CASE WHEN previous_period IS NULL OR previous_period <> period_start THEN 1 END)
            AS periods,
        MIN(first_period) AS first_period,
        MAX(period_start) AS last_period,
        SUM(amount) AS total_spend,
        SUM(CASE WHEN period_start = first_period THEN amount ELSE 0 END) AS first_spend,
        COUNT(*) AS orders,
        MIN(ts) AS first_purchase,
        MAX(ts) AS last_purchase
    FROM marked
    GROUP BY customer_id
)
SELECT
    {_SUMMARY_COLUMNS}
FROM per_customer AS c
CROSS JOIN bounded AS b
ORDER BY c.customer_id
"""  # noqa: S608 (only constant SQL is formatted in)
