"""What every command shares: :class:`State` (the global options, kept in typer's ``ctx.obj``),
:func:`run` (a :class:`ActionableError` becomes the message and the fix on stderr, or only
``{"ok": false, ...}`` on stdout with ``--json``; exit code 1), the TikTok client built from the settings, and the warning when
git would commit the secrets file."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NoReturn

import typer

from signal_campaigns.errors import ActionableError
from signal_campaigns.tiktok.marketing import TikTokApi

from . import settings_store as keys
from .render import Output
from .settings_store import SettingsStore


@dataclasses.dataclass
class State:
    store: SettingsStore
    out: Output
    warehouse: str | None

    def advertisers(self, all_advertisers: bool = False) -> list[str]:
        """The advertisers warehouse reads are scoped to: the selected ones (``accounts --select``),
        or ``[]`` (every advertiser) with ``--all`` or when none is selected."""
        return [] if all_advertisers else self.store.get_list(keys.ADVERTISER_IDS)


def state_of(ctx: typer.Context) -> State:
    state: State = ctx.obj
    return state


def fail(out: Output, exc: ActionableError) -> NoReturn:
    if out.json_mode:
        out.emit_json(exc.to_dict())  # stdout only: nothing for people on stderr
        raise typer.Exit(1)
    out.err.print(f"[bold red]Error:[/] {exc.message}", markup=True, highlight=False)
    if exc.fix:
        out.err.print(f"[bold]What to do:[/] {exc.fix}", markup=True, highlight=False)
    raise typer.Exit(1)


def run(ctx: typer.Context, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    st = state_of(ctx)
    try:
        return fn(st, *args, **kwargs)
    except ActionableError as exc:
        fail(st.out, exc)


def tiktok_api(
    st: State,
    *,
    app_id: str | None = None,
    app_secret: str | None = None,
    base_url: str | None = None,
    token: str | None = None,
) -> TikTokApi:
    s = st.store
    return TikTokApi(
        base_url or s.get_str(keys.BASE_URL),
        access_token=token or s.get_str(keys.ACCESS_TOKEN),
        app_id=app_id or s.get_str(keys.APP_ID),
        app_secret=app_secret or s.get_str(keys.APP_SECRET),
    )


def secrets_note(st: State) -> None:
    tracked = st.store.secrets_tracked_by_git()
    if tracked:
        st.out.say(
            f"[bold red]Warning:[/] {st.store.secrets_path} is NOT git-ignored: add `.dlt/secrets.toml` to "
            ".gitignore before committing."
        )
