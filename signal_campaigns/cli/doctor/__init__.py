"""``doctor``: the integration's troubleshooting table (docs/appsprint_integration.md) as checks.
Each check says pass / warn / fail / skip, what it found (with numbers and examples) and the fix
from the table.

API checks use the configured credentials (OAuth token, Events API token, pixel); warehouse checks
read the marts read-only. A check that cannot run (not configured, no warehouse) is ``skip`` with
what to do, and never stops the other checks.
"""

from .check import Check
from .runner import Doctor

__all__ = ["Check", "Doctor"]
