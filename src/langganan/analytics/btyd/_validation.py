"""Input validation, compression of repeated rows and the shared errors and warnings."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

FloatArray = NDArray[np.float64]

# Error messages are constants so that callers and tests can assert on them.
ERR_NOT_FITTED = "{name} is not fitted yet: call fit() before using this method"
ERR_EMPTY = "no customers given: the inputs are empty"
ERR_NOT_1D = "{field} must be one-dimensional (one value per customer)"
ERR_LENGTH_MISMATCH = "frequency, recency, T (and weights) must have the same length; got {lengths}"
ERR_NOT_NUMERIC = "{field} must be numeric"
ERR_NOT_FINITE = "{field} contains NaN or infinite values"
ERR_NEGATIVE = "{field} contains negative values"
ERR_FREQUENCY_NOT_INTEGER = "frequency must be whole numbers (number of repeat purchase periods)"
ERR_RECENCY_AFTER_T = "recency must not exceed T (the last purchase is after the observation end)"
ERR_RECENCY_WITHOUT_REPEAT = "recency must be 0 when frequency is 0 (no repeat purchase)"
ERR_T_NOT_POSITIVE = "T must be positive for every customer"
ERR_WEIGHTS_NOT_POSITIVE = "weights must be positive"
ERR_NO_REPEAT_BUYERS = (
    "cannot fit {name}: no customer made a repeat purchase (all frequencies are 0), "
    "so the purchase rate and the dropout process are not identified"
)
ERR_MONETARY_NOT_POSITIVE = "monetary_value must be positive for customers with frequency > 0"
ERR_TOO_FEW_REPEAT_BUYERS = (
    "cannot fit GammaGamma: it needs at least 2 customers with frequency > 0 (got {n})"
)
ERR_GG_SPEND_CONSTANT = (
    "cannot fit GammaGamma: every repeat customer has the same frequency and average spend, "
    "so the spread of spend across customers is not identified"
)
ERR_BAD_SETTING = "{name} must be {what}; got {value!r}"
ERR_T_HORIZON = "t (the prediction horizon) must be finite and non-negative"


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the enclosed numpy code with one BLAS thread.

    The models' vector products are far too small for threads to pay off, and a
    multi-threaded BLAS that has to wait for a core busy with other work (DuckDB, another
    process) turns a 10 microsecond dot product into milliseconds.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used for prediction before ``fit`` (as in scikit-learn)."""


class FitWarning(UserWarning):
    """Warns that a fit did not converge or that parameters ran to the edge of their range."""


def as_1d_float(values: ArrayLike, field: str) -> FloatArray:
    """Convert ``values`` to a finite, non-negative one-dimensional float array.

    Parameters
    ----------
    values : array-like
        The input values (a scalar becomes a one-element array).
    field : str
        Name used in error messages.

    Returns
    -------
    numpy.ndarray
        A float64 copy of the values.

    Raises
    ------
    ValueError
        When the values are not numeric, not one-dimensional, not finite or negative.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(ERR_NOT_NUMERIC.format(field=field)) from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(ERR_NOT_1D.format(field=field))
    if not np.all(np.isfinite(arr)):
        raise ValueError(ERR_NOT_FINITE.format(field=field))
    if np.any(arr < 0):
        raise ValueError(ERR_NEGATIVE.format(field=field))
    return arr


def _check_lengths(arrays: Sequence[FloatArray]) -> None:
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(ERR_LENGTH_MISMATCH.format(lengths=lengths))
    if lengths[0] == 0:
        raise ValueError(ERR_EMPTY)


def check_frequency(frequency: FloatArray) -> None:
    """Raise ``ValueError`` unless every frequency is a whole number."""
    if np.any(frequency != np.round(frequency)):
        raise ValueError(ERR_FREQUENCY_NOT_INTEGER)


def validate_rfm(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Validate the (frequency, recency, T) summary of each customer.

    Parameters
    ----------
    frequency, recency, T : array-like
        Number of repeat purchase periods, time from the first to the last purchase, and time
        from the first purchase to the end of observation, one value per customer.
    weights : array-like, optional
        Positive number of customers each row stands for (default 1 each).

    Returns
    -------
    tuple of numpy.ndarray
        ``(frequency, recency, T, weights)`` as float64 arrays.

    Raises
    ------
    ValueError
        With one of the ``ERR_*`` messages of this module.
    """
    x = as_1d_float(frequency, "frequency")
    t_x = as_1d_float(recency, "recency")
    t_end = as_1d_float(T, "T")
    w = np.ones_like(x) if weights is None else as_1d_float(weights, "weights")
    _check_lengths([x, t_x, t_end, w])
    check_frequency(x)
    if np.any(t_x > t_end):
        raise ValueError(ERR_RECENCY_AFTER_T)
    if np.any((x == 0) & (t_x != 0)):
        raise ValueError(ERR_RECENCY_WITHOUT_REPEAT)
    if np.any(t_end <= 0):
        raise ValueError(ERR_T_NOT_POSITIVE)
    if np.any(w <= 0):
        raise ValueError(ERR_WEIGHTS_NOT_POSITIVE)
    return x, t_x, t_end, w


