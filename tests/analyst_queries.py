"""The example queries for analysts as printed: every ```sql block of the README and of
docs/analyst_queries.md, each marked `<!-- query: name -->` so that tests can run it."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
QUERY_FILES = ("README.md", "docs/analyst_queries.md")
MARKED = re.compile(r"<!-- query: ([a-z0-9_]+) -->\n```sql\n(.*?)```", re.DOTALL)
SQL_BLOCK = re.compile(r"^```sql$", re.MULTILINE)


def printed_queries() -> dict[str, str]:
    """name -> SQL, every ```sql block marked `<!-- query: name -->` in the query files."""
    found: dict[str, str] = {}
    for name in QUERY_FILES:
        text = (REPO_ROOT / name).read_text(encoding="utf-8")
        for query, sql in MARKED.findall(text):
            assert query not in found, f"query name {query!r} used twice"
            found[query] = sql
    return found
