"""The insight engine's chosen purchase model against the demo's ground truth.

The demo café (2,000 customers, 18 months) is built with its ``--truth`` file: who was really
still a customer at the end. In the demo, as in real shops, customers can leave right after
their first purchase, which BG/NBD cannot express (it gives every one-time buyer a probability
of being active of 100 %). The model the engine chose on its holdout must therefore know better
who is still active than BG/NBD alone, fitted on the same summary with its default prior: a
lower Brier score of P(alive) against the truth, over all customers and over one-time buyers.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from langganan.analytics.btyd import BetaGeo
from langganan.analytics.btyd.priors import default_prior
from langganan.analytics.consistency import contradictions
from langganan.demo.defaults import DEFAULT_CUSTOMERS, DEFAULT_SEED
from langganan.demo.generator import demo_merchant_build
from langganan.insights.models import CustomerInsight, InsightRun
from langganan.insights.services import insights_refresh

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

JAKARTA = ZoneInfo("Asia/Jakarta")
END = date(2026, 11, 1)


def _brier(p: np.ndarray, alive: np.ndarray) -> float:
    return float(np.mean((p - alive) ** 2))


def test_the_chosen_model_knows_who_is_still_a_customer_better_than_bg_nbd(tmp_path):
    truth_path = tmp_path / "truth.csv"
    build = demo_merchant_build(
        slug="demo",
        n_customers=DEFAULT_CUSTOMERS,
        seed=DEFAULT_SEED,
        end=END,
        truth_path=truth_path,
    )
    run = insights_refresh(
        merchant=build.merchant, observation_end=datetime.combine(END, time(), JAKARTA)
    )
    assert run.status == InsightRun.Status.DONE

    with truth_path.open(encoding="utf-8") as fh:
        truth = {
            row["member_code"]: row["alive_at_end"] == "1"
            for row in csv.DictReader(line for line in fh if not line.startswith("#"))
        }
    rows = list(
        CustomerInsight.objects.filter(merchant=build.merchant).values_list(
            "customer__member_code", "frequency", "recency_days", "age_days", "p_alive"
        )
    )
    assert len(rows) == len(truth) == DEFAULT_CUSTOMERS
    alive = np.array([truth[row[0]] for row in rows], dtype=float)
    f, recency, age, p_chosen = (
        np.array([row[i] for row in rows], dtype=float) for i in (1, 2, 3, 4)
    )

    # BG/NBD alone on the same summary, as the pipeline fits it (customers observed for a while)
    observed = age > 0
    bg = BetaGeo(prior=default_prior("bg_nbd")).fit(f[observed], recency[observed], age[observed])
    p_bg = np.asarray(bg.probability_alive(f, recency, np.maximum(age, 0.5)))

    choice = run.models_fitted["choice"]
    chosen = choice["model"]
    holdout = choice["holdout"]
    one_time = f == 0
    scores = {
        "all": (_brier(p_chosen, alive), _brier(p_bg, alive)),
        "one_time": (
            _brier(p_chosen[one_time], alive[one_time]),
            _brier(p_bg[one_time], alive[one_time]),
        ),
    }
    print(
        f"chosen model {chosen}; alive at end {alive.mean():.3f}, one-time buyers {one_time.sum()}"
    )
    for name, (chosen_score, bg_score) in scores.items():
        print(f"Brier of P(alive), {name}: {chosen} {chosen_score:.4f}, BG/NBD {bg_score:.4f}")
    # the same fit as the pipeline's own baseline
    assert bg.params_ == pytest.approx(run.models_fitted["bg_nbd"]["params"], rel=1e-6)
    print("holdout MAE", {name: result.get("mae") for name, result in holdout.items()})

    assert chosen != "bg_nbd"
    assert alive[one_time].mean() < 0.9  # one-time buyers do leave in the demo
    for chosen_score, bg_score in scores.values():
        assert chosen_score < bg_score
    assert holdout[chosen]["mae"] <= holdout["bg_nbd"]["mae"]

    # and every one of the demo's customers tells one story: stage, probability active,
    # segment and next visit agree (analytics.consistency), as stored
    stored = pd.DataFrame.from_records(
        CustomerInsight.objects.filter(merchant=build.merchant).values(
            "lifecycle", "p_alive", "segment", "next_purchase_date"
        )
    )
    stored = stored.rename(columns={"lifecycle": "stage"})
    stored["next_visit_in_days"] = stored.pop("next_purchase_date").map(
        lambda d: np.nan if d is None else 0.0
    )
    assert len(stored) == DEFAULT_CUSTOMERS
    assert contradictions(stored).empty, contradictions(stored).value_counts()
