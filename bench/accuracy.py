"""Accuracy of the purchase models on a calibration/holdout split, and lifetimes on the same split.

For each data set the calibration summaries come from the product's own SQL
(``langganan.analytics.sql.pipeline.SUMMARY_AND_RHYTHM``, through the pipeline's
``_summary_and_rhythm`` where the product's split is used), the models are tested by the
product's own model step (``purchase_models.fit_and_predict``: MBG/CNBD-k and Pareto/NBD, the
candidates, and BG/NBD, the baseline, each fitted on the calibration part with the default
prior and scored by ``accuracy.holdout_report``), and lifetimes 0.11.3's ``BetaGeoFitter`` (its
plain maximum likelihood) is fitted in a separate virtual environment (as in
``bench/pipeline.py``) on its own ``calibration_and_holdout_data`` of the same transactions;
its predictions are scored by the same ``holdout_report``. Both summaries are compared customer
by customer.

Data sets
---------
* CDNOW: the full transaction log shipped in the lifetimes package (``CDNOW_master.txt``: the
  23,570 customers who first bought in the first quarter of 1997), calibration the first 39
  weeks (to 1997-09-30), holdout the next 39 weeks (to 1998-06-30), as in Fader, Hardie & Lee
  (2005), but in days with the purchases of one day merged (the product's unit).
* The demo café: ``langganan.demo.simulation.simulate_demo`` (what ``langganan demo`` writes,
  without the campaign responses it adds through Django), its members' sales only (walk-ins
  have no customer), default seed and size, 18 months to :data:`DEMO_END`; the product's split.
* Warteg regulars: :func:`simulate_warteg` (parameters in :data:`WARTEG`); the product's split.

``python bench/accuracy.py`` prints the section; ``python bench/run.py --only accuracy`` writes
it to BENCHMARKS.md.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

CDNOW_CALIBRATION_END = date(1997, 9, 30)  # 39 weeks from 1997-01-01
CDNOW_OBSERVATION_END = date(1998, 6, 30)  # 39 more weeks
DEMO_END = date(2026, 12, 1)  # the demo's history ends the day before
WARTEG = {
    "seed": 2025,
    "customers": 300,
    "start": date(2026, 1, 5),  # a Monday
    "days": 182,  # 26 weeks
    "regular_share": 0.8,
    "regular_k": (4, 5, 6),  # Erlang order, equally likely
    "regular_gap": (1.0, 3.0),  # mean gap in weekdays, uniform per customer
    "regular_dropout": (1.0, 150.0),  # Beta(a, b) chance of leaving after each visit
    "occasional_gap": (7.0, 30.0),  # mean gap in days (any day), Poisson buyers
    "occasional_dropout": (1.0, 3.0),
}

MODELS = (
    ("mbg_cnbd", "MBG/CNBD-k"),
    ("pareto_nbd", "Pareto/NBD"),
    ("bg_nbd", "BG/NBD (ours, default prior)"),
    ("lifetimes", "lifetimes BetaGeoFitter (plain MLE)"),
)


# ---------------------------------------------------------------------------------------------
# data sets: one row per sale, customer_id (text), occurred_at (local, naive), total


@dataclass
class DataSet:
    name: str
    description: str
    transactions: pd.DataFrame
    observation_end: date
    calibration_end: date | None = None  # None: the product's split (holdout_days)


def cdnow() -> DataSet:
    spec = importlib.util.find_spec("lifetimes")  # found, not imported (needs old numpy)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the lifetimes package (for its CDNOW data) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_master.txt"
    raw = pd.read_csv(
        path,
        sep=r"\s+",
        skiprows=1,
        names=["customer_id", "date", "cds", "dollars"],
        dtype={"customer_id": str, "date": str},
    )
    tx = pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "occurred_at": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "total": raw["dollars"].astype(float),
        }
    )
    return DataSet(
        "CDNOW",
        f"CDNOW master file ({tx['customer_id'].nunique():,} customers, first purchase in "
        f"Q1 1997, {len(tx):,} transactions; the classic 39 + 39 weeks from 1997-01-01)",
        tx,
        CDNOW_OBSERVATION_END,
        CDNOW_CALIBRATION_END,
    )


def demo_cafe() -> DataSet:
    from langganan.demo.defaults import DEFAULT_CUSTOMERS, DEFAULT_SEED
    from langganan.demo.simulation import simulate_demo

    dataset = simulate_demo(n_customers=DEFAULT_CUSTOMERS, seed=DEFAULT_SEED, end=DEMO_END)
    sales = [t for t in dataset.transactions if t.customer is not None]
    tx = pd.DataFrame(
        {
            "customer_id": [f"{t.customer:05d}" for t in sales],
            "occurred_at": pd.to_datetime([t.occurred_at.replace(tzinfo=None) for t in sales]),
            "total": [float(t.total) for t in sales],
        }
    )
    last = DEMO_END - timedelta(days=1)
    return DataSet(
        "Demo café",
        f"demo café (`simulate_demo`, seed {DEFAULT_SEED}, {DEFAULT_CUSTOMERS:,} customers, "
        f"{dataset.start} … {last}, {len(tx):,} member sales; walk-ins and the campaign "
        "responses that `langganan demo` adds through Django left out)",
        tx,
        last,
    )


def simulate_warteg(settings: dict | None = None) -> pd.DataFrame:
    """Warteg regulars: most come for lunch on weekdays at a steady rhythm (Erlang-k gaps in
    weekdays), the rest now and then (Poisson, any day); everyone joins at a uniform time in
    the period and may leave for good after any visit, the first included (MBG/CNBD-k)."""
    s = {**WARTEG, **(settings or {})}
    rng = np.random.default_rng(s["seed"])
    days = np.arange(s["days"])
    calendar = [s["start"] + timedelta(days=int(d)) for d in days]
    weekdays = np.array([d for d, day in zip(days, calendar, strict=True) if day.weekday() < 5])
    rows = []
    for i in range(s["customers"]):
        regular = rng.random() < s["regular_share"]
        if regular:
            k = int(rng.choice(s["regular_k"]))
            gap = rng.uniform(*s["regular_gap"])
            p = rng.beta(*s["regular_dropout"])
            span = float(len(weekdays))  # time counted in weekdays
        else:
            k = 1
            gap = rng.uniform(*s["occasional_gap"])
            p = rng.beta(*s["occasional_dropout"])
            span = float(s["days"])
        t = rng.uniform(0.0, span)
        visits = [t]
        while rng.random() >= p:  # stays after this visit
            t += rng.gamma(k, gap / k)
            if t >= span:
                break
            visits.append(t)
        for t in visits:
            day = int(weekdays[int(t)]) if regular else int(t)
            minute = int(rng.integers(11 * 60, 14 * 60))
            rows.append(
                (
                    f"{i:04d}",
                    datetime.combine(calendar[day], datetime.min.time())
                    + timedelta(minutes=minute),
                    float(rng.integers(12, 26) * 1000),
                )
            )
    return pd.DataFrame(rows, columns=["customer_id", "occurred_at", "total"])


def warteg() -> DataSet:
    tx = simulate_warteg()
    s = WARTEG
    last = s["start"] + timedelta(days=s["days"] - 1)
    lo, hi = s["regular_gap"]
    k = "/".join(str(v) for v in s["regular_k"])
    return DataSet(
        "Warteg regulars",
        f"simulated warteg (`simulate_warteg`, seed {s['seed']}, {s['customers']} customers, "
        f"{s['start']} … {last}, {len(tx):,} sales): {s['regular_share']:.0%} regulars at "
        f"lunch on weekdays with Erlang-{k} gaps of mean U({lo:g}, {hi:g}) weekdays and "
        f"dropout Beta{s['regular_dropout']} after each visit, the rest Poisson buyers every "
        f"U{s['occasional_gap']} days with dropout Beta{s['occasional_dropout']}; joining "
        "uniform over the period",
        tx,
        last,
    )


# ---------------------------------------------------------------------------------------------
# ours: the product's SQL and model step


def product_summary(data: DataSet) -> tuple[pd.DataFrame, pd.DataFrame, int | None, date | None]:
    """The summary, the model columns (calibration/holdout) and the split, from the product's
    SQL: ``_summary_and_rhythm`` itself for the product's split, else the same query with the
    given calibration end."""
    from langganan.analytics._inputs import register_params, register_transactions
    from langganan.analytics.engines import get_engine
    from langganan.analytics.pipeline import _summary_and_rhythm
    from langganan.analytics.sql import pipeline as shared_sql
    from langganan.analytics.summary import SUMMARY_COLUMNS

    eng = get_engine("duckdb")
    end = datetime.combine(data.observation_end, datetime.min.time())
    columns = {"customer": "customer_id", "timestamp": "occurred_at", "amount": "total"}
    if data.calibration_end is None:
        summary, _, extra = _summary_and_rhythm(eng, data.transactions, end=end, **columns)
        days = extra.attrs["holdout_days"]
        cal_end = None if days is None else data.observation_end - timedelta(days=days)
        return summary, extra, days, cal_end
    register_transactions(eng, data.transactions, **columns)
    register_params(
        eng,
        "summary_params",
        observation_end=(datetime, end),
        period=(str, "D"),
        unit_days=(int, 1),
        calibration_end=(datetime, datetime.combine(data.calibration_end, datetime.min.time())),
    )
    both = eng.query(shared_sql.SUMMARY_AND_RHYTHM).set_index("customer_id")
    days = (data.observation_end - data.calibration_end).days
    summary = both[list(SUMMARY_COLUMNS)]
    return summary, both[list(shared_sql.MODEL_COLUMNS)], days, data.calibration_end


def our_models(summary: pd.DataFrame, extra: pd.DataFrame, days: int) -> dict:
    """The product's model step on the data set (no intervals): its holdout reports and choice."""
    from langganan.analytics.accuracy import holdout_data
    from langganan.analytics.pipeline import PipelineSettings
    from langganan.analytics.purchase_models import fit_and_predict

    settings = PipelineSettings()
    outcome = fit_and_predict(
        frequency=summary["frequency"].to_numpy(dtype=float),
        recency=summary["recency"].to_numpy(dtype=float),
        T=summary["T"].to_numpy(dtype=float),
        litt=extra["litt"].to_numpy(dtype=float),
        monetary_value=summary["monetary_value"].to_numpy(dtype=float),
        total_spend=summary["total_spend"].to_numpy(dtype=float),
        orders=summary["orders"].to_numpy(dtype=float),
        holdout=holdout_data(extra, days),
        priors=None,  # the default prior of each model
        fit_pareto=True,
        horizon_months=settings.horizon_months,
        monthly_discount_rate=settings.monthly_discount_rate,
        margin=settings.margin,
        fit_sample=settings.fit_sample,
        interval_draws=0,
        interval_max_customers=settings.interval_max_customers,
        seed=settings.seed,
    )
    return outcome.reports["choice"]


