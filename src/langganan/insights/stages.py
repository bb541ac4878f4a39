"""The six lifecycle stages the dashboard shows, defined once.

The engine stages a customer ``new``, ``active``, ``loyal``, ``at_risk`` or ``lapsed``
(:mod:`langganan.analytics.lifecycle`). The dashboard splits ``lapsed`` in two, because an owner
acts differently on a regular who has gone quiet (a win-back may still work) and on one the model
gives up on: **lost** (hilang) is a lapsed customer whose probability of still being a customer
is at most :data:`LOST_P_ALIVE`; the rest of the lapsed stay **lapsed** (tidur).

:func:`display_stage` stages one stored row (used when the analysis counts stages and moves);
:func:`display_stage_q` filters the same customers in the database (used by the customer list),
so a count on the overview and the list it opens always agree.
"""

from __future__ import annotations

from django.db.models import Q

from langganan.analytics.labels import STAGE_LABELS

LOST_P_ALIVE = 0.05

DISPLAY_STAGES = ("new", "active", "loyal", "at_risk", "lapsed", "lost")

#: the engine's five names (the customer card, the command line, the API's labels) and "lost"
DISPLAY_LABELS = {**STAGE_LABELS, "lost": {"id": "Hilang", "en": "Lost"}}


def display_stage(lifecycle: str | None, p_alive: float | None) -> str | None:
    """The dashboard's stage of an engine stage and its probability alive (None: not staged)."""
    if not lifecycle:
        return None
    if lifecycle == "lapsed" and p_alive is not None and p_alive <= LOST_P_ALIVE:
        return "lost"
    return lifecycle


def display_stage_q(stage: str, prefix: str = "insight__") -> Q:
    """Database filter for the customers (or, with ``prefix=""``, insight rows) in ``stage``."""
    if stage not in DISPLAY_STAGES:
        raise ValueError(f"unknown stage {stage!r}; use one of {', '.join(DISPLAY_STAGES)}")
    if stage == "lost":
        return Q(**{f"{prefix}lifecycle": "lapsed", f"{prefix}p_alive__lte": LOST_P_ALIVE})
    if stage == "lapsed":
        return Q(**{f"{prefix}lifecycle": "lapsed"}) & (
            Q(**{f"{prefix}p_alive__gt": LOST_P_ALIVE}) | Q(**{f"{prefix}p_alive__isnull": True})
        )
    return Q(**{f"{prefix}lifecycle": stage})
