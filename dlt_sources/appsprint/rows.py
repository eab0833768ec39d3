"""Typing and quarantine: raw columns -> typed Arrow table with the explicit schema of
:mod:`.settings`, validated with ``pyarrow.compute`` masks; rows that cannot be typed go to a
quarantine table with their reason and raw JSON. Per-row Python only runs on the (rare)
suspicious rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from . import settings
from .columns import Problems, RawColumns, number_text
from .guards import DEVICE_TIME_COLUMNS, FUTURE_TOLERANCE
from .pages import raw_from_rows

_CURRENCY_RE = r"^[A-Z]{3}$"
# An ISO-8601 UTC timestamp of a real calendar day, except that 29 February is accepted in every
# year (the leap year is checked for those rows only): one regex pass, no per-field slicing.
_ISO_UTC_RE = (
    r"^\d{4}-((0[13578]|1[02])-(0[1-9]|[12]\d|3[01])|(0[469]|11)-(0[1-9]|[12]\d|30)|02-(0[1-9]|1\d|2[0-9]))"
    r"[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|z|[+-]([01]\d|2[0-3]):?[0-5]\d)$"
)
# bytes of field names, quotes, colons, commas, braces and numbers of one event row: a generous
# upper bound used to decide which rows need their exact serialized size measured
_EVENT_FIXED_OVERHEAD = 1024


@dataclasses.dataclass
class TypedPage:
    table: pa.Table  # good rows, spec.arrow_schema
    quarantine: pa.Table | None  # settings.QUARANTINE_SCHEMA, None when every row typed
    unknown_fields: frozenset[str] = frozenset()
    rows: int = 0  # rows received (typed + quarantined)


def cast_marking_bad(raw: pa.Array, target: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """Cast ``raw`` to ``target``; values that cannot be cast become null and are flagged.

    One vectorised cast for the whole column; when it fails (a hostile value in the batch) the bad
    values are found by bisection (a few casts of shrinking slices), nulled, and the rest cast."""
    try:
        return raw.cast(target), np.zeros(len(raw), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    bad = np.zeros(len(raw), dtype=bool)
    if target == settings.TS:
        # bad timestamps either do not look like one or name a day the month does not have:
        # both found in vectorised passes, so the bisection below is for oddities only
        implausible = _implausible_timestamps(raw)
        bad |= implausible.to_numpy(zero_copy_only=False)
        raw = pc.if_else(implausible, pa.scalar(None, raw.type), raw)
        try:
            return raw.cast(target), bad
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    _find_uncastable(raw, target, 0, bad)
    kept = pc.if_else(pa.array(bad), pa.scalar(None, raw.type), raw)
    return kept.cast(target), bad


def _implausible_timestamps(raw: pa.Array) -> pa.Array:
    """True where a string is not an ISO-8601 UTC timestamp of a real calendar day."""
    looks_right = pc.fill_null(pc.match_substring_regex(raw, _ISO_UTC_RE), True)
    bad = np.asarray(pc.invert(looks_right).to_numpy(zero_copy_only=False), dtype=bool).copy()
    feb29 = np.nonzero(
        pc.fill_null(pc.and_(looks_right, pc.match_substring(raw, "-02-29")), False).to_numpy(zero_copy_only=False)
    )[0]
    for i in map(int, feb29):
        text = raw[i].as_py()
        year = int(text[:4])
        if text[4:10] == "-02-29":  # the date, not an offset that happens to read so
            bad[i] = not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0))
    return pa.array(bad)


def _find_uncastable(arr: pa.Array, target: pa.DataType, offset: int, bad: np.ndarray) -> None:
    try:
        arr.cast(target)
        return
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if len(arr) == 1:
        bad[offset] = True
        return
    mid = len(arr) // 2
    _find_uncastable(arr.slice(0, mid), target, offset, bad)
    _find_uncastable(arr.slice(mid), target, offset + mid, bad)


def _as_float(src: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """float64 as is; JSON number text cast in bulk (a JSON string or boolean is flagged)."""
    if pa.types.is_floating(src.type) or pa.types.is_integer(src.type) or pa.types.is_decimal(src.type):
        return src.cast(pa.float64()), np.zeros(len(src), dtype=bool)
    src = pc.if_else(pc.equal(src, "null"), pa.scalar(None, src.type), src)
    return cast_marking_bad(src, pa.float64())


def _finite_numbers(name: str, src: pa.Array, reason: str, problems: Problems) -> pa.Array:
    """A numeric column as float64: values that are not numbers (text such as ``"NaN"`` or ``"-"``,
    booleans, objects) and values that are not finite (``NaN``, ``Infinity``, ``-Infinity``, or a
    number too large for a double) are flagged with ``reason`` and nulled."""
    num, bad_type = _as_float(src)
    problems.add(bad_type, lambda i, c=name, v=src: f"{reason}: {c}={number_text(v[i].as_py())} is not a number")
    not_finite = pc.fill_null(pc.invert(pc.is_finite(num)), False)
    if pc.any(not_finite).as_py():
        problems.add(
            not_finite,
            lambda i, c=name, v=num, t=src: f"{reason}: {c}={_served_number(t[i].as_py(), v[i].as_py())} is not finite",
        )
        num = pc.if_else(not_finite, pa.scalar(None, pa.float64()), num)
    return num


def _served_number(served: Any, value: float) -> str:
    """How a non-finite number was served: its JSON text when it came as text, else its literal."""
    if type(served) is str:
        return served
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def _check_future(columns: tuple[str, ...], typed: dict[str, pa.Array], now: dt.datetime, problems: Problems) -> None:
    """Flags device times more than the tolerance ahead of the server's clock ``now``."""
    latest = pa.scalar(now + FUTURE_TOLERANCE, settings.TS)
    minutes = int(FUTURE_TOLERANCE.total_seconds() // 60)
    for name in columns:
        values = typed[name]
        ahead = pc.fill_null(pc.greater(values, latest), False)
        problems.add(
            ahead,
            lambda i, c=name, v=values: (
                f"future_timestamp: {c}={v[i].as_py().isoformat()} is more than {minutes} minutes after "
                f"the export's clock ({now.isoformat()})"
            ),
        )


def _param_problem(params: dict[str, Any]) -> str | None:
    """Why an event's parameters break the SDK's limits, or None."""
    if len(params) > settings.PARAMETERS_MAX_KEYS:
        return f"parameters has {len(params)} keys (max {settings.PARAMETERS_MAX_KEYS})"
    for key, value in params.items():
        if len(key) > settings.PARAMETER_KEY_MAX_CHARS:
            return f"parameter key {key[:32]!r}... is {len(key)} chars (max {settings.PARAMETER_KEY_MAX_CHARS})"
        if type(value) is str and len(value) > settings.PARAMETER_STRING_VALUE_MAX_CHARS:
            return (
                f"parameter {key!r} is a string of {len(value)} chars (max {settings.PARAMETER_STRING_VALUE_MAX_CHARS})"
            )
    return None


# --- typing ----------------------------------------------------------------------------------------
def type_page(
    spec: settings.ResourceSpec,
    rows: Sequence[Any],
    *,
    quarantined_at: dt.datetime | None = None,
    served_at: dt.datetime | None = None,
) -> TypedPage:
    """Type one page of parsed API rows. Rows that cannot be typed go to the quarantine table."""
    return type_raw(spec, raw_from_rows(spec, rows), quarantined_at=quarantined_at, served_at=served_at)


def type_raw(
    spec: settings.ResourceSpec,
    raw: RawColumns,
    *,
    quarantined_at: dt.datetime | None = None,
    served_at: dt.datetime | None = None,
) -> TypedPage:
    """Type raw columns with the explicit schema, validating with vectorised masks. ``served_at``
    is the export server's clock when it served the rows (this machine's clock when None): a
    device time further ahead of it than :data:`~.guards.FUTURE_TOLERANCE` is quarantined."""
    n = raw.n
    problems = raw.problems
    arrays: list[pa.Array] = []
    raw_strings: dict[str, pa.Array] = {}  # string source values, for size bounds
    typed: dict[str, pa.Array] = {}
    for col in spec.columns:
        name = col.name
        src = raw.columns[name]
        if col.kind in ("id", "string"):
            arr = src
            raw_strings[name] = arr
            if col.required:
                missing = pc.or_kleene(pc.is_null(arr), pc.equal(pc.utf8_length(arr), 0))
                reason = "missing_id" if col.kind == "id" else f"missing_{name}"
                problems.add(missing, lambda i, r=reason: r)
        elif col.kind == "timestamp":
            if pa.types.is_string(src.type):
                raw_strings[name] = src
            arr, bad = cast_marking_bad(src, settings.TS)
            problems.add(bad, lambda i, c=name, v=src: f"bad_timestamp: {c}={v[i].as_py()!r}")
            if col.required:
                problems.add(pc.is_null(src), lambda i, c=name: f"bad_timestamp: {c}=None")
        elif col.kind == "money":
            num = _finite_numbers(name, src, "bad_revenue", problems)
            negative = pc.fill_null(pc.less(num, 0), False)
            problems.add(negative, lambda i, c=name, v=src: f"negative_revenue: {c}={number_text(v[i].as_py())}")
            too_big = pc.fill_null(pc.greater_equal(pc.abs(num), float(settings.MONEY_MAX_ABS)), False)
            problems.add(too_big, lambda i, c=name, v=src: f"bad_revenue: {c}={number_text(v[i].as_py())} out of range")
            drop = pc.or_(negative, too_big)
            if pc.any(drop).as_py():
                num = pc.if_else(drop, pa.scalar(None, pa.float64()), num)
            try:
                if pa.types.is_decimal(src.type):  # exact: no round trip through float
                    kept = pc.if_else(pc.is_null(num), pa.scalar(None, src.type), src)
                    arr = kept.cast(settings.MONEY, safe=False)
                else:
                    arr = num.cast(settings.MONEY)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                # a value the decimal type cannot hold fails its own row, not the batch
                arr, bad = cast_marking_bad(num, settings.MONEY)
                problems.add(
                    bad, lambda i, c=name, v=src: f"bad_revenue: {c}={number_text(v[i].as_py())} not a decimal"
                )
        elif col.kind == "double":
            arr = _finite_numbers(name, src, "bad_number", problems)
        elif col.kind == "currency":
            raw_strings[name] = src
            arr = pc.utf8_upper(src)
            bad = pc.and_(pc.is_valid(arr), pc.invert(pc.match_substring_regex(arr, _CURRENCY_RE)))
            problems.add(bad, lambda i, c=name, v=src: f"bad_currency: {c}={v[i].as_py()!r}")
        elif col.kind == "json":
            arr = _json_objects(name, src, problems)
        else:  # pragma: no cover - settings and this function move together
            raise AssertionError(col.kind)
        arrays.append(arr)
        typed[name] = arr

    if spec.name == "events" and n:
        _check_event_limits(raw, typed, raw_strings, problems)
    if n and spec.name in DEVICE_TIME_COLUMNS:
        _check_future(DEVICE_TIME_COLUMNS[spec.name], typed, served_at or dt.datetime.now(dt.UTC), problems)

    table = pa.Table.from_arrays(arrays, schema=_nullable_schema(spec))
    bad_idx = np.nonzero(problems.any)[0]
    q_raw = list(raw.odd_rows)
    q_reason = ["not_an_object: row is not a JSON object"] * len(raw.odd_rows)
    q_key: list[str | None] = [None] * len(raw.odd_rows)
    q_updated: list[Any] = [None] * len(raw.odd_rows)
    if len(bad_idx):
        keys = raw.columns[spec.key]
        updated = typed[spec.cursor]
        for i in map(int, bad_idx):
            q_raw.append(raw.row_json(i))
            q_reason.append(problems.reasons(i))
            q_key.append(keys[i].as_py() or None)
            q_updated.append(updated[i].as_py())
        table = table.filter(pa.array(~problems.any))
    table = table.cast(spec.arrow_schema)  # required columns become NOT NULL
    quarantine = None
    if q_raw:
        when = quarantined_at or dt.datetime.now(dt.UTC)
        quarantine = pa.table(
            {
                "resource": pa.array([spec.name] * len(q_raw), pa.string()),
                "row_key": pa.array(q_key, pa.string()),
                "reason": pa.array(q_reason, pa.string()),
                "raw": pa.array(q_raw, pa.string()),
                "updated_at": pa.array(q_updated, settings.TS),
                "quarantined_at": pa.array([when] * len(q_raw), settings.TS),
            },
            schema=settings.QUARANTINE_SCHEMA,
        )
    return TypedPage(table, quarantine, frozenset(raw.unknown_fields), n + len(raw.odd_rows))


def _nullable_schema(spec: settings.ResourceSpec) -> pa.Schema:
    return pa.schema([pa.field(f.name, f.type, nullable=True) for f in spec.arrow_schema])


def _json_objects(name: str, src: pa.Array, problems: Problems) -> pa.Array:
    """JSON text that must be an object. A JSON string holding an object is unwrapped; anything
    else (array, number, string) is flagged ``bad_parameters``."""
    not_object = pc.fill_null(pc.invert(pc.starts_with(src, "{")), False)
    if not pc.any(not_object).as_py():
        return src
    values = src.to_pylist()
    bad = np.zeros(len(values), dtype=bool)
    for i in np.nonzero(not_object.to_numpy(zero_copy_only=False))[0]:
        text = values[i]
        try:
            parsed = orjson.loads(text)
            if type(parsed) is str:
                parsed = orjson.loads(parsed)
        except orjson.JSONDecodeError:
            parsed = None
        if type(parsed) is dict:
            values[i] = orjson.dumps(parsed).decode()
        else:
            bad[i] = True
            values[i] = None
    original = src
    problems.add(bad, lambda i, c=name, v=original: f"bad_parameters: {c} is not a JSON object: {v[i].as_py()[:80]!r}")
    return pa.array(values, pa.string())


def _check_event_limits(
    raw: RawColumns,
    typed: dict[str, pa.Array],
    raw_strings: dict[str, pa.Array],
    problems: Problems,
) -> None:
    """The SDK's event limits (16 KiB serialized; parameters <= 64 keys, keys <= 128 chars,
    string values <= 2048 chars), vectorised: only rows that could break them are inspected."""
    n = raw.n
    params = typed["parameters"]
    params_len = pc.fill_null(pc.binary_length(params), 0).to_numpy(zero_copy_only=False)
    # Upper bound of the serialized row: parameters (already JSON) + every other string escaped
    # at worst 6 bytes per byte + a generous constant for names, punctuation and numbers.
    other = np.zeros(n, dtype=np.int64)
    for arr in raw_strings.values():
        other += pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False)
    # typed (Arrow) timestamps: "YYYY-MM-DDTHH:MM:SS.mmmZ" plus quotes
    other += 26 * sum(1 for c in raw.columns.values() if pa.types.is_timestamp(c.type))
    bound = params_len + 6 * other + _EVENT_FIXED_OVERHEAD
    candidates = bound > settings.EVENT_MAX_BYTES
    if raw.extra_field_rows is not None:
        candidates |= raw.extra_field_rows
    size_candidates = np.nonzero(candidates)[0]
    # a parameters object under 129 bytes cannot hold a key over 128 chars, a value over
    # 2048 chars or more than 64 keys
    param_candidates = np.nonzero(params_len > settings.PARAMETER_KEY_MAX_CHARS)[0]
    if not len(size_candidates) and not len(param_candidates):
        return
    too_large: dict[int, str] = {}
    for i in map(int, size_candidates):
        size = len(raw.row_json(i).encode())
        if size > settings.EVENT_MAX_BYTES:
            too_large[i] = f"event is {size} bytes serialized (max {settings.EVENT_MAX_BYTES})"
    for i in map(int, param_candidates):
        if i in too_large:
            continue
        text = params[i].as_py()
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if type(value) is dict:
            why = _param_problem(value)
            if why:
                too_large[i] = why
    if too_large:
        mask = np.zeros(n, dtype=bool)
        mask[list(too_large)] = True
        problems.add(mask, lambda i: f"event_too_large: {too_large[i]}")
