"""Market-basket counts: how many distinct baskets contain each item, pair and triple."""

# ``baskets`` is materialised first from ``lines``: one row per (transaction, item), duplicates
# within a basket removed. ``frequent_items`` keeps the items in at least min_count baskets; by
# anti-monotonicity a pair or triple can only reach min_count if all its items do, so the
# self-joins start from those. Pairs and triples are ordered (item_a < item_b < item_c).
# Parameter views: ``basket_params`` (min_count) and ``basket_totals`` (n_baskets, counted once).
ITEM_CODES = """
SELECT item, CAST(ROW_NUMBER() OVER (ORDER BY item) AS BIGINT) AS code
FROM (SELECT DISTINCT item FROM lines) AS d
"""

# Baskets hold integer item codes (numbered in item order, so code order is name order): the
# distinct, the counts and the self-joins below hash and compare integers, not strings.
BASKETS = """
SELECT DISTINCT l.transaction_id, c.code AS item
FROM lines AS l
JOIN item_codes AS c ON c.item = l.item
"""

BASKET_ITEMS = """
WITH counted AS (
    SELECT b.item AS code, COUNT(*) AS n
    FROM baskets AS b
    GROUP BY b.item
)
SELECT
    c.item,
    CAST(k.n AS BIGINT) AS "count",
    CAST(k.n AS DOUBLE) / NULLIF(n.n_baskets, 0) AS support
FROM counted AS k
JOIN item_codes AS c ON c.code = k.code
CROSS JOIN basket_totals AS n
CROSS JOIN basket_params AS p
WHERE k.n >= p.min_count
ORDER BY "count" DESC, c.item
"""

# Only baskets with two or more frequent items can hold a pair or a triple.
FREQUENT_BASKET_ITEMS = """
WITH frequent AS (
    SELECT b.transaction_id, b.item
    FROM baskets AS b
    JOIN (
        SELECT item
        FROM baskets
        CROSS JOIN basket_params AS p
        GROUP BY item
        HAVING COUNT(*) >= MAX(p.min_count)
    ) AS f ON f.item = b.item
),
multi AS (
    SELECT transaction_id FROM frequent GROUP BY transaction_id HAVING COUNT(*) >= 2
)
SELECT f.transaction_id, f.item
FROM frequent AS f
JOIN multi AS m ON m.transaction_id = f.transaction_id
"""

BASKET_PAIRS = """
WITH counted AS (
    SELECT a.item AS code_a, b.item AS code_b, COUNT(*) AS n
    FROM frequent_items AS a
    JOIN frequent_items AS b ON b.transaction_id = a.transaction_id AND a.item < b.item
    GROUP BY a.item, b.item
)
SELECT
    ca.item AS item_a,
    cb.item AS item_b,
    CAST(k.n AS BIGINT) AS "count",
    CAST(k.n AS DOUBLE) / NULLIF(n.n_baskets, 0) AS support
FROM counted AS k
JOIN item_codes AS ca ON ca.code = k.code_a
JOIN item_codes AS cb ON cb.code = k.code_b
CROSS JOIN basket_totals AS n
CROSS JOIN basket_params AS p
WHERE k.n >= p.min_count
ORDER BY "count" DESC, item_a, item_b
"""

BASKET_TRIPLES = """
WITH counted AS (
    SELECT a.item AS code_a, b.item AS code_b, c.item AS code_c, COUNT(*) AS n
    FROM frequent_items AS a
    JOIN frequent_items AS b ON b.transaction_id = a.transaction_id AND a.item < b.item
    JOIN frequent_items AS c ON c.transaction_id = a.transaction_id AND b.item < c.item
    GROUP BY a.item, b.item, c.item
)
SELECT
    ca.item AS item_a,
    cb.item AS item_b,
    cc.item AS item_c,
    CAST(k.n AS BIGINT) AS "count",
    CAST(k.n AS DOUBLE) / NULLIF(n.n_baskets, 0) AS support
FROM counted AS k
JOIN item_codes AS ca ON ca.code = k.code_a
JOIN item_codes AS cb ON cb.code = k.code_b
JOIN item_codes AS cc ON cc.code = k.code_c
CROSS JOIN basket_totals AS n
CROSS JOIN basket_params AS p
WHERE k.n >= p.min_count
ORDER BY "count" DESC, item_a, item_b, item_c
"""
