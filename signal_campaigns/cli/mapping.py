"""The SDK event -> TikTok web event mapping: the dbt seed ``dbt/seeds/event_mapping.csv``.

That seed is the one source of truth: the models build ``events_to_forward`` from it (through
``int_event_mapping``) and the forwarder sends what that queue holds. The CLI reads and rewrites
the same file (same header and format); the next ``dbt build`` applies a change. Names are
validated with ``dbt/seeds/tiktok_standard_events.csv`` (TikTok's standard, legacy and reserved
event names), the same table the model validates against: standard and legacy names are valid, reserved names are not,
anything else is a custom name matching ``^[A-Za-z][A-Za-z0-9_-]{0,49}$``.

``SIGNAL_EVENT_MAPPING_PATH`` points the CLI at another copy of the seed (tests, other checkouts).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
from pathlib import Path

from signal_campaigns.errors import ActionableError
from signal_campaigns.warehouse import DBT_PROJECT_DIR

MAPPING_PATH_ENV = "SIGNAL_EVENT_MAPPING_PATH"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
STANDARD_EVENTS_PATH = SEEDS_DIR / "tiktok_standard_events.csv"
HEADER = ("sdk_event", "tiktok_event", "dashboard_group")
PRIMARY, MORE = "primary", "more_events"
CUSTOM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,49}")
SDK_EVENT = re.compile(r"[a-z][a-z0-9_]{0,63}")

# AppSprint's default event mapping (docs/appsprint_integration.md; what `mapping reset` writes back)
DEFAULT_MAPPING: tuple[tuple[str, str, str], ...] = (
    ("install", "Download", PRIMARY),
    ("session_start", "ViewContent", PRIMARY),
    ("sign_up", "CompleteRegistration", PRIMARY),
    ("register", "CompleteRegistration", PRIMARY),
    ("start_trial", "StartTrial", PRIMARY),
    ("subscribe", "Subscribe", PRIMARY),
    ("purchase", "Purchase", PRIMARY),
    ("initiate_checkout", "InitiateCheckout", MORE),
    ("add_payment_info", "AddPaymentInfo", MORE),
    ("add_to_cart", "AddToCart", MORE),
    ("add_to_wishlist", "AddToWishlist", MORE),
    ("view_content", "ViewContent", MORE),
    ("view_item", "ViewContent", MORE),
    ("search", "Search", MORE),
)


@dataclasses.dataclass
class MappingRow:
    sdk_event: str
    tiktok_event: str  # "" = forwarding disabled
    dashboard_group: str

    @property
    def enabled(self) -> bool:
        return bool(self.tiktok_event)


def mapping_path() -> Path:
    raw = os.environ.get(MAPPING_PATH_ENV)
    return Path(raw).expanduser().resolve() if raw else SEEDS_DIR / "event_mapping.csv"


def tiktok_event_names() -> dict[str, tuple[str, str]]:
    """event name -> (kind, standard name) from the seed the models validate with."""
    with STANDARD_EVENTS_PATH.open(newline="", encoding="utf-8") as fh:
        return {r["event_name"]: (r["kind"], r["standard_name"]) for r in csv.DictReader(fh)}


def validate_tiktok_event(name: str) -> str:
    """``name`` if TikTok accepts it as a web event ("" disables); :class:`ActionableError` otherwise.
    Returns the kind: ``standard``, ``legacy``, ``custom`` or ``disabled``."""
    if name == "":
        return "disabled"
    names = tiktok_event_names()
    if name in names:
        kind, standard = names[name]
        if kind == "reserved":
            raise ActionableError(
                f"'{name}' is a reserved TikTok name (TikTok maps it to {standard}) and cannot be a custom event",
                fix=f"use the standard name: {standard}",
            )
        return kind
    for known, (kind, _standard) in names.items():
        if kind in ("standard", "legacy") and known.lower() == name.lower():
            raise ActionableError(
                f"'{name}' differs from TikTok's standard event '{known}' only in case; TikTok event "
                "names are case-sensitive",
                fix=f"use '{known}'",
            )
    if CUSTOM_NAME.fullmatch(name) is None:
        raise ActionableError(
            f"'{name}' is not a valid TikTok custom event name",
            fix="custom event names start with a letter and use at most 50 letters, digits, "
            "underscores or hyphens (define it in TikTok Events Manager first)",
        )
    return "custom"


def validate_sdk_event(name: str) -> str:
    text = name.strip().lower()
    if SDK_EVENT.fullmatch(text) is None:
        raise ActionableError(
            f"'{name}' is not an AppSprint SDK event type",
            fix="use the lower-case event type the SDK sends, e.g. purchase, start_trial, login",
        )
    return text


def read_mapping(path: Path | None = None) -> list[MappingRow]:
    path = path or mapping_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ActionableError(
            f"the event mapping seed {path} does not exist",
            fix="run `signal-campaigns mapping reset` to write the default mapping",
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != HEADER:
        raise ActionableError(
            f"{path} does not have the columns {', '.join(HEADER)}",
            fix="run `signal-campaigns mapping reset` (it rewrites the default mapping)",
        )
    return [
        MappingRow(
            (r["sdk_event"] or "").strip().lower(),
            (r["tiktok_event"] or "").strip(),
            (r["dashboard_group"] or MORE).strip() or MORE,
        )
        for r in reader
        if (r["sdk_event"] or "").strip()
    ]


def write_mapping(rows: list[MappingRow], path: Path | None = None) -> Path:
    path = path or mapping_path()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    for r in rows:
        writer.writerow((r.sdk_event, r.tiktok_event, r.dashboard_group))
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def ordered(rows: list[MappingRow]) -> list[MappingRow]:
    """Primary events first (in file order), then the others."""
    return [r for r in rows if r.dashboard_group == PRIMARY] + [r for r in rows if r.dashboard_group != PRIMARY]


def set_event(sdk_event: str, tiktok_event: str, path: Path | None = None) -> tuple[MappingRow, str]:
    """Map (or with ``""`` disable) one SDK event; returns the row and the TikTok name's kind."""
    sdk = validate_sdk_event(sdk_event)
    target = tiktok_event.strip()
    kind = validate_tiktok_event(target)
    rows = read_mapping(path)
    for row in rows:
        if row.sdk_event == sdk:
            row.tiktok_event = target
            break
    else:
        row = MappingRow(sdk, target, MORE)
        rows.append(row)
    write_mapping(rows, path)
    return row, kind


def reset(path: Path | None = None) -> list[MappingRow]:
    rows = [MappingRow(*r) for r in DEFAULT_MAPPING]
    write_mapping(rows, path)
    return rows
