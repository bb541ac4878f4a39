"""One story per customer: the segment follows the lifecycle stage, and nothing contradicts.

RFM scores are ranks within the merchant's customers: among 80 regulars who all still come,
someone has the lowest recency score, and the classic RFM table calls them "lost". The lifecycle
stage measures silence against the customer's own rhythm and the model's probability of being
active, so the named segment shown beside it is derived from the stage (how recent, in the
customer's own terms) and the frequency and monetary scores (how valuable, relative to the other
customers); the classic table's segment is kept as ``rfm_segment``. With ``FM = (F + M) / 2`` on
the 1-5 scale:

=========  ==================  ==================  ==================  ==================
stage      FM >= 4             FM >= 3             FM >= 2             below 2
=========  ==================  ==================  ==================  ==================
new        new                 new                 new                 new
active,    champions           loyal               potential_loyalist  promising
loyal
at_risk    at_risk             at_risk             need_attention      about_to_sleep
lapsed     cant_lose_them      hibernating         hibernating         lost
=========  ==================  ==================  ==================  ==================

The suggested action shown is the segment's (:mod:`langganan.analytics.labels`), so it follows
the stage too. :func:`contradictions` lists every customer whose stage, probability of being
active, segment or next visit disagree; the pipeline's result has none (a test checks every
customer of the demo).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .lifecycle import LifecycleRules
from .rfm import SEGMENT_ORDER

__all__ = ["ALLOWED_SEGMENTS", "contradictions", "segment_for_stage", "segment_of"]

#: The segments each stage may carry.
ALLOWED_SEGMENTS: dict[str, frozenset[str]] = {
    "new": frozenset({"new"}),
    "active": frozenset({"champions", "loyal", "potential_loyalist", "promising"}),
    "loyal": frozenset({"champions", "loyal", "potential_loyalist", "promising"}),
    "at_risk": frozenset({"at_risk", "need_attention", "about_to_sleep"}),
    "lapsed": frozenset({"cant_lose_them", "hibernating", "lost"}),
}

_BY_STAGE = {
    "new": ("new", "new", "new", "new"),
    "active": ("champions", "loyal", "potential_loyalist", "promising"),
    "loyal": ("champions", "loyal", "potential_loyalist", "promising"),
    "at_risk": ("at_risk", "at_risk", "need_attention", "about_to_sleep"),
    "lapsed": ("cant_lose_them", "hibernating", "hibernating", "lost"),
}


def segment_for_stage(
    stage: pd.Series, f_score: pd.Series, m_score: pd.Series, bins: int = 5
) -> pd.Series:
    """The named segment of each customer from its stage and F, M scores (table above).

    Missing where the stage or a score is missing.
    """
    f = pd.to_numeric(f_score, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    m = pd.to_numeric(m_score, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    fm = 1.0 + 4.0 * ((f + m) / 2.0 - 1.0) / (bins - 1)
    column = np.select([fm >= 4, fm >= 3, fm >= 2, fm >= 0], [0, 1, 2, 3], -1)
    categories = list(SEGMENT_ORDER)
    # segment codes per (stage, FM column): a lookup table instead of strings per customer
    table = {name: np.array([categories.index(s) for s in row]) for name, row in _BY_STAGE.items()}
    codes = np.full(len(column), -1, dtype=np.int16)
    stages = pd.Categorical(stage)
    stage_codes = stages.codes
    for i, name in enumerate(stages.categories):
        if name not in table:
            continue
        hit = (stage_codes == i) & (column >= 0)
        codes[hit] = table[name][column[hit]]
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=categories), index=stage.index, name="segment"
    )


def segment_of(stage: str, f_score: float, m_score: float, bins: int = 5) -> str | None:
    """:func:`segment_for_stage` for one customer, without pandas (a sale updating its
    customer's insight); None where the stage is unknown or a score is missing (NaN)."""
    fm = 1.0 + 4.0 * ((float(f_score) + float(m_score)) / 2.0 - 1.0) / (bins - 1)
    row = _BY_STAGE.get(stage)
    if row is None or not fm >= 0:
        return None
    return row[0 if fm >= 4 else 1 if fm >= 3 else 2 if fm >= 2 else 3]


def contradictions(customers: pd.DataFrame, rules: LifecycleRules | None = None) -> pd.DataFrame:
    """The customers whose insights disagree, with the reason (empty when all agree).

    Checked per customer: a lapsed customer has a probability of being active below
    ``rules.p_silent_alive``; an active or loyal one at least ``rules.p_risk``; one at risk at
    least ``rules.p_lapsed``; the segment is one its stage allows (:data:`ALLOWED_SEGMENTS`);
    a next visit is only promised to a new, active or loyal customer.
    """
    rules = rules or LifecycleRules()
    stage = customers["stage"].astype(object)
    p = pd.to_numeric(customers["p_alive"], errors="coerce")
    problems: list[pd.Series] = []

    def add(mask: pd.Series, reason: str) -> None:
        problems.append(pd.Series(reason, index=customers.index[mask.fillna(False).to_numpy()]))

    add((stage == "lapsed") & (p >= rules.p_silent_alive), "lapsed but probably active")
    add(stage.isin(["active", "loyal"]) & (p < rules.p_risk), "active but probably gone")
    add((stage == "at_risk") & (p < rules.p_lapsed), "at risk but probably gone")
    segment = customers["segment"].astype(object)
    allowed = pd.Series(
        [s in ALLOWED_SEGMENTS.get(st, frozenset()) for st, s in zip(stage, segment, strict=True)],
        index=customers.index,
    )
    add(~allowed, "segment does not fit the stage")
    if "next_visit_in_days" in customers.columns:
        promised = customers["next_visit_in_days"].notna()
        add(
            promised & stage.isin(["at_risk", "lapsed"]),
            "next visit promised to a lapsing customer",
        )
    if not problems:
        return pd.DataFrame(columns=["reason"])
    return pd.concat(problems).rename("reason").to_frame()
