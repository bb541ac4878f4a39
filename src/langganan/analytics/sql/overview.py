"""The overview's per-period aggregates (the merchant's dashboard, issue 17).

The queries read three views (see :func:`langganan.analytics.overview.period_tables`):

``ledger``
    every transaction: ``transaction_id``, ``customer_id`` (NULL for a walk-in), ``ts`` (naive
    local TIMESTAMP), ``amount`` (DECIMAL; a refund is negative), ``is_sale`` (BOOLEAN; a refund
    is not a sale), ``method`` (the transaction's payment method);
``paid``
    what paid each sale, per method: ``transaction_id``, ``method``, ``amount`` (DECIMAL; a sale
    may have several rows, a refund has none);
``spans``
    the periods: ``period_days``, ``span`` ('current', 'previous', 'last_year'), ``start_ts``
    and ``end_ts``. A transaction is in a span when ``start_ts < ts <= end_ts``.

A customer's first purchase is their earliest sale in ``ledger`` (callers leave out
transactions after the observation end). Revenue is the sum of the amounts, refunds included
(by the refund's own time); a visit is a sale. Weekdays as in :mod:`.habits` (0 = Monday).
"""

#: A transaction of ``ledger`` in each span it falls in (``w`` joined on ``t``).
_IN_WINDOW = "t.ts > w.start_ts AND t.ts <= w.end_ts"

_FIRSTS = """firsts AS (
    SELECT customer_id, MIN(ts) AS first_ts
    FROM ledger
    WHERE is_sale AND customer_id IS NOT NULL
    GROUP BY customer_id
)"""

#: Per (period_days, span): the figures' ingredients. Windows without a transaction have no
#: row.
WINDOW_FIGURES = f"""
WITH {_FIRSTS}
SELECT
    CAST(w.period_days AS BIGINT) AS period_days,
    w.span,
    CAST(COUNT(CASE WHEN t.is_sale THEN 1 END) AS BIGINT) AS sales,
    CAST(COUNT(CASE WHEN t.is_sale AND t.customer_id IS NOT NULL THEN 1 END) AS BIGINT)
        AS customer_sales,
    CAST(COUNT(DISTINCT CASE WHEN t.is_sale THEN t.customer_id END) AS BIGINT) AS buyers,
    CAST(COUNT(DISTINCT CASE WHEN t.is_sale AND f.first_ts > w.start_ts
                             AND f.first_ts <= w.end_ts THEN t.customer_id END) AS BIGINT)
        AS new_customers,
    CAST(SUM(t.amount) AS DECIMAL(18, 2)) AS revenue,
    CAST(SUM(CASE WHEN t.customer_id IS NOT NULL THEN t.amount ELSE 0 END) AS DECIMAL(18, 2))
        AS customer_revenue,
    CAST(SUM(CASE WHEN f.first_ts <= w.start_ts THEN t.amount ELSE 0 END) AS DECIMAL(18, 2))
        AS returning_revenue
FROM spans AS w
JOIN ledger AS t ON {_IN_WINDOW}
LEFT JOIN firsts AS f ON f.customer_id = t.customer_id
GROUP BY w.period_days, w.span
ORDER BY period_days, w.span
"""  # noqa: S608 (only constant SQL is formatted in)

#: Sales per (period, weekday, hour) of the current spans.
WEEKDAY_HOUR = f"""
SELECT
    CAST(w.period_days AS BIGINT) AS period_days,
    CAST(((DATE_DIFF('day', DATE '1970-01-05', CAST(t.ts AS DATE)) % 7) + 7) % 7 AS BIGINT)
        AS weekday,
    CAST(HOUR(t.ts) AS BIGINT) AS hour,
    CAST(COUNT(*) AS BIGINT) AS visits
FROM spans AS w
JOIN ledger AS t ON {_IN_WINDOW}
WHERE w.span = 'current' AND t.is_sale
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""  # noqa: S608

#: Sales and revenue (refunds included) per (period, day of the month) of the current spans.
DAY_OF_MONTH = f"""
SELECT
    CAST(w.period_days AS BIGINT) AS period_days,
    CAST(DAY(t.ts) AS BIGINT) AS day,
    CAST(COUNT(CASE WHEN t.is_sale THEN 1 END) AS BIGINT) AS visits,
    CAST(SUM(t.amount) AS DECIMAL(18, 2)) AS revenue
