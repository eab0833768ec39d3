"""The project's settings as dlt reads them: ``<project>/.dlt/config.toml`` (non-secret choices)
and ``<project>/.dlt/secrets.toml`` (tokens; file mode 0600, git-ignored), with environment
variables taking precedence exactly as in dlt (``SOURCES__TIKTOK_ADS__ACCESS_TOKEN`` for the key
``sources.tiktok_ads.access_token``).

The keys are the ones the pipelines already read, so after ``connect`` / ``accounts`` / ``pixel``
the dlt sources and the forwarder run without more configuration:

===================================  ===========  ==============================================
key                                  file         read by
===================================  ===========  ==============================================
sources.tiktok_ads.base_url          config       the tiktok_ads dlt source
sources.tiktok_ads.advertiser_ids    config       the tiktok_ads dlt source
sources.tiktok_ads.access_token      secrets      the tiktok_ads dlt source (OAuth token)
sources.tiktok_ads.app_id            config       the CLI (OAuth)
sources.tiktok_ads.app_secret        secrets      the CLI (OAuth exchange / revoke)
tiktok_events_api_token              secrets      the forwarder (env ``TIKTOK_EVENTS_API_TOKEN``)
signal_campaigns.pixel_code          config       the CLI (test-event, doctor)
signal_campaigns.pixel_id            config       the CLI
signal_campaigns.signal_link_url     config       the CLI (link)
===================================  ===========  ==============================================

The project directory is ``--project-dir``, else env ``DLT_PROJECT_DIR`` (dlt's own override),
else the current directory (where dlt looks for ``.dlt/``).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import tomlkit

from dlt_sources.tiktok_ads import settings as tiktok_settings
from signal_campaigns.errors import ActionableError
from signal_campaigns.forwarding.forwarder import TOKEN_SECRET_KEY

PROJECT_DIR_ENV = "DLT_PROJECT_DIR"

BASE_URL = "sources.tiktok_ads.base_url"
ADVERTISER_IDS = "sources.tiktok_ads.advertiser_ids"
ACCESS_TOKEN = "sources.tiktok_ads.access_token"
APP_ID = "sources.tiktok_ads.app_id"
APP_SECRET = "sources.tiktok_ads.app_secret"
EVENTS_API_TOKEN = TOKEN_SECRET_KEY  # the key the forwarder reads
PIXEL_CODE = "signal_campaigns.pixel_code"
PIXEL_ID = "signal_campaigns.pixel_id"
SIGNAL_LINK_URL = "signal_campaigns.signal_link_url"

SECRET_KEYS = frozenset({ACCESS_TOKEN, APP_SECRET, EVENTS_API_TOKEN})
DEFAULT_BASE_URL = tiktok_settings.DEFAULT_BASE_URL  # production, as the tiktok_ads source defaults


def env_name(key: str) -> str:
    """dlt's environment name of a config key: ``a.b.c`` -> ``A__B__C``."""
    return "__".join(part.upper() for part in key.split("."))


def resolve_project_dir(option: str | os.PathLike[str] | None = None) -> Path:
    raw = option or os.environ.get(PROJECT_DIR_ENV) or os.getcwd()
    return Path(raw).expanduser().resolve()


class SettingsStore:
    """Reads and writes the two TOML files of one project directory."""

    def __init__(self, project_dir: Path) -> None:
        self.project_dir = project_dir
        self.dlt_dir = project_dir / ".dlt"
        self.config_path = self.dlt_dir / "config.toml"
        self.secrets_path = self.dlt_dir / "secrets.toml"

    # --- reading ---------------------------------------------------------------------------------
    def _path_for(self, key: str) -> Path:
        return self.secrets_path if key in SECRET_KEYS else self.config_path

    @staticmethod
    def _load(path: Path) -> tomlkit.TOMLDocument:
        if not path.exists():
            return tomlkit.document()
        try:
            return tomlkit.parse(path.read_text(encoding="utf-8"))
        except Exception as exc:  # tomlkit raises several parse error types
            # the parser's message quotes the offending line: never show it for the secrets file
            detail = "" if path.name == "secrets.toml" else f": {exc}"
            raise ActionableError(
                f"{path} is not valid TOML{detail}", fix=f"fix or remove {path}, then run the command again"
            ) from None

    def file_value(self, key: str) -> Any:
        node: Any = self._load(self._path_for(key))
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node.unwrap() if hasattr(node, "unwrap") else node

    def get(self, key: str) -> Any:
        """The value dlt would use: the environment variable first, then the file."""
        raw = os.environ.get(env_name(key))
        if raw not in (None, ""):
            return raw
        return self.file_value(key)

    def get_str(self, key: str) -> str | None:
        value = self.get(key)
        return None if value in (None, "") else str(value)

    def get_list(self, key: str) -> list[str]:
        value = self.get(key)
        if value in (None, ""):
            return []
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except ValueError:
                    value = [v.strip(" '\"") for v in text.strip("[]").split(",")]
            else:
                value = [v.strip() for v in text.split(",")]
        return [str(v) for v in value if str(v).strip()]

    def source_of(self, key: str) -> str | None:
        """Where the effective value comes from: ``env``, the file name, or ``None``."""
        if os.environ.get(env_name(key)) not in (None, ""):
            return f"env {env_name(key)}"
        return self._path_for(key).name if self.file_value(key) not in (None, "") else None

    # --- writing ---------------------------------------------------------------------------------
    def set_many(self, values: dict[str, Any]) -> None:
        """Write ``values`` (``None`` removes a key) into the right files, secrets with mode 0600."""
        by_path: dict[Path, dict[str, Any]] = {}
        for key, value in values.items():
            by_path.setdefault(self._path_for(key), {})[key] = value
        for path, items in by_path.items():
            doc = self._load(path)
            for key, value in items.items():
                *parents, leaf = key.split(".")
                node: Any = doc
                for part in parents:
                    if part not in node or not isinstance(node[part], dict):
                        if value is None:
                            node = None
                            break
                        node[part] = tomlkit.table()
                    node = node[part]
                if node is None:
                    continue
                if value is None:
                    node.pop(leaf, None)
                else:
                    node[leaf] = value
            self._write(path, tomlkit.dumps(doc), secret=path == self.secrets_path)

    def _write(self, path: Path, text: str, *, secret: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            os.fchmod(fd, 0o600 if secret else 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if secret:
            os.chmod(path, 0o600)

    # --- safety ----------------------------------------------------------------------------------
    def secrets_mode(self) -> int | None:
        return stat.S_IMODE(self.secrets_path.stat().st_mode) if self.secrets_path.exists() else None

    def secrets_tracked_by_git(self) -> bool | None:
        """True when git would commit the secrets file (not ignored); None outside a git work tree."""
        try:
            inside = subprocess.run(
                ["git", "-C", str(self.project_dir), "rev-parse", "--is-inside-work-tree"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            if inside.returncode != 0:
                return None
            ignored = subprocess.run(
                ["git", "-C", str(self.project_dir), "check-ignore", "-q", str(self.secrets_path)],
                capture_output=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return ignored.returncode != 0