def known_customers(extra: pd.DataFrame) -> pd.Index:
    """The customers ``holdout_data`` keeps (first purchase at least a day before the split),
    in its order."""
    cal_t = extra["cal_T"].to_numpy(dtype=float, na_value=np.nan)
    return extra.index[np.isfinite(cal_t) & (cal_t > 0)]


# ---------------------------------------------------------------------------------------------
# lifetimes, in its own environment

LIFETIMES_SCRIPT = """
import json, sys
import pandas as pd
from lifetimes import BetaGeoFitter
from lifetimes.utils import calibration_and_holdout_data
source, cal_end, obs_end, out = sys.argv[1:5]
df = pd.read_csv(source, dtype={"customer_id": str}, parse_dates=["day"])
s = calibration_and_holdout_data(df, "customer_id", "day", calibration_period_end=cal_end,
                                 observation_period_end=obs_end, freq="D")
n_all = len(s)
s = s[s["T_cal"] > 0]  # as the product: first purchase at least a day before the split
bg = BetaGeoFitter().fit(s["frequency_cal"], s["recency_cal"], s["T_cal"])
s["predicted"] = bg.conditional_expected_number_of_purchases_up_to_time(
    s["duration_holdout"], s["frequency_cal"], s["recency_cal"], s["T_cal"])
s.to_csv(out)
print(json.dumps({"params": {k: float(v) for k, v in bg.params_.items()},
                  "customers_in_calibration": n_all, "fitted_on": len(s)}))
"""


