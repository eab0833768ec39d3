"""The ``connect`` and ``disconnect`` commands: TikTok OAuth (authorize, store the token; revoke it)."""

from __future__ import annotations

import json
import sys
import webbrowser

import typer

from signal_campaigns.cli import settings_store as keys
from signal_campaigns.cli.render import Output, mask
from signal_campaigns.cli.state import State, run, secrets_note, tiktok_api
from signal_campaigns.errors import ActionableError
from signal_campaigns.tiktok.marketing import TikTokApi, host_root
from signal_campaigns.tiktok.oauth import (
    CALLBACK_PATH,
    DEFAULT_CALLBACK_PORT,
    CallbackServer,
    authorization_url,
    check_state,
    new_state,
    parse_pasted,
)

from .accounts import advertiser_rows, show_advertisers

app = typer.Typer()


@app.command()
def connect(
    ctx: typer.Context,
    app_id: str | None = typer.Option(None, help="TikTok developer app id (saved in .dlt/config.toml)."),
    app_secret: str | None = typer.Option(
        None, help="App secret (prompted, hidden, when not given or configured; saved in .dlt/secrets.toml)."
    ),
    base_url: str | None = typer.Option(None, help="TikTok API base URL (default: production, or the configured one)."),
    port: int = typer.Option(
        DEFAULT_CALLBACK_PORT,
        help="Localhost port of the redirect URL (register "
        "http://127.0.0.1:<port>/tiktok/callback in the TikTok app); 0 = any free port.",
    ),
    no_browser: bool = typer.Option(False, "--no-browser", help="Print the authorization URL, do not open a browser."),
    paste: bool = typer.Option(
        False,
        "--paste",
        help="Paste the auth_code (or the redirect URL) instead of receiving the callback on localhost.",
    ),
    auth_code: str | None = typer.Option(None, help="Exchange this auth_code directly (no state check possible)."),
    timeout: float = typer.Option(300.0, help="Seconds to wait for the browser callback."),
) -> None:
    """Authorize TikTok reporting access (OAuth), store the token, list the advertisers granted."""
    run(ctx, _connect, app_id, app_secret, base_url, port, no_browser, paste, auth_code, timeout)


def _connect(
    st: State,
    app_id: str | None,
    app_secret: str | None,
    base_url: str | None,
    port: int,
    no_browser: bool,
    paste: bool,
    auth_code: str | None,
    timeout: float,
) -> None:
    s, out = st.store, st.out
    app_id = app_id or s.get_str(keys.APP_ID)
    if not app_id:
        raise ActionableError(
            "the TikTok app id is needed", fix="pass --app-id (TikTok developer portal > your app > Basic Information)"
        )
    app_secret = app_secret or s.get_str(keys.APP_SECRET)
    if not app_secret:
        if not sys.stdin.isatty():
            raise ActionableError(
                "the TikTok app secret is needed", fix="pass --app-secret or set SOURCES__TIKTOK_ADS__APP_SECRET"
            )
        app_secret = typer.prompt("TikTok app secret", hide_input=True, err=True)
    base_url = base_url or s.get_str(keys.BASE_URL) or keys.DEFAULT_BASE_URL
    api = TikTokApi(base_url, app_id=app_id, app_secret=app_secret)
    if auth_code:
        code = parse_pasted(auth_code).auth_code or ""
    else:
        state = new_state()
        if paste:
            redirect_uri = f"http://127.0.0.1:{port or DEFAULT_CALLBACK_PORT}{CALLBACK_PATH}"
            show_url(
                out,
                "Open this URL, approve access, then paste the URL you were sent to (or its auth_code):",
                authorization_url(host_root(base_url), app_id, redirect_uri, state),
            )
            code = check_state(parse_pasted(typer.prompt("Redirect URL or auth_code", err=True)), state)
        else:
            with CallbackServer(state, port=port) as server:
                url = authorization_url(host_root(base_url), app_id, server.redirect_uri, state)
                show_url(out, "Open this URL in a browser and approve access:", url)
                if not no_browser:
                    webbrowser.open(url)
                with out.progress(f"waiting for the callback on {server.redirect_uri} ..."):
                    result = server.wait(timeout)
            code = check_state(result, state)
    token_answer = api.exchange_code(code)
    token = token_answer["access_token"]
    granted = token_answer["advertiser_ids"]
    selected = [a for a in s.get_list(keys.ADVERTISER_IDS) if a in granted]
    if not selected and len(granted) == 1:
        selected = granted[:]
    s.set_many(
        {
            keys.ACCESS_TOKEN: token,
            keys.APP_SECRET: app_secret,
            keys.APP_ID: app_id,
            keys.BASE_URL: base_url,
            keys.ADVERTISER_IDS: selected or None,
        }
    )
    authed = TikTokApi(base_url, access_token=token, app_id=app_id, app_secret=app_secret)
    rows = advertiser_rows(authed, granted, selected)
    out.say(f"[green]Connected.[/] Token {mask(token)} saved in {s.secrets_path} (mode 0600).")
    secrets_note(st)
    show_advertisers(out, rows, "Advertisers granted")
    if not selected:
        out.say("Select the advertiser(s) to report on: signal-campaigns accounts --select <advertiser id>")
    out.emit_json(
        {
            "ok": True,
            "access_token": mask(token),
            "scope": token_answer["scope"],
            "advertisers": rows,
            "selected": selected,
            "secrets_file": str(s.secrets_path),
        }
    )


def show_url(out: Output, label: str, url: str) -> None:
    """The authorization URL: for people with its label; with ``--json`` as one JSON line on stderr
    (the one thing a script must see before the JSON answer on stdout)."""
    if out.json_mode:
        sys.stderr.write(json.dumps({"authorization_url": url}) + "\n")
        sys.stderr.flush()
    else:
        out.url(label, url)


@app.command()
def disconnect(ctx: typer.Context) -> None:
    """Revoke the OAuth token at TikTok and forget it locally."""
    run(ctx, _disconnect)


def _disconnect(st: State) -> None:
    s, out = st.store, st.out
    token = s.get_str(keys.ACCESS_TOKEN)
    if not token:
        raise ActionableError("TikTok is not connected: there is no token to revoke", fix="nothing to do")
    revoked: list[str] = []
    note = None
    try:
        revoked = tiktok_api(st).revoke(token)
    except ActionableError as exc:
        if exc.code not in (40105, 40102):
            raise
        note = "TikTok already considered the token invalid"
    s.set_many({keys.ACCESS_TOKEN: None})
    still = s.source_of(keys.ACCESS_TOKEN)
    out.say(
        f"[green]Disconnected.[/] Token {mask(token)} revoked and removed from {s.secrets_path}."
        + (f" ({note})" if note else "")
    )
    if still:
        out.say(f"[yellow]Note:[/] a token is still set in {still}: unset it too.")
    out.emit_json({"ok": True, "revoked_advertiser_ids": revoked, "note": note, "token_still_set_in": still})
