"""The deterministic synthetic sandbox :class:`~sandbox.world.World`: ``generate_world(seed, scale,
anchor)``.

- :mod:`.build` — :func:`generate_world` and the order of the stages;
- :mod:`.shape` — the declarative tables (scales, advertisers, devices, prices, event types);
- :mod:`.arrays` — vectorised building blocks (seeded streams, Arrow arrays from numpy buffers);
- the stages, each building on the previous ones: :mod:`.structure` (advertisers ... ads),
  :mod:`.traffic` (ad-days, clicks), :mod:`.installs`, :mod:`.events`, :mod:`.ad_daily` (TikTok's
  daily report).
"""

from .arrays import default_anchor, install_event_id
from .base import LAST_TIMINGS
from .build import generate_into, generate_world
from .shape import (
    GENERATOR_VERSION,
    MAPPED_EVENT_TYPES,
    PRESETS,
    SIGNAL_LINK_MACROS,
    UNMAPPED_EVENT_TYPES,
    Preset,
)

__all__ = [
    "GENERATOR_VERSION",
    "LAST_TIMINGS",
    "MAPPED_EVENT_TYPES",
    "PRESETS",
    "SIGNAL_LINK_MACROS",
    "UNMAPPED_EVENT_TYPES",
    "Preset",
    "default_anchor",
    "generate_into",
    "generate_world",
    "install_event_id",
]
