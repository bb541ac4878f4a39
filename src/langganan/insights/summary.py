"""An insight run told in plain words (Bahasa Indonesia first, English), for the owner.

Used by ``langganan analyze`` and the pages: who is active, lapsing and gone; which model was
chosen and how well it predicted the merchant's own last weeks ("dari 100 pelanggan yang kami
perkirakan datang lagi, 83 datang"); warnings such as "belum ada pelanggan yang berhenti".
Model parameters are left to :func:`model_lines` (``--verbose``).
"""

from __future__ import annotations

from langganan.insights.models import InsightRun

MODEL_NAMES = {
    "mbg_cnbd": {
        "id": "pola kunjungan teratur (MBG/CNBD-k)",
        "en": "regular-visit model (MBG/CNBD-k)",
    },
    "pareto_nbd": {
        "id": "pola kunjungan acak (Pareto/NBD)",
        "en": "random-visit model (Pareto/NBD)",
    },
    "bg_nbd": {"id": "BG/NBD", "en": "BG/NBD"},
}

#: fewer customers than this: the estimates lean on the prior, say so
FEW_CUSTOMERS = 100


def number(value: float, lang: str = "id", digits: int = 0) -> str:
    """``12.345`` (id) or ``12,345`` (en); with ``digits``, ``1,5`` / ``1.5``."""
    text = f"{value:,.{digits}f}"
    if lang == "id":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def warnings_of(run: InsightRun) -> list[str]:
    """Warning codes of a finished run, in the order they are shown."""
    codes = []
    models = run.models_fitted or {}
    choice = models.get("choice", {})
    if run.customers and run.customers < FEW_CUSTOMERS:
        codes.append("few_customers")
    if run.customers and not choice.get("model"):
        codes.append("no_model")
    lifecycle = run.lifecycle_counts or {}
    if choice.get("model") and run.customers and not lifecycle.get("lapsed"):
        codes.append("no_dropout")
    if choice.get("model") and choice.get("criterion") != "holdout_mae":
        codes.append("no_holdout")
    return codes


_WARNINGS = {
    "few_customers": {
        "id": "data masih sedikit ({n} pelanggan) — perkiraan bersandar pada pola usaha sejenis "
        "dan rentangnya lebar",
        "en": "little data so far ({n} customers) — estimates lean on similar businesses and "
        "their ranges are wide",
    },
    "no_model": {
        "id": "belum ada pelanggan yang datang lagi — peluang aktif dan CLV belum bisa dihitung",
        "en": "no customer has come back yet — probability active and CLV cannot be computed yet",
    },
    "no_dropout": {
        "id": "belum ada pelanggan yang berhenti — perkiraan CLV dibatasi 12 bulan dan bisa "
        "terlalu tinggi",
        "en": "no customer has stopped coming yet — CLV is limited to 12 months and may be "
        "too high",
    },
    "no_holdout": {
        "id": "riwayat belum cukup panjang untuk menguji ketepatan perkiraan",
        "en": "the history is too short to test the predictions",
    },
}


def summary_lines(run: InsightRun, slug: str, lang: str = "id") -> list[str]:
    """The run in a few plain sentences."""
    id_ = lang == "id"
    lines = []
    seconds = number(run.timings.get("total", 0), lang, 1)
    customer_tx = number(run.transactions, lang)
    if id_:
        lines.append(f"Analisis {slug} selesai dalam {seconds} detik.")
        text = f"{number(run.customers, lang)} pelanggan dari {customer_tx} transaksi pelanggan"
        if run.walk_in_transactions:
            text += (
                f"; {number(run.walk_in_transactions, lang)} transaksi lain tanpa data "
                "pelanggan (walk-in) tidak dihitung per pelanggan"
            )
        lines.append(text + ".")
    else:
        lines.append(f"Analysis of {slug} done in {seconds} s.")
        text = f"{number(run.customers, lang)} customers from {customer_tx} customer transactions"
        if run.walk_in_transactions:
            text += (
                f"; {number(run.walk_in_transactions, lang)} other sales without a customer "
                "(walk-ins) are not counted per customer"
            )
        lines.append(text + ".")
    counts = dict(run.lifecycle_counts or {})
    if counts:
        # the dashboard's six stages: the lapsed the model gives up on are "lost"
        from langganan.insights.models import CustomerInsight
        from langganan.insights.stages import DISPLAY_LABELS, DISPLAY_STAGES, display_stage_q

        if counts.get("lapsed"):
            lost = (
                CustomerInsight.objects.filter(run=run).filter(display_stage_q("lost", "")).count()
            )
            counts["lapsed"], counts["lost"] = counts["lapsed"] - lost, lost
        parts = [
            f"{DISPLAY_LABELS[s][lang]} {number(counts.get(s, 0), lang)}"
            for s in DISPLAY_STAGES
            if counts.get(s)
        ]
        lines.append(("Tahap pelanggan: " if id_ else "Customer stages: ") + " · ".join(parts))
    lines.extend(accuracy_lines(run, lang))
    lines.extend(warning_lines(run, lang))
    return lines


