"""Vectorised building blocks of the generator: seeded streams, microsecond timestamps, Arrow
arrays straight from numpy buffers, random ids, the deterministic tie-break sort."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.world import MONEY, TS, Credentials

from .shape import EPOCH, UTC

_B36 = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_B64URL = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)
_UPPER_ALNUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", dtype=np.uint8)
_DEC_STRINGS = pa.array([str(i) for i in range(1000)], pa.string())


# ============================================================================================
# small helpers
# ============================================================================================
def to_us(t: dt.datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    return (t - EPOCH) // dt.timedelta(microseconds=1)


def from_us(us: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=int(us))


def local_date(t: dt.datetime, tz: str) -> dt.date:
    return t.astimezone(ZoneInfo(tz)).date()


def local_midnights_us(tz: str, first: dt.date, last: dt.date) -> np.ndarray:
    """UTC instants (us) of local midnight of each date first..last (inclusive) in ``tz``."""
    zone = ZoneInfo(tz)
    n = (last - first).days + 1
    return np.array(
        [to_us(dt.datetime.combine(first + dt.timedelta(days=i), dt.time(), tzinfo=zone)) for i in range(n)],
        dtype=np.int64,
    )


def install_event_id(appsprint_id: str) -> str:
    """The stable ``event_id`` of an install's ``install`` event, derived from its appsprint_id:
    ``inst_`` + the id's 24 hex digits + 6 hex digits of a XOR fold of its 12 bytes (35 chars,
    the same width as ``ev_`` + 32 hex)."""
    raw = bytes.fromhex(appsprint_id.removeprefix("as_"))
    fold = bytes(raw[i] ^ raw[i + 3] ^ raw[i + 6] ^ raw[i + 9] for i in range(3))
    return "inst_" + raw.hex() + fold.hex()


def default_anchor() -> dt.datetime:
    return dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _rng(seed: int, stream: str) -> np.random.Generator:
    key = int.from_bytes(hashlib.sha256(stream.encode()).digest()[:4], "little")
    return np.random.default_rng(np.random.SeedSequence([seed, key]))


def _digest(seed: int, label: str) -> bytes:
    return hashlib.sha256(f"signal-campaigns-sandbox:{seed}:{label}".encode()).digest()


def _credentials(seed: int) -> Credentials:
    def hex40(label: str) -> str:
        return _digest(seed, label).hex()[:40]

    app_id = "7" + str(int.from_bytes(_digest(seed, "tiktok_app_id")[:8], "little") % 10**18).zfill(18)
    return Credentials(
        tiktok_app_id=app_id,
        tiktok_app_secret=hex40("tiktok_app_secret"),
        tiktok_access_token=hex40("tiktok_access_token"),
        events_api_token=hex40("events_api_token"),
        standard_access_token=hex40("standard_access_token"),
        appsprint_app_id="app_" + _digest(seed, "appsprint_app_id").hex()[:16],
        appsprint_export_token="as_export_" + _digest(seed, "appsprint_export_token").hex()[:32],
    )


def _bitmap(valid: np.ndarray | None) -> pa.Buffer | None:
    if valid is None or bool(valid.all()):
        return None
    return pa.py_buffer(np.packbits(valid.astype(np.bool_), bitorder="little"))


def _ts(us: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    us = np.ascontiguousarray(us, dtype=np.int64)
    return pa.Array.from_buffers(TS, len(us), [_bitmap(valid), pa.py_buffer(us)])


def _money(unscaled: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """decimal128(18, 6) from int64 values already scaled by 10**6."""
    v = np.asarray(unscaled, dtype=np.int64)
    mat = np.empty((len(v), 2), dtype=np.int64)
    mat[:, 0] = v
    mat[:, 1] = v >> 63
    return pa.Array.from_buffers(MONEY, len(v), [_bitmap(valid), pa.py_buffer(mat)])


def _date32(days: np.ndarray) -> pa.Array:
    d = np.ascontiguousarray(days, dtype=np.int32)
    return pa.Array.from_buffers(pa.date32(), len(d), [None, pa.py_buffer(d)])


def _strings_fixed(mat: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A string array from an (n, width) uint8 matrix of ASCII codes (zero-copy)."""
    mat = np.ascontiguousarray(mat, dtype=np.uint8)
    n, width = mat.shape
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(width)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(mat), _bitmap(valid))


