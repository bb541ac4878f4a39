"""Indonesian and English labels, descriptions and suggested actions for segments and stages.

Codes are stable identifiers stored with each customer (``"champions"``, ``"cant_lose_them"``,
``"lapsed"``); the words shown to people come from here. Bahasa Indonesia (``"id"``) is the first
language of the dashboard, English (``"en"``) the second. A few codes are both an RFM segment
and a lifecycle stage (``new``, ``loyal``, ``at_risk``); their labels are the same in both.
"""

from __future__ import annotations

import math

__all__ = [
    "LANGUAGES",
    "SEGMENT_LABELS",
    "SEGMENT_DESCRIPTIONS",
    "SEGMENT_ACTIONS",
    "STAGE_LABELS",
    "STAGE_DESCRIPTIONS",
    "STAGE_ACTIONS",
    "label",
    "describe",
    "suggest_action",
    "rhythm_sentence",
]

LANGUAGES: tuple[str, ...] = ("id", "en")

Text = dict[str, dict[str, str]]

SEGMENT_LABELS: Text = {
    "champions": {"id": "Juara", "en": "Champions"},
    "loyal": {"id": "Setia", "en": "Loyal"},
    "potential_loyalist": {"id": "Calon Setia", "en": "Potential Loyalist"},
    "new": {"id": "Baru", "en": "New"},
    "promising": {"id": "Menjanjikan", "en": "Promising"},
    "need_attention": {"id": "Perlu Perhatian", "en": "Need Attention"},
    "about_to_sleep": {"id": "Hampir Tidur", "en": "About to Sleep"},
    "cant_lose_them": {"id": "Jangan Sampai Hilang", "en": "Can't Lose Them"},
    "at_risk": {"id": "Berisiko", "en": "At Risk"},
    "lost": {"id": "Hilang", "en": "Lost"},
    "hibernating": {"id": "Hibernasi", "en": "Hibernating"},
}

SEGMENT_DESCRIPTIONS: Text = {
    "champions": {
        "id": "Baru saja belanja, paling sering datang, dan belanjanya paling besar.",
        "en": "Bought recently, buy most often and spend the most.",
    },
    "loyal": {
        "id": "Rutin belanja dengan nilai belanja yang baik.",
        "en": "Buy regularly and spend well.",
    },
    "potential_loyalist": {
        "id": "Belanja belum lama ini, frekuensi dan nilai belanja sedang.",
        "en": "Recent customers with average frequency and spend.",
    },
    "new": {
        "id": "Baru mulai belanja; pembelian masih sedikit.",
        "en": "Just started buying; few purchases so far.",
    },
    "promising": {
        "id": "Belanja belum lama ini, tetapi jarang dan nilainya kecil.",
        "en": "Bought recently, but rarely and not much.",
    },
    "need_attention": {
        "id": "Rata-rata di semua hal, tetapi mulai jarang datang.",
        "en": "Average on every count, but starting to slip.",
    },
    "about_to_sleep": {
        "id": "Di bawah rata-rata dan mulai tidak terlihat.",
        "en": "Below average and going quiet.",
    },
    "cant_lose_them": {
        "id": "Dulu termasuk pelanggan terbaik, sudah lama sekali tidak datang.",
        "en": "Used to be among the best, not seen for a long time.",
    },
    "at_risk": {
        "id": "Dulu sering belanja dengan nilai baik, sudah cukup lama tidak datang.",
        "en": "Used to buy often and spend well, not seen for a while.",
    },
    "lost": {
        "id": "Terendah di semua hal: jarang, kecil, dan sudah lama sekali.",
        "en": "Lowest on every count: rare, small and long ago.",
    },
    "hibernating": {
        "id": "Sudah lama tidak datang; dulu datang dan belanja sedang-sedang saja.",
        "en": "Not seen for a long time; came and spent moderately before.",
    },
}

SEGMENT_ACTIONS: Text = {
    "champions": {
        "id": "Beri penghargaan, akses awal ke menu/produk baru, minta ulasan atau referensi.",
        "en": "Reward them, give early access to new items, ask for reviews and referrals.",
    },
    "loyal": {
        "id": "Tawarkan naik tingkat member dan produk yang lebih tinggi (up-sell).",
        "en": "Offer a membership tier upgrade and higher-value items (up-sell).",
    },
    "potential_loyalist": {
        "id": "Ajak jadi member, beri poin ekstra untuk kunjungan berikutnya.",
        "en": "Invite them to join the membership, give bonus points on the next visit.",
    },
    "new": {
        "id": "Sambut dengan ramah, kirim voucher kunjungan kedua.",
        "en": "Welcome them warmly, send a second-visit voucher.",
    },
    "promising": {
        "id": "Kenalkan produk favorit lain, beri promo kecil agar kembali.",
        "en": "Introduce other favourites, give a small offer to bring them back.",
    },
    "need_attention": {
        "id": "Kirim penawaran terbatas waktu sesuai yang biasa mereka beli.",
        "en": "Send a time-limited offer based on what they usually buy.",
    },
    "about_to_sleep": {
        "id": "Ingatkan dengan promo menarik sebelum benar-benar berhenti datang.",
        "en": "Remind them with an attractive offer before they stop coming.",
    },
    "cant_lose_them": {
        "id": "Hubungi langsung (WhatsApp/telepon), tanyakan kabar, beri penawaran khusus.",
        "en": "Reach out personally (WhatsApp/phone), ask how they are, make a special offer.",
    },
    "at_risk": {
        "id": "Kirim pesan personal dan voucher kembali (win-back).",
        "en": "Send a personal message and a win-back voucher.",
    },
    "lost": {
        "id": "Cukup kampanye umum yang murah; jangan habiskan banyak biaya.",
        "en": "Low-cost general campaigns only; do not spend much.",
    },
    "hibernating": {
        "id": "Tawarkan produk populer atau diskon untuk membangunkan kembali.",
        "en": "Offer popular items or a discount to wake them up.",
    },
}