FROM spans AS w
JOIN ledger AS t ON {_IN_WINDOW}
WHERE w.span = 'current'
GROUP BY 1, 2
ORDER BY 1, 2
"""  # noqa: S608

#: Customers' revenue (refunds included) per (period, segment) of the current spans, with the
#: segment from ``customer_segments`` (customer_id, segment).
SEGMENT_REVENUE = f"""
SELECT
    CAST(w.period_days AS BIGINT) AS period_days,
    s.segment,
    CAST(SUM(t.amount) AS DECIMAL(18, 2)) AS revenue
FROM spans AS w
JOIN ledger AS t ON {_IN_WINDOW}
JOIN customer_segments AS s ON s.customer_id = t.customer_id
WHERE w.span = 'current'
GROUP BY 1, 2
ORDER BY 1, 2
"""  # noqa: S608

# What each method took in a span: the sales' payment rows, and the refunds (given back with
# their transaction's method). ``segment`` comes from ``customer_segments`` (customer_id,
# segment) for the per-segment table.
_PAID_IN_WINDOWS = f"""paid_rows AS (
    SELECT w.period_days, t.customer_id, t.transaction_id, p.method, p.amount, TRUE AS is_sale
    FROM spans AS w
    JOIN ledger AS t ON {_IN_WINDOW}
    JOIN paid AS p ON p.transaction_id = t.transaction_id
    WHERE w.span = 'current' AND t.is_sale
    UNION ALL
    SELECT w.period_days, t.customer_id, t.transaction_id, t.method, t.amount, FALSE AS is_sale
    FROM spans AS w
    JOIN ledger AS t ON {_IN_WINDOW}
    WHERE w.span = 'current' AND NOT t.is_sale
)"""  # noqa: S608

#: Per (period, method): sales paid (partly) with it and the revenue it took, refunds off.
PAYMENTS = f"""
WITH {_PAID_IN_WINDOWS}
SELECT
    CAST(period_days AS BIGINT) AS period_days,
    method,
    CAST(COUNT(DISTINCT CASE WHEN is_sale THEN transaction_id END) AS BIGINT) AS sales,
    CAST(SUM(amount) AS DECIMAL(18, 2)) AS revenue
FROM paid_rows
GROUP BY 1, 2
ORDER BY 1, 2
"""  # noqa: S608

#: As ``PAYMENTS``, for customers' transactions, per their segment (``customer_segments``).
PAYMENTS_BY_SEGMENT = f"""
WITH {_PAID_IN_WINDOWS}
SELECT
    CAST(r.period_days AS BIGINT) AS period_days,
    s.segment,
    r.method,
    CAST(COUNT(DISTINCT CASE WHEN r.is_sale THEN r.transaction_id END) AS BIGINT) AS sales,
    CAST(SUM(r.amount) AS DECIMAL(18, 2)) AS revenue
FROM paid_rows AS r
JOIN customer_segments AS s ON s.customer_id = r.customer_id
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""  # noqa: S608

#: Per product of customers' first purchases (``lines``: transaction_id, item): how many
#: customers' first sale held it and how many of them bought again on a later day. The first
#: sale is the earliest (the smallest id on a tie).
FIRST_PRODUCT_REPEAT = """
WITH ranked AS (
    SELECT
        customer_id,
        transaction_id,
        ts,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY ts, transaction_id) AS n
    FROM ledger
    WHERE is_sale AND customer_id IS NOT NULL
),
first_sales AS (
    SELECT customer_id, transaction_id, CAST(ts AS DATE) AS first_day
    FROM ranked
    WHERE n = 1
),
came_back AS (
    SELECT f.customer_id
    FROM first_sales AS f
    JOIN ledger AS t ON t.customer_id = f.customer_id
    WHERE t.is_sale AND CAST(t.ts AS DATE) > f.first_day
    GROUP BY f.customer_id
),
first_items AS (
    SELECT DISTINCT f.customer_id, l.item
    FROM first_sales AS f
    JOIN lines AS l ON l.transaction_id = f.transaction_id
)
SELECT
    i.item AS product,
    CAST(COUNT(*) AS BIGINT) AS customers,
    CAST(COUNT(b.customer_id) AS BIGINT) AS returned
FROM first_items AS i
LEFT JOIN came_back AS b ON b.customer_id = i.customer_id
GROUP BY i.item
ORDER BY i.item
"""

__all__ = [
    "DAY_OF_MONTH",
    "FIRST_PRODUCT_REPEAT",
    "PAYMENTS",
    "PAYMENTS_BY_SEGMENT",
    "SEGMENT_REVENUE",
    "WEEKDAY_HOUR",
    "WINDOW_FIGURES",
]