def _gather_rows(mat: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``mat[idx]`` for a 2-D uint8 matrix, gathering whole rows as opaque items (much faster)."""
    mat = np.ascontiguousarray(mat)
    rows = mat.view(np.dtype((np.void, mat.shape[1]))).reshape(-1)
    return rows[idx].view(np.uint8).reshape(len(idx), mat.shape[1])


def _with_prefix(prefix: str, body: np.ndarray) -> np.ndarray:
    p = np.frombuffer(prefix.encode(), dtype=np.uint8)
    out = np.empty((body.shape[0], len(p) + body.shape[1]), dtype=np.uint8)
    out[:, : len(p)] = p
    out[:, len(p) :] = body
    return out


def _hex_body(raw: np.ndarray) -> np.ndarray:
    """(n, k) bytes -> (n, 2k) lower-case hex ASCII codes (bytes.hex runs at memory speed)."""
    n, k = raw.shape
    return np.frombuffer(np.ascontiguousarray(raw).tobytes().hex().encode("ascii"), dtype=np.uint8).reshape(n, 2 * k)


def _translate_body(raw: np.ndarray, alphabet: np.ndarray) -> np.ndarray:
    """Map each random byte to ``alphabet[byte % len(alphabet)]`` (one C pass, bytes.translate)."""
    table = bytes(alphabet[np.arange(256) % len(alphabet)])
    return np.frombuffer(np.ascontiguousarray(raw).tobytes().translate(table), dtype=np.uint8).reshape(raw.shape)


def _alphabet_body(rng: np.random.Generator, n: int, width: int, alphabet: np.ndarray) -> np.ndarray:
    return alphabet[rng.integers(0, len(alphabet), size=(n, width))]


def _take_pool(pool: Sequence[str] | pa.Array, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``pool[idx]`` as a plain string array (null where not ``valid``), via dictionary decoding."""
    arr = pool if isinstance(pool, pa.Array) else pa.array(list(pool), pa.string())
    indices = pa.array(np.asarray(idx, dtype=np.int32), mask=None if valid is None else ~np.asarray(valid, dtype=bool))
    return pa.DictionaryArray.from_arrays(indices, arr).cast(pa.string())


def _random_bytes(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, k), dtype=np.uint8)


def _b64url_body(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """(n, width) uniformly random url-safe base64 characters."""
    return _translate_body(_random_bytes(rng, n, width), _B64URL)


def _install_event_hex(id_raw: np.ndarray) -> np.ndarray:
    """(n, 30) hex codes of an install event id: the install's 12 id bytes + a 3-byte XOR fold."""
    fold = id_raw[:, 0:3] ^ id_raw[:, 3:6] ^ id_raw[:, 6:9] ^ id_raw[:, 9:12]
    return np.concatenate([_hex_body(id_raw), _hex_body(fold)], axis=1)


def _ipv4_strings(octets: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    parts = [pc.take(_DEC_STRINGS, pa.array(octets[:, i].astype(np.int32))) for i in range(4)]
    out = pc.binary_join_element_wise(*parts, ".")
    if valid is not None and not valid.all():
        out = pc.if_else(pa.array(valid), out, pa.nulls(len(out), pa.string()))
    return out


def _numeric_ids(rng: np.random.Generator, n: int, used: set[str]) -> list[str]:
    """n unique 19-digit numeric id strings (TikTok style, first digit 7)."""
    out: list[str] = []
    while len(out) < n:
        cand = "7" + str(int(rng.integers(10**17, 10**18)))
        if cand not in used:
            used.add(cand)
            out.append(cand)
    return out


def _pick(
    rng: np.random.Generator, candidates: np.ndarray, rate: float, minimum: int, maximum: int | None = None
) -> np.ndarray:
    """A deterministic random subset of ``candidates``: rate * n rows, at least ``minimum``."""
    k = max(minimum, round(rate * len(candidates)))
    if maximum is not None:
        k = min(k, maximum)
    k = min(k, len(candidates))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.choice(candidates, size=k, replace=False))


def _sorted_order(updated: np.ndarray, tiebreak: Any) -> np.ndarray:
    """Order by updated_at, ties by ``tiebreak(rows)``: sortable keys (the rows' ids) of tied rows.

    Timestamps are random microseconds, so ties are rare: the id keys are only computed for them.
    """
    order = np.argsort(updated)  # introsort: deterministic for a given input
    u = updated[order]
    ties = np.flatnonzero(u[1:] == u[:-1])
    if len(ties):
        starts = ties[np.r_[True, np.diff(ties) > 1]]
        for s in starts:  # per tie group (a handful), never per row
            e = s + 1
            while e < len(u) and u[e] == u[s]:
                e += 1
            grp = np.sort(order[s:e])
            keys = list(tiebreak(grp))
            order[s:e] = grp[sorted(range(len(grp)), key=keys.__getitem__)]
    return order


def _row_bytes(prefix: bytes, raw: np.ndarray):
    """tiebreak for :func:`_sorted_order`: ``prefix`` + the row's id bytes (orders like the id)."""
    return lambda rows: [prefix + bytes(raw[r]) for r in rows]