def lifetimes_run(
    python: Path, data: DataSet, cal_end: date, tmp: Path
) -> tuple[dict, pd.DataFrame]:
    from pipeline import run_json

    slug = "".join(c if c.isalnum() else "-" for c in data.name.lower())
    source = tmp / f"{slug}.csv"
    days = pd.DataFrame(
        {
            "customer_id": data.transactions["customer_id"],
            "day": data.transactions["occurred_at"].dt.normalize(),
        }
    )
    days.to_csv(source, index=False, date_format="%Y-%m-%d")
    script = tmp / "lifetimes_holdout.py"
    script.write_text(LIFETIMES_SCRIPT)
    out = tmp / f"{slug}-lifetimes.csv"
    meta = run_json(
        [
            str(python),
            str(script),
            str(source),
            str(cal_end),
            str(data.observation_end),
            str(out),
        ]
    )
    table = pd.read_csv(out, dtype={"customer_id": str}).set_index("customer_id")
    return meta, table


def compare_summaries(extra: pd.DataFrame, theirs: pd.DataFrame) -> str:
    """Ours (the product's SQL) against lifetimes' calibration_and_holdout_data, per customer."""
    ours = extra.loc[known_customers(extra)]
    only_ours = ours.index.difference(theirs.index)
    only_theirs = theirs.index.difference(ours.index)
    both = ours.index.intersection(theirs.index)
    o, t = ours.loc[both], theirs.loc[both]
    pairs = {
        "frequency": (o["cal_periods"] - 1, t["frequency_cal"]),
        "recency": (o["cal_recency"].fillna(0), t["recency_cal"]),
        "T": (o["cal_T"], t["T_cal"]),
        "holdout purchase days": (o["holdout_periods"], t["frequency_holdout"]),
    }
    differ = {
        name: int((~np.isclose(a.to_numpy(float), b.to_numpy(float))).sum())
        for name, (a, b) in pairs.items()
    }
    if not len(only_ours) and not len(only_theirs) and not any(differ.values()):
        return (
            f"lifetimes' summary agrees with ours for all {len(both):,} customers "
            "(frequency, recency, T, holdout purchase days)"
        )
    wrong = ", ".join(f"{name} differs for {n:,}" for name, n in differ.items() if n)
    return (
        f"lifetimes' summary DISAGREES with ours: {len(only_ours):,} customers only in ours, "
        f"{len(only_theirs):,} only in lifetimes'; of {len(both):,} in both: {wrong or 'none'}"
    )