def warning_lines(run: InsightRun, lang: str = "id") -> list[str]:
    """The run's warnings as sentences ("Perhatian: belum ada pelanggan yang berhenti …")."""
    prefix = "Perhatian: " if lang == "id" else "Note: "
    return [
        prefix + _WARNINGS[code][lang].format(n=number(run.customers, lang)) + "."
        for code in warnings_of(run)
    ]


def accuracy_lines(run: InsightRun, lang: str = "id") -> list[str]:
    """Which model speaks and how well it predicted the holdout, in plain words."""
    id_ = lang == "id"
    choice = (run.models_fitted or {}).get("choice", {})
    chosen = choice.get("model")
    if not chosen:
        return []
    name = MODEL_NAMES.get(chosen, {}).get(lang, chosen)
    test = choice.get("holdout", {}).get(chosen, {})
    if "mae" not in test:
        return [f"Model: {name}."]
    days = test["days"]
    lines = [
        (
            f"Model: {name}, dipilih karena paling tepat menebak {days} hari terakhir."
            if id_
            else f"Model: {name}, chosen as the best at predicting the last {days} days."
        )
    ]
    if test.get("expected_back"):
        expected, came = test["expected_back"], test["came_back"]
        share = round(100 * came / expected)
        lines.append(
            f"Dari {number(expected, lang)} pelanggan yang kami perkirakan datang lagi dalam "
            f"{days} hari itu, {number(came, lang)} memang datang ({share}%)."
            if id_
            else f"Of {number(expected, lang)} customers we expected back within those {days} "
            f"days, {number(came, lang)} came ({share}%)."
        )
    predicted, actual = test["total_predicted"], test["total_actual"]
    if actual:
        error = round(100 * (predicted - actual) / actual, 1)
        lines.append(
            f"Perkiraan jumlah kunjungan ulang {number(predicted, lang)}, kenyataannya "
            f"{number(actual, lang)} (selisih {number(error, lang, 1)}%)."
            if id_
            else f"Predicted repeat visits {number(predicted, lang)}, actual "
            f"{number(actual, lang)} ({number(error, lang, 1)}% off)."
        )
    baseline = choice.get("holdout", {}).get("bg_nbd", {})
    if "mae" in baseline and chosen != "bg_nbd" and baseline["mae"] > 0:
        gain = 100 * (baseline["mae"] - test["mae"]) / baseline["mae"]
        mine, theirs = number(test["mae"], lang, 3), number(baseline["mae"], lang, 3)
        if abs(gain) < 1:
            verdict = "setara" if id_ else "about the same"
        elif gain > 0:
            verdict = (
                f"{number(gain, lang, 0)}% lebih tepat"
                if id_
                else f"{number(gain, lang, 0)}% better"
            )
        else:
            verdict = (
                f"BG/NBD {number(-gain, lang, 0)}% lebih tepat"
                if id_
                else f"BG/NBD {number(-gain, lang, 0)}% better"
            )
        lines.append(
            f"Galat rata-rata per pelanggan {mine} kunjungan; BG/NBD {theirs} ({verdict})."
            if id_
            else f"Mean error per customer {mine} visits; BG/NBD {theirs} ({verdict})."
        )
    return lines


def model_lines(run: InsightRun) -> list[str]:
    """Every fitted model's parameters, intervals and warnings (for ``--verbose``)."""
    lines = []
    for name, fitted in (run.models_fitted or {}).items():
        if name in ("choice", "spend", "intervals"):
            continue
        if "params" in fitted:
            params = ", ".join(f"{k}={v:.4g}" for k, v in fitted["params"].items() if v is not None)
            lines.append(f"{name}: {params}")
            for text in fitted.get("warnings", []):
                lines.append(f"  ! {text}")
        elif "error" in fitted:
            lines.append(f"{name}: not fitted ({fitted['error']})")
    for model, prior in (run.prior or {}).items():
        lines.append(f"prior {model}: {prior.get('source')} {prior.get('prior')}")
    return lines
