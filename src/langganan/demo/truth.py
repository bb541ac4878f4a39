"""The ``--truth`` file: the simulated purchase process per customer, for checking the models."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from langganan.demo.btyd import PurchaseHistories
from langganan.demo.simulation import JAKARTA, DemoDataset

TRUTH_COLUMNS = (
    "member_code",
    "lambda",
    "p",
    "first_purchase_at",
    "dropout_at",
    "alive_at_end",
    "purchases",
    "k",
)


def write_truth(
    path: str | Path,
    *,
    histories: PurchaseHistories,
    member_codes: Sequence[str],
    seed: int,
    start: date,
    first_purchases: Sequence[datetime] | None = None,
    last_purchases: Sequence[datetime] | None = None,
) -> int:
    """Write one CSV row per customer with the simulated truth; return the rows written.

    ``lambda`` is in purchases per day (the mean gap is ``1 / lambda``), ``p`` the probability
    of dropping out after each purchase (the first included), ``k`` the Erlang order of the
    gaps (1 for a Poisson buyer, more for a regular one), ``dropout_at`` the time of the
    purchase after which the customer dropped out (empty while alive). Lines starting with
    ``#`` carry the generator's parameters. Without recorded datetimes the times are derived
    from the simulated days since ``start`` (Asia/Jakarta).
    """
    params = histories.params
    start_at = datetime.combine(start, time(), JAKARTA)

    def stamp(days: float) -> datetime:
        return start_at + timedelta(days=float(days))

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dropout = histories.dropout
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write(
            "# langganan demo: purchase truth per customer, a mix of MBG/CNBD-k buyers "
            "(Platzer & Reutterer 2016): lambda ~ Gamma(r, alpha) purchases per day, "
            "dropout p ~ Beta(a, b) after every purchase including the first, Erlang-k gaps "
            "of mean 1/lambda with k = regular_k for a share regular_share, else k = 1\n"
        )
        fh.write(
            f"# r={params.r} alpha={params.alpha} a={params.a} b={params.b} "
            f"regular_share={params.regular_share} regular_k={params.regular_k} seed={seed} "
            f"time_unit=day start={start.isoformat()} "
            f"end={(start + timedelta(days=histories.horizon)).isoformat()}\n"
        )
        writer = csv.writer(fh)
        writer.writerow(TRUTH_COLUMNS)
        for i, code in enumerate(member_codes):
            first = first_purchases[i] if first_purchases else stamp(histories.times[i][0])
            if math.isnan(dropout[i]):
                dropout_text = ""
            else:
                last = last_purchases[i] if last_purchases else stamp(dropout[i])
                dropout_text = last.isoformat()
            writer.writerow(
                [
                    code,
                    f"{histories.lam[i]:.6g}",
                    f"{histories.p[i]:.6g}",
                    first.isoformat(),
                    dropout_text,
                    "1" if histories.alive_at_end[i] else "0",
                    len(histories.times[i]),
                    int(histories.k[i]),
                ]
            )
    return len(member_codes)


def write_dataset_truth(path: str | Path, dataset: DemoDataset) -> int:
    """:func:`write_truth` for a simulated merchant, with the recorded purchase times."""
    last: dict[int, datetime] = {}
    for txn in dataset.transactions:
        if txn.customer is not None:
            last[txn.customer] = max(txn.occurred_at, last.get(txn.customer, txn.occurred_at))
    return write_truth(
        path,
        histories=dataset.histories,
        member_codes=[c.member_code for c in dataset.customers],
        seed=dataset.seed,
        start=dataset.start,
        first_purchases=[c.joined_at for c in dataset.customers],
        last_purchases=[last[i] for i in range(len(dataset.customers))],
    )
