"""Market-basket counts: how many distinct baskets contain each item, pair and triple."""

# ``baskets`` is materialised first from ``lines``: one row per (transaction, item), duplicates
# within a basket removed. ``frequent_items`` keeps the items in at least min_count baskets; by
# anti-monotonicity a pair or triple can only reach min_count if all its items do, so the
# self-joins start from those. Pairs and triples are ordered (item_a < item_b < item_c).
# Parameter view ``basket_params``: min_count.
BASKETS = """
SELECT DISTINCT transaction_id, item FROM lines
"""

BASKET_ITEMS = """
SELECT
    b.item,
    CAST(COUNT(*) AS BIGINT) AS "count",
    CAST(COUNT(*) AS DOUBLE) / NULLIF(MAX(n.n_baskets), 0) AS support
FROM baskets AS b
CROSS JOIN (SELECT COUNT(DISTINCT transaction_id) AS n_baskets FROM baskets) AS n
CROSS JOIN basket_params AS p
GROUP BY b.item
HAVING COUNT(*) >= MAX(p.min_count)
ORDER BY "count" DESC, b.item
"""

FREQUENT_BASKET_ITEMS = """
SELECT b.transaction_id, b.item
FROM baskets AS b
JOIN (
    SELECT item
    FROM baskets
    CROSS JOIN basket_params AS p
    GROUP BY item
    HAVING COUNT(*) >= MAX(p.min_count)
) AS f ON f.item = b.item
"""

BASKET_PAIRS = """
SELECT
    a.item AS item_a,
    b.item AS item_b,
    CAST(COUNT(*) AS BIGINT) AS "count",
    CAST(COUNT(*) AS DOUBLE) / NULLIF(MAX(n.n_baskets), 0) AS support
FROM frequent_items AS a
JOIN frequent_items AS b ON b.transaction_id = a.transaction_id AND a.item < b.item
CROSS JOIN (SELECT COUNT(DISTINCT transaction_id) AS n_baskets FROM baskets) AS n
CROSS JOIN basket_params AS p
GROUP BY a.item, b.item
HAVING COUNT(*) >= MAX(p.min_count)
ORDER BY "count" DESC, item_a, item_b
"""

BASKET_TRIPLES = """
SELECT
    a.item AS item_a,
    b.item AS item_b,
    c.item AS item_c,
    CAST(COUNT(*) AS BIGINT) AS "count",
    CAST(COUNT(*) AS DOUBLE) / NULLIF(MAX(n.n_baskets), 0) AS support
FROM frequent_items AS a
JOIN frequent_items AS b ON b.transaction_id = a.transaction_id AND a.item < b.item
JOIN frequent_items AS c ON c.transaction_id = a.transaction_id AND b.item < c.item
CROSS JOIN (SELECT COUNT(DISTINCT transaction_id) AS n_baskets FROM baskets) AS n
CROSS JOIN basket_params AS p
GROUP BY a.item, b.item, c.item
HAVING COUNT(*) >= MAX(p.min_count)
ORDER BY "count" DESC, item_a, item_b, item_c
"""
