"""Cohorts by first-purchase month; revenue from new vs returning customers per month."""

# Both read ``transactions`` and ``cohort_params`` (observation_end TIMESTAMP or NULL: later
# transactions are left out; a date means that whole day). Months are calendar months of the
# local timestamp; months_since = 12·Δyear + Δmonth.
#
# ``COHORT_MONTHS`` reduces the transactions to one row per (customer, month) with its orders and
# revenue (exact DECIMAL sums), tagged with the customer's cohort month. A customer is active in a
# month exactly when that row exists, so distinct customers are counted as rows and both tables
# aggregate these rows instead of the transactions. The pipeline materialises it once for both
# (as ``cohort_months``); the public queries inline it.
_MONTH_CTES = """
kept AS (
    SELECT
        t.customer_id,
        CAST(DATE_TRUNC('month', CAST(t.ts AS DATE)) AS DATE) AS month,
        t.amount
    FROM transactions AS t
    CROSS JOIN cohort_params AS p
    WHERE p.observation_end IS NULL OR CAST(t.ts AS DATE) <= CAST(p.observation_end AS DATE)
),
monthly AS (
    SELECT customer_id, month, COUNT(*) AS orders, SUM(amount) AS revenue
    FROM kept
    GROUP BY customer_id, month
),
firsts AS (
    SELECT customer_id, MIN(month) AS cohort_month FROM monthly GROUP BY customer_id
),
cohort_months AS (
    SELECT
        m.month,
        f.cohort_month,
        (YEAR(m.month) - YEAR(f.cohort_month)) * 12 + MONTH(m.month) - MONTH(f.cohort_month)
            AS months_since,
        m.orders,
        m.revenue
    FROM monthly AS m
    JOIN firsts AS f ON f.customer_id = m.customer_id
)"""

COHORT_MONTHS = "WITH " + _MONTH_CTES + "\nSELECT * FROM cohort_months"

# Read ``cohort_months`` (see above): every customer has exactly one row with months_since = 0.
_RETENTION_CTES = """
sizes AS (
    SELECT cohort_month, COUNT(*) AS cohort_size
    FROM cohort_months
    WHERE months_since = 0
    GROUP BY cohort_month
),
activity AS (
    SELECT
        cohort_month,
        months_since,
        COUNT(*) AS customers,
        SUM(orders) AS orders,
        SUM(revenue) AS revenue
    FROM cohort_months
    GROUP BY cohort_month, months_since
)"""

_RETENTION_SELECT = """
SELECT
    CAST(a.cohort_month AS TIMESTAMP) AS cohort_month,
    CAST(a.months_since AS BIGINT) AS months_since,
    CAST(s.cohort_size AS BIGINT) AS cohort_size,
    CAST(a.customers AS BIGINT) AS customers,
    CAST(a.orders AS BIGINT) AS orders,
    CAST(a.revenue AS DOUBLE) AS revenue,
    CAST(a.customers AS DOUBLE) / s.cohort_size AS retention
FROM activity AS a
JOIN sizes AS s ON s.cohort_month = a.cohort_month
ORDER BY a.cohort_month, a.months_since
"""

COHORT_RETENTION_FROM_MONTHS = "WITH " + _RETENTION_CTES + _RETENTION_SELECT

REVENUE_BY_CUSTOMER_TYPE_FROM_MONTHS = """
SELECT
    CAST(month AS TIMESTAMP) AS month,
    CAST(COUNT(CASE WHEN months_since = 0 THEN 1 END) AS BIGINT) AS new_customers,
    CAST(SUM(CASE WHEN months_since = 0 THEN orders ELSE 0 END) AS BIGINT) AS new_orders,
    CAST(SUM(CASE WHEN months_since = 0 THEN revenue ELSE 0 END) AS DOUBLE) AS new_revenue,
    CAST(COUNT(CASE WHEN months_since > 0 THEN 1 END) AS BIGINT) AS returning_customers,
    CAST(SUM(CASE WHEN months_since > 0 THEN orders ELSE 0 END) AS BIGINT) AS returning_orders,
    CAST(SUM(CASE WHEN months_since > 0 THEN revenue ELSE 0 END) AS DOUBLE) AS returning_revenue,
    CAST(SUM(revenue) AS DOUBLE) AS revenue,
    CAST(SUM(CASE WHEN months_since > 0 THEN revenue ELSE 0 END) AS DOUBLE)
        / NULLIF(CAST(SUM(revenue) AS DOUBLE), 0) AS returning_revenue_share
FROM cohort_months
GROUP BY month
ORDER BY month
"""

COHORT_RETENTION = "WITH " + _MONTH_CTES + ",\n" + _RETENTION_CTES + _RETENTION_SELECT
REVENUE_BY_CUSTOMER_TYPE = "WITH " + _MONTH_CTES + "\n" + REVENUE_BY_CUSTOMER_TYPE_FROM_MONTHS
