"""Turning caller input into the normalised views the SQL in :mod:`.sql` reads.

The SQL never sees the caller's column names: the input is registered as ``input_<view>`` and a
view with fixed column names is defined on top of it:

``transactions``
    ``customer_id`` (the caller's type), ``ts`` (naive local TIMESTAMP), ``amount``
    (DECIMAL(18, 2); refunds are negative amounts and are summed as given). Rows without a
    customer or a timestamp (walk-ins, broken rows) are left out.
``lines``
    ``customer_id``, ``transaction_id``, ``item``, ``quantity`` (DOUBLE, 1 when not given).

Scalar settings (observation end, period, top-N …) reach the SQL as one-row *parameter views*,
never formatted into the SQL text.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from .engines import TEXT_TO_LOCAL_TIMESTAMP, Engine, get_engine, quote_identifier

_TEXT_TYPES = ("varchar", "string", "text", "char")


@contextlib.contextmanager
def engine_scope(engine: str | Engine) -> Iterator[Engine]:
    """An engine for one analysis; one created here from a name is closed afterwards."""
    owned = isinstance(engine, str)
    instance = get_engine(engine)
    try:
        yield instance
    finally:
        if owned and hasattr(instance, "close"):
            instance.close()


def drop_view(engine: Engine, name: str) -> None:
    """Drop a view made with ``create_view`` when the engine can (frees a materialised one)."""
    drop = getattr(engine, "drop_view", None)
    if drop is not None:
        drop(name)


def _require_columns(engine: Engine, view: str, wanted: Mapping[str, str | None]) -> dict[str, str]:
    types = engine.columns(view)
    missing = [
        f"{role}={col!r}" for role, col in wanted.items() if col is not None and col not in types
    ]
    if missing:
        raise KeyError(
            f"Column(s) not found in the input: {', '.join(missing)}. "
            f"Available columns: {', '.join(types)}"
        )
    return types


def timestamp_sql(column: str, sql_type: str) -> str:
    """SQL for a naive local timestamp from a column of any date/time/text type."""
    quoted = quote_identifier(column)
    if sql_type.startswith(_TEXT_TYPES):
        return TEXT_TO_LOCAL_TIMESTAMP.format(col=quoted)
    return f"CAST({quoted} AS TIMESTAMP)"


def register_transactions(
    engine: Engine,
    data: Any,
    *,
    customer: str,
    timestamp: str,
    amount: str | None,
    view: str = "transactions",
) -> None:
    """Register ``data`` and define the normalised ``transactions`` view on it."""
    source = f"input_{view}"
    engine.register(source, data, text_columns=[timestamp])
    types = _require_columns(
        engine, source, {"customer": customer, "timestamp": timestamp, "amount": amount}
    )
    cust = quote_identifier(customer)
    ts = timestamp_sql(timestamp, types[timestamp])
    money = (
        f"CAST({quote_identifier(amount)} AS DECIMAL(18, 2))"
        if amount is not None
        else "CAST(0 AS DECIMAL(18, 2))"
    )
    engine.create_view(
        view,
        f"SELECT {cust} AS customer_id, {ts} AS ts, {money} AS amount "  # noqa: S608 (quoted names)
        f"FROM {quote_identifier(source)} "
        f"WHERE {cust} IS NOT NULL AND {quote_identifier(timestamp)} IS NOT NULL",
    )


def register_lines(
    engine: Engine,
    data: Any,
    *,
    transaction: str,
    item: str,
    customer: str | None = None,
    quantity: str | None = None,
    view: str = "lines",
    keep_missing_customer: bool = False,
) -> None:
    """Register ``data`` and define the normalised ``lines`` view on it (NULL items dropped).

    Lines without a customer are dropped when ``customer`` is given, unless
    ``keep_missing_customer`` (their ``customer_id`` is then NULL).
    """
    source = f"input_{view}"
    engine.register(source, data)
    _require_columns(
        engine,
        source,
        {"customer": customer, "transaction": transaction, "item": item, "quantity": quantity},
    )
    cust = quote_identifier(customer) if customer is not None else "NULL"
    qty = (
        f"CAST({quote_identifier(quantity)} AS DOUBLE)"
        if quantity is not None
        else "CAST(1 AS DOUBLE)"
    )
    where = f"{quote_identifier(item)} IS NOT NULL AND {quote_identifier(transaction)} IS NOT NULL"
    if customer is not None and not keep_missing_customer:
        where += f" AND {cust} IS NOT NULL"
    engine.create_view(
        view,
        f"SELECT {cust} AS customer_id, {quote_identifier(transaction)} AS transaction_id, "  # noqa: S608
        f"{quote_identifier(item)} AS item, {qty} AS quantity "
        f"FROM {quote_identifier(source)} WHERE {where}",
    )


_ARROW_TYPES = {
    bool: pa.bool_(),
    int: pa.int64(),
    float: pa.float64(),
    str: pa.string(),
    dt.datetime: pa.timestamp("us"),
}


def register_params(engine: Engine, view: str, **values: tuple[type, Any]) -> None:
    """Register a one-row parameter view: ``name=(python_type, value)``; ``None`` is NULL."""
    arrays = {
        name: pa.array([value], type=_ARROW_TYPES[kind]) for name, (kind, value) in values.items()
    }
    engine.register(view, pa.table(arrays))


def as_local_datetime(value: Any, what: str = "observation_end") -> dt.datetime | None:
    """A date, datetime, string or pandas Timestamp as a naive local datetime (None stays None).

    A timezone-aware value keeps its own wall-clock time, like the transaction timestamps.
    """
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Invalid {what}: {value!r}") from exc
    if stamp is pd.NaT:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.to_pydatetime()


def choice(value: str, options: Mapping[str, Any], what: str) -> Any:
    """Validate a setting against its allowed values (case-insensitive)."""
    key = str(value).strip().upper()
    if key not in options:
        raise ValueError(f"{what} must be one of {', '.join(options)}, got {value!r}")
    return options[key]