def validate_horizon(t: ArrayLike) -> FloatArray:
    """Validate a prediction horizon (scalar or array) and return it as a float array."""
    arr = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(ERR_T_HORIZON)
    return arr


def distinct_values(values: ArrayLike) -> tuple[FloatArray, NDArray[np.intp]]:
    """Sorted distinct values and the index of each value among them, like
    ``np.unique(values, return_inverse=True)`` but by hashing: only the distinct values are
    sorted, which is several times faster on long columns with few distinct values."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=np.float64).ravel(), sort=True)
    return np.asarray(uniques, dtype=np.float64), codes


def compress_rows(
    *columns: ArrayLike, weights: ArrayLike | None = None
) -> tuple[list[FloatArray], FloatArray, NDArray[np.intp]]:
    """Merge identical rows into unique rows with summed weights.

    Parameters
    ----------
    *columns : array-like
        Equal-length one-dimensional columns, e.g. ``frequency, recency, T``.
    weights : array-like, optional
        Weight of each input row (default 1).

    Returns
    -------
    unique_columns : list of numpy.ndarray
        The columns of the unique rows (sorted lexicographically).
    unique_weights : numpy.ndarray
        Sum of the weights of the input rows merged into each unique row.
    inverse : numpy.ndarray
        Index of the unique row of each input row, so ``unique_columns[0][inverse]`` gives
        back the first column.

    Examples
    --------
    >>> (x, t), w, inv = compress_rows([1, 0, 1], [2.0, 0.0, 2.0])
    >>> x.tolist(), t.tolist(), w.tolist(), inv.tolist()
    ([0.0, 1.0], [0.0, 2.0], [1.0, 2.0], [1, 0, 1])
    """
    cols = [np.asarray(c, dtype=np.float64).ravel() for c in columns]
    n = len(cols[0])
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if n <= 1:  # nothing to merge (one customer's live update): skip the hashing
        return cols, w.copy(), np.zeros(n, dtype=np.intp)
    # Code each column by its distinct values, then combine the codes into one integer key
    # (mixed radix). Hash-based factorisation (sorting only the distinct values) is several
    # times faster than np.unique, which sorts every row.
    values: list[FloatArray] = []
    codes: list[NDArray[np.intp]] = []
    for col in cols:
        uniq, code = distinct_values(col)
        values.append(uniq)
        codes.append(code)
    radix = [len(v) for v in values]
    if float(np.prod(np.array(radix, dtype=np.float64))) < 2.0**62:
        key = np.zeros(n, dtype=np.int64)
        for code, size in zip(codes, radix, strict=True):
            key = key * size + code
        inverse, ukey = pd.factorize(key, sort=True)
        ukey = np.asarray(ukey, dtype=np.int64)
        unique_cols = []
        for uniq, size in zip(values[::-1], radix[::-1], strict=True):
            unique_cols.append(uniq[ukey % size])
            ukey = ukey // size
        unique_cols.reverse()
    else:  # pragma: no cover - needs more than 2**62 distinct combinations
        stacked = np.column_stack(codes)
        urows, inverse = np.unique(stacked, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        unique_cols = [values[j][urows[:, j]] for j in range(len(values))]
    summed = np.bincount(inverse, weights=w, minlength=len(unique_cols[0]))
    return unique_cols, summed, inverse
