"""The SDK event -> TikTok web event mapping: the tracked dbt seed ``dbt/seeds/event_mapping.csv``
(AppSprint's defaults, never edited by the CLI) and the user's changes in a git-ignored local
override (``data/event_mapping.local.csv``, env ``SIGNAL_EVENT_MAPPING_OVERRIDE``), which the
builds pass to dbt as the var ``event_mapping_overrides`` (:func:`~signal_campaigns.warehouse.dbt_runner.run_dbt`):
``int_event_mapping`` applies it over the seed, so the override wins, and the forwarder sends what
the resulting queue holds.

Names are validated with ``dbt/seeds/tiktok_standard_events.csv`` (TikTok's standard, legacy and
reserved event names), the same table the model validates against: standard and legacy names are
valid, reserved names are not, anything else is a custom name matching
``^[A-Za-z][A-Za-z0-9_-]{0,49}$``. SDK event names must be known (the default mapping, the SDK's
documented types, the event types AppSprint reported into the warehouse) unless declared new: a
misspelt one is refused with the closest known names.

``SIGNAL_EVENT_MAPPING_PATH`` points the CLI at another copy of the seed (tests, other checkouts).
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import io
import os
import re
from collections.abc import Iterable
from pathlib import Path

from signal_campaigns.errors import ActionableError
from signal_campaigns.warehouse import DBT_PROJECT_DIR
from signal_campaigns.warehouse.dbt_runner import mapping_override_path, mapping_overrides

MAPPING_PATH_ENV = "SIGNAL_EVENT_MAPPING_PATH"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
STANDARD_EVENTS_PATH = SEEDS_DIR / "tiktok_standard_events.csv"
HEADER = ("sdk_event", "tiktok_event", "dashboard_group")
OVERRIDE_HEADER = ("sdk_event", "tiktok_event")
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
# SDK event types without a default (docs/appsprint_integration.md): known, not forwarded until mapped
DOCUMENTED_SDK_EVENTS = (
    "login",
    "achieve_level",
    "level_start",
    "level_complete",
    "tutorial_complete",
    "share",
    "custom",
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


def read_seed(path: Path | None = None) -> list[MappingRow]:
    """The tracked seed's rows (AppSprint's defaults)."""
    path = path or mapping_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ActionableError(
            f"the event mapping seed {path} does not exist",
            fix="restore it from git (`git checkout -- dbt/seeds/event_mapping.csv`)",
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != HEADER:
        raise ActionableError(
            f"{path} does not have the columns {', '.join(HEADER)}",
            fix="restore it from git (`git checkout -- dbt/seeds/event_mapping.csv`)",
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


def read_mapping(path: Path | None = None) -> list[MappingRow]:
    """The effective mapping: the seed with the local override applied (new events last, in ``more_events``)."""
    rows = read_seed(path)
    overrides = mapping_overrides()
    for row in rows:
        row.tiktok_event = overrides.pop(row.sdk_event, row.tiktok_event)
    return rows + [MappingRow(sdk, target, MORE) for sdk, target in overrides.items()]


def write_overrides(overrides: dict[str, str]) -> Path:
    """Rewrite the local override file (atomically); no override left: the file is removed."""
    path = mapping_override_path()
    if not overrides:
        path.unlink(missing_ok=True)
        return path
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(OVERRIDE_HEADER)
    writer.writerows(sorted(overrides.items()))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def known_sdk_events(reported: Iterable[str] = ()) -> list[str]:
    """SDK event names a mapping may name: the defaults, the seed, the override, the SDK's documented
    types and the ones AppSprint ``reported`` (the warehouse's event types)."""
    names = [r[0] for r in DEFAULT_MAPPING] + [r.sdk_event for r in read_mapping()]
    return list(dict.fromkeys([*names, *DOCUMENTED_SDK_EVENTS, *(n.lower() for n in reported if n)]))


def check_known(sdk: str, known: list[str]) -> None:
    if sdk in known:
        return
    close = difflib.get_close_matches(sdk, known, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise ActionableError(
        f"'{sdk}' is not an SDK event AppSprint reports or the mapping knows",
        fix=f"{hint}check the spelling (`signal-campaigns mapping show --all`); for an event the SDK will send "
        "but AppSprint has not reported yet, add --new",
    )


def ordered(rows: list[MappingRow]) -> list[MappingRow]:
    """Primary events first (in file order), then the others."""
    return [r for r in rows if r.dashboard_group == PRIMARY] + [r for r in rows if r.dashboard_group != PRIMARY]


def set_event(
    sdk_event: str, tiktok_event: str, *, known: list[str] | None = None, new: bool = False
) -> tuple[MappingRow, str]:
    """Map (or with ``""`` disable) one SDK event in the local override; returns the effective row
    and the TikTok name's kind. ``known``: the SDK names to check ``sdk_event`` against (unless ``new``)."""
    sdk = validate_sdk_event(sdk_event)
    if not new:
        check_known(sdk, known if known is not None else known_sdk_events())
    target = tiktok_event.strip()
    kind = validate_tiktok_event(target)
    seed = {r.sdk_event: r.tiktok_event for r in read_seed()}
    overrides = mapping_overrides()
    overrides[sdk] = target
    if seed.get(sdk) == target:
        del overrides[sdk]  # back to the default: no override needed
    write_overrides(overrides)
    row = next(r for r in read_mapping() if r.sdk_event == sdk)
    return row, kind


def reset() -> list[MappingRow]:
    """Forget the local override: the seed's defaults apply again."""
    write_overrides({})
    return read_mapping()
