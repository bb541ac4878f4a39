"""Identical customer histories are merged into weights without changing the fit."""

from __future__ import annotations

import numpy as np
import pytest

from langganan.analytics.btyd import BetaGeo, GammaGamma, ParetoNBD, compress_rows

from .simulate import simulate_bg_nbd


def test_compress_rows_merges_identical_rows_and_sums_weights():
    (x, t), w, inverse = compress_rows([1, 0, 1, 2], [2.0, 0.0, 2.0, 2.0], weights=[1, 1, 3, 1])
    assert x.tolist() == [0.0, 1.0, 2.0]
    assert t.tolist() == [0.0, 2.0, 2.0]
    assert w.tolist() == [1.0, 4.0, 1.0]
    assert x[inverse].tolist() == [1.0, 0.0, 1.0, 2.0]


@pytest.mark.parametrize("model_class", [BetaGeo, ParetoNBD])
def test_fit_on_raw_rows_equals_fit_on_compressed_rows(cdnow, model_class):
    x, rec, t_end = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    (ux, ur, ut), w, _ = compress_rows(x, rec, t_end)
    assert len(ux) < len(x)
    raw = model_class().fit(x, rec, t_end)
    compressed = model_class().fit(ux, ur, ut, weights=w)
    for name, value in raw.params_.items():
        assert compressed.params_[name] == pytest.approx(value, rel=1e-9)
    assert compressed.log_likelihood_ == pytest.approx(raw.log_likelihood_, abs=1e-6)


def test_duplicated_rows_count_like_weights():
    rng = np.random.default_rng(7)
    x, rec, t_end = simulate_bg_nbd(rng, 300, 0.5, 10.0, 0.8, 2.5, np.full(300, 40.0))
    doubled = BetaGeo().fit(np.tile(x, 2), np.tile(rec, 2), np.tile(t_end, 2))
    weighted = BetaGeo().fit(x, rec, t_end, weights=np.full(300, 2.0))
    for name, value in doubled.params_.items():
        assert weighted.params_[name] == pytest.approx(value, rel=1e-8)
    assert weighted.log_likelihood_ == pytest.approx(doubled.log_likelihood_, abs=1e-6)


def test_gamma_gamma_fit_on_raw_rows_equals_fit_with_weights(cdnow_spend):
    x, m = cdnow_spend["x"].to_numpy(), cdnow_spend["zbar"].to_numpy()
    (ux, um), w, _ = compress_rows(x, m)
    raw = GammaGamma().fit(x, m)
    compressed = GammaGamma().fit(ux, um, weights=w)
    for name, value in raw.params_.items():
        assert compressed.params_[name] == pytest.approx(value, rel=1e-9)
    assert compressed.log_likelihood_ == pytest.approx(raw.log_likelihood_, abs=1e-6)