STAGE_LABELS: Text = {
    "new": {"id": "Baru", "en": "New"},
    "active": {"id": "Aktif", "en": "Active"},
    "loyal": {"id": "Setia", "en": "Loyal"},
    "at_risk": {"id": "Berisiko", "en": "At Risk"},
    "lapsed": {"id": "Tidur", "en": "Lapsed"},
}

STAGE_DESCRIPTIONS: Text = {
    "new": {
        "id": "Pertama kali belanja belum lama ini.",
        "en": "First purchase was recent.",
    },
    "active": {
        "id": "Masih datang sesuai kebiasaannya.",
        "en": "Still coming back at their usual pace.",
    },
    "loyal": {
        "id": "Sudah sering kembali dengan ritme yang teratur.",
        "en": "Has come back many times, at a regular rhythm.",
    },
    "at_risk": {
        "id": "Sudah lebih lama dari biasanya tidak datang.",
        "en": "Has stayed away longer than usual.",
    },
    "lapsed": {
        "id": "Sudah jauh lebih lama dari biasanya tidak datang; kemungkinan sudah berhenti.",
        "en": "Has stayed away far longer than usual; has probably stopped coming.",
    },
}

STAGE_ACTIONS: Text = {
    "new": {
        "id": "Kirim ucapan selamat datang dan voucher kunjungan kedua.",
        "en": "Send a welcome message and a second-visit voucher.",
    },
    "active": {
        "id": "Kirim pengingat sesuai ritme belanjanya.",
        "en": "Send reminders timed to their buying rhythm.",
    },
    "loyal": {
        "id": "Beri penghargaan dan tawarkan naik tingkat member.",
        "en": "Reward them and offer a tier upgrade.",
    },
    "at_risk": {
        "id": "Sapa secara personal dan tawarkan pesanan yang biasa mereka beli.",
        "en": "Reach out personally and offer their usual order.",
    },
    "lapsed": {
        "id": "Kampanye win-back dengan voucher; ukur hasilnya dengan grup kontrol.",
        "en": "Win-back campaign with a voucher; measure it against a holdout group.",
    },
}

_KINDS: dict[str, tuple[Text, Text, Text]] = {
    "segment": (SEGMENT_LABELS, SEGMENT_DESCRIPTIONS, SEGMENT_ACTIONS),
    "stage": (STAGE_LABELS, STAGE_DESCRIPTIONS, STAGE_ACTIONS),
}


def _lookup(code: str, lang: str, kind: str | None, part: int) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; use one of {LANGUAGES}")
    if kind is not None and kind not in _KINDS:
        raise ValueError(f"unknown kind {kind!r}; use 'segment' or 'stage'")
    for name in (kind,) if kind else ("segment", "stage"):
        table = _KINDS[name][part]
        if code in table:
            return table[code][lang]
    raise KeyError(f"unknown segment or stage code {code!r}")


def label(code: str, lang: str = "id", kind: str | None = None) -> str:
    """Return the display label of a segment or lifecycle stage code.

    Parameters
    ----------
    code : str
        A segment code (``"champions"``) or a stage code (``"lapsed"``).
    lang : {"id", "en"}, default "id"
        Language of the label.
    kind : {"segment", "stage"}, optional
        Where to look; by default segments first, then stages (shared codes have the same label).

    Returns
    -------
    str
        The label, e.g. ``label("champions") == "Juara"``, ``label("lapsed", "en") == "Lapsed"``.

    Raises
    ------
    KeyError
        For an unknown code.
    ValueError
        For an unsupported language or kind.
    """
    return _lookup(code, lang, kind, 0)


def describe(code: str, lang: str = "id", kind: str | None = None) -> str:
    """Return a one-sentence plain-language description of a segment or stage.

    Parameters are those of `label`; pass ``kind="stage"`` for the stage meaning of a code that
    is both a segment and a stage (``new``, ``loyal``, ``at_risk``).
    """
    return _lookup(code, lang, kind, 1)


def suggest_action(code: str, lang: str = "id", kind: str | None = None) -> str:
    """Return the suggested marketing action for a segment or stage.

    Parameters are those of `label`; pass ``kind="stage"`` for the stage meaning of a code that
    is both a segment and a stage (``new``, ``loyal``, ``at_risk``).
    """
    return _lookup(code, lang, kind, 2)


def rhythm_sentence(expected_gap_days: float, days_since_last: float, lang: str = "id") -> str:
    """Describe a customer's rhythm against their silence, for the dashboard.

    Parameters
    ----------
    expected_gap_days : float
        The customer's usual number of days between visits.
    days_since_last : float
        Days since the last purchase.
    lang : {"id", "en"}, default "id"
        Language of the sentence.

    Returns
    -------
    str
        E.g. ``"Biasanya datang tiap 7 hari, sudah 30 hari tidak datang."``; an empty string
        when either number is missing.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; use one of {LANGUAGES}")
    if not (math.isfinite(expected_gap_days) and math.isfinite(days_since_last)):
        return ""
    gap, since = max(1, round(expected_gap_days)), max(0, round(days_since_last))
    if lang == "id":
        every = "setiap hari" if gap == 1 else f"tiap {gap} hari"
        if since == 0:
            return f"Biasanya datang {every}, terakhir datang hari ini."
        return f"Biasanya datang {every}, sudah {since} hari tidak datang."
    every = "every day" if gap == 1 else f"every {gap} days"
    if since == 0:
        return f"Usually comes {every}, last came today."
    day_word = "day" if since == 1 else "days"
    return f"Usually comes {every}, not seen for {since} {day_word}."