# ---------------------------------------------------------------------------------------------
# the section


def evaluate(data: DataSet, python: Path | None, tmp: Path) -> dict:
    from langganan.analytics.accuracy import holdout_data, holdout_report

    start = time.perf_counter()
    summary, extra, days, cal_end = product_summary(data)
    holdout = holdout_data(extra, days)
    if holdout is None:
        return {"data": data, "holdout": None}
    choice = our_models(summary, extra, days)
    rows = dict(choice["holdout"])
    notes = []
    if python is None:
        rows["lifetimes"] = {"error": "lifetimes could not be installed: not run"}
    else:
        meta, theirs = lifetimes_run(python, data, cal_end, tmp)
        notes.append(compare_summaries(extra, theirs))
        ids = known_customers(extra)
        predicted = theirs["predicted"].reindex(ids).to_numpy(dtype=float)
        rows["lifetimes"] = holdout_report(predicted, holdout)
        rows["lifetimes"]["params"] = meta["params"]
    return {
        "data": data,
        "holdout": holdout,
        "days": days,
        "calibration_end": cal_end,
        "rows": rows,
        "chosen": choice["model"],
        "notes": notes,
        "seconds": time.perf_counter() - start,
    }


def _model_label(key: str, row: dict, chosen: str | None) -> str:
    label = dict(MODELS)[key]
    if key == "mbg_cnbd" and "params" in row and row["params"].get("k") is not None:
        label = f"MBG/CNBD-{int(row['params']['k'])}"
    return f"**{label}** (chosen)" if key == chosen else label


