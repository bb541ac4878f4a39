"""Cohorts by first-purchase month; revenue from new vs returning customers per month."""

# Both read ``transactions`` and ``cohort_params`` (observation_end TIMESTAMP or NULL: later
# transactions are left out; a date means that whole day). Months are calendar months of the
# local timestamp; months_since = 12·Δyear + Δmonth.
_MONTHLY = """
WITH kept AS (
    SELECT
        t.customer_id,
        CAST(DATE_TRUNC('month', CAST(t.ts AS DATE)) AS DATE) AS month,
        t.amount
    FROM transactions AS t
    CROSS JOIN cohort_params AS p
    WHERE p.observation_end IS NULL OR CAST(t.ts AS DATE) <= CAST(p.observation_end AS DATE)
),
firsts AS (
    SELECT customer_id, MIN(month) AS cohort_month FROM kept GROUP BY customer_id
),
tagged AS (
    SELECT
        k.customer_id,
        k.month,
        k.amount,
        f.cohort_month,
        (YEAR(k.month) - YEAR(f.cohort_month)) * 12 + MONTH(k.month) - MONTH(f.cohort_month)
            AS months_since
    FROM kept AS k
    JOIN firsts AS f ON f.customer_id = k.customer_id
)"""

COHORT_RETENTION = (
    _MONTHLY  # noqa: S608 (constant SQL joined to constant SQL)
    + """,
sizes AS (
    SELECT cohort_month, COUNT(*) AS cohort_size FROM firsts GROUP BY cohort_month
),
activity AS (
    SELECT
        cohort_month,
        months_since,
        COUNT(DISTINCT customer_id) AS customers,
        COUNT(*) AS orders,
        SUM(amount) AS revenue
    FROM tagged
    GROUP BY cohort_month, months_since
)
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
)

REVENUE_BY_CUSTOMER_TYPE = (
    _MONTHLY  # noqa: S608 (constant SQL joined to constant SQL)
    + """
SELECT
    CAST(month AS TIMESTAMP) AS month,
    CAST(COUNT(DISTINCT CASE WHEN months_since = 0 THEN customer_id END) AS BIGINT)
        AS new_customers,
    CAST(SUM(CASE WHEN months_since = 0 THEN 1 ELSE 0 END) AS BIGINT) AS new_orders,
    CAST(SUM(CASE WHEN months_since = 0 THEN amount ELSE 0 END) AS DOUBLE) AS new_revenue,
    CAST(COUNT(DISTINCT CASE WHEN months_since > 0 THEN customer_id END) AS BIGINT)
        AS returning_customers,
    CAST(SUM(CASE WHEN months_since > 0 THEN 1 ELSE 0 END) AS BIGINT) AS returning_orders,
    CAST(SUM(CASE WHEN months_since > 0 THEN amount ELSE 0 END) AS DOUBLE) AS returning_revenue,
    CAST(SUM(amount) AS DOUBLE) AS revenue,
    CAST(SUM(CASE WHEN months_since > 0 THEN amount ELSE 0 END) AS DOUBLE)
        / NULLIF(CAST(SUM(amount) AS DOUBLE), 0) AS returning_revenue_share
FROM tagged
GROUP BY month
ORDER BY month
"""
)
