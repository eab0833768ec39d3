"""One doctor check's result: pass / warn / fail / skip, what was found, the fix, and data for ``--json``."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class Check:
    id: str
    title: str
    status: str = "skip"  # pass | warn | fail | skip
    detail: str = ""
    fix: str | None = None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    table: dict[str, Any] | None = None  # {"columns": [...], "rows": [[...]]}: shown under the detail

    def set(self, status: str, detail: str, fix: str | None = None, **data: Any) -> Check:
        self.status, self.detail, self.fix = status, detail, fix
        self.data.update(data)
        return self