def section(results: list[dict]) -> list[str]:
    lines = [
        "<!-- section: accuracy -->",
        "## Accuracy of the purchase models on a holdout",
        "",
        "Each model is fitted on the calibration part of the history only and predicts each "
        "customer's repeat purchase days in the holdout (days with purchases, a day's purchases "
        "merged); only customers whose first purchase was at least a day before the split are "
        "scored. MBG/CNBD-k (k chosen by likelihood), Pareto/NBD and BG/NBD are the product's "
        "own fits with the default prior (`fit_and_predict`, the summaries from the pipeline's "
        "SQL); lifetimes 0.11.3's `BetaGeoFitter` is its plain maximum likelihood on its own "
        "`calibration_and_holdout_data` of the same transactions, run in a separate virtual "
        "environment; all four are scored by `accuracy.holdout_report`. The product chooses "
        "between MBG/CNBD-k and Pareto/NBD by the holdout MAE (BG/NBD is the baseline, never "
        "chosen).",
        "",
        "| data set | model | MAE per customer | predicted | actual | error | "
        "expected back (≥ 1) | of them came |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for res in results:
        data = res["data"]
        if res["holdout"] is None:
            lines.append(f"| {data.name} | no holdout test (history too short) | | | | | | |")
            continue
        head = f"{data.name}: {len(res['holdout']):,} customers, {res['days']}-day holdout"
        for key, _ in MODELS:
            row = res["rows"].get(key, {"error": "not fitted"})
            label = _model_label(key, row, res["chosen"])
            if "mae" not in row:
                lines.append(f"| {head} | {label} | {row.get('error')} | | | | | |")
            else:
                err = row["total_error"]
                share = row["came_back_share"]
                lines.append(
                    f"| {head} | {label} | {row['mae']:.3f} | {row['total_predicted']:,.0f} | "
                    f"{row['total_actual']:,.0f} | "
                    f"{'' if err is None else f'{err:+.1%}'} | {row['expected_back']:,} | "
                    f"{row['came_back']:,} "
                    f"({'–' if share is None else f'{share:.0%}'}) |"
                )
            head = ""
        chosen = res["chosen"]
        chosen_label = _model_label(chosen, res["rows"].get(chosen, {}), None) if chosen else "-"
        notes.append(
            f"* **{data.name}** — {data.description}; calibration to {res['calibration_end']}, "
            f"holdout of {res['days']} days to {data.observation_end}. The product would "
            f"choose {chosen_label}. " + " ".join(n + "." for n in res["notes"])
        )
    lines += ["", *notes, ""]
    lines += [
        "Predicted and actual are total repeat purchase days in the holdout; error is "
        "(predicted − actual) / actual; the last column counts the customers with an "
        "expected number of purchase days of at least 1 who came at least once. "
        "Command: `python bench/run.py --only accuracy` (or `make bench`).",
        "",
    ]
    return lines


def main() -> list[str]:
    sys.path.insert(0, str(HERE))
    from pipeline import lifetimes_env

    python = lifetimes_env()
    results = []
    with tempfile.TemporaryDirectory(prefix="langganan-accuracy-") as tmp:
        for make in (cdnow, demo_cafe, warteg):
            data = make()
            res = evaluate(data, python, Path(tmp))
            results.append(res)
            print(f"{data.name}: {res.get('seconds', 0):.1f} s", file=sys.stderr, flush=True)
    return section(results)


if __name__ == "__main__":
    print("\n".join(main()))
