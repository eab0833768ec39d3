"""Every reference points inside the repository.

Code, docs, dbt descriptions, CLI help and output may only send a reader to files that are here: no
design documents kept elsewhere, no design codes ("D3") that only such a document explains, and no
`docs/...` path that does not exist.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve()

OUTSIDE = re.compile(r"DESIGN\.md|reference/(appsprint|tiktok_business_api)\.md")
DESIGN_CODE = re.compile(r"(?<![\w-])D(?:1[01]|[1-9])(?![\w-])")
DOC_PATH = re.compile(
    r"(?<![\w/.])((?:docs|dbt|bench|scripts|tests|sandbox|signal_campaigns|dlt_sources|dagster_project)/[\w./-]*\w)"
)
TEXT_SUFFIXES = {".py", ".md", ".sql", ".yml", ".yaml", ".toml", ".sh", ".csv", ".txt", ".cfg", ""}


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    files = [ROOT / n for n in names]
    return [f for f in files if f.is_file() and f.suffix in TEXT_SUFFIXES and f.resolve() != THIS]


def _git_ignored(paths: list[str]) -> set[str]:
    if not paths:
        return set()
    proc = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        check=False,
        cwd=ROOT,
        input="\n".join(paths),
        capture_output=True,
        text=True,
    )
    return set(proc.stdout.split())


def test_nothing_cites_documents_outside_the_repository() -> None:
    hits = [
        f"{f.relative_to(ROOT)}:{i}: {line.strip()[:100]}"
        for f in _tracked_text_files()
        for i, line in enumerate(f.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line) or DESIGN_CODE.search(line)
    ]
    assert not hits, "references to documents outside the repository or their design codes:\n" + "\n".join(hits)


def test_every_repository_path_named_in_docs_exists() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    missing: list[tuple[str, str]] = []
    for doc in docs:
        for i, line in enumerate(doc.read_text().splitlines(), 1):
            for path in DOC_PATH.findall(line):
                candidate = path.rstrip(".")
                if "*" in candidate or "<" in candidate:
                    continue
                if not (ROOT / candidate).exists():
                    missing.append((f"{doc.relative_to(ROOT)}:{i}: {candidate}", candidate))
    # A file the product writes at run time (dbt's log, say) is git-ignored and absent from a fresh
    # clone; naming it is fine, naming a tracked-looking path that is not there is not.
    ignored = _git_ignored([candidate for _, candidate in missing])
    absent = [where for where, candidate in missing if candidate not in ignored]
    assert not absent, "paths named in the docs that do not exist:\n" + "\n".join(absent)
