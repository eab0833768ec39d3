"""The ``signal-campaigns`` command: the integration's setup steps and its operations.

Global options: ``--project-dir`` (where ``.dlt/`` lives; env ``DLT_PROJECT_DIR``; default the
current directory), ``--warehouse`` (the DuckDB file; env ``SIGNAL_WAREHOUSE_PATH``) and ``--json``
(one JSON document on stdout, messages on stderr). Exit code 1 on an error (and when ``doctor``
finds a failing check), 2 on a usage error. See docs/cli.md.
"""

from __future__ import annotations

import dataclasses
import sys
import webbrowser
from typing import Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from signal_campaigns.tiktok.marketing import TikTokApi, host_root, send_test_event
from signal_campaigns.tiktok.oauth import (
    CALLBACK_PATH,
    DEFAULT_CALLBACK_PORT,
    CallbackServer,
    authorization_url,
    check_state,
    new_state,
    parse_pasted,
)

from . import mapping as mapping_mod
from . import settings_store as keys
from .doctor import Doctor
from .errors import CliError
from .link import CHECKLIST, signal_link
from .render import Output, mask
from .report import GRAINS, campaign_metrics, table_rows, to_csv
from .settings_store import SettingsStore, resolve_project_dir
from .status import status as status_data
from .warehouse_reads import STAGING_SCHEMA as STAGING
from .warehouse_reads import Warehouse

app = typer.Typer(
    name="signal-campaigns",
    no_args_is_help=True,
    add_completion=False,
    help="Set up and operate TikTok Signal Campaigns measured by AppSprint.",
)
mapping_app = typer.Typer(no_args_is_help=True, help="Show and change the SDK event -> TikTok event mapping.")
app.add_typer(mapping_app, name="mapping")


@dataclasses.dataclass
class State:
    store: SettingsStore
    out: Output
    warehouse: str | None


def _state(ctx: typer.Context) -> State:
    return ctx.obj


@app.callback()
def _global(
    ctx: typer.Context,
    project_dir: str | None = typer.Option(
        None,
        "--project-dir",
        help="Project directory holding .dlt/ (env DLT_PROJECT_DIR; default: the current directory).",
    ),
    warehouse: str | None = typer.Option(
        None, "--warehouse", help="DuckDB warehouse file (env SIGNAL_WAREHOUSE_PATH)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document on stdout (for scripts)."),
) -> None:
    ctx.obj = State(SettingsStore(resolve_project_dir(project_dir)), Output(json_output), warehouse)


def _fail(out: Output, exc: CliError) -> None:
    if out.json_mode:
        out.emit_json(exc.to_dict())
    out.err.print(f"[bold red]Error:[/] {exc.message}", markup=True, highlight=False)
    if exc.fix:
        out.err.print(f"[bold]What to do:[/] {exc.fix}", markup=True, highlight=False)
    raise typer.Exit(1)


def _run(ctx: typer.Context, fn, *args: Any, **kwargs: Any) -> Any:
    st = _state(ctx)
    try:
        return fn(st, *args, **kwargs)
    except CliError as exc:
        _fail(st.out, exc)


def _api(
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


def _secrets_note(st: State) -> None:
    tracked = st.store.secrets_tracked_by_git()
    if tracked:
        st.out.say(
            f"[bold red]Warning:[/] {st.store.secrets_path} is NOT git-ignored: add `.dlt/secrets.toml` to "
            ".gitignore before committing."
        )


def _advertiser_rows(api: TikTokApi, ids: list[str], selected: list[str]) -> list[dict[str, Any]]:
    info = {str(r.get("advertiser_id")): r for r in api.advertiser_info(ids)}
    return [
        {
            "advertiser_id": a,
            "name": info.get(a, {}).get("name"),
            "currency": info.get(a, {}).get("currency"),
            "timezone": info.get(a, {}).get("timezone"),
            "status": info.get(a, {}).get("status"),
            "selected": a in selected,
        }
        for a in ids
    ]


def _show_advertisers(out: Output, rows: list[dict[str, Any]], title: str) -> None:
    out.table(
        title,
        ["", "advertiser id", "name", "currency", "timezone", "status"],
        [
            ["*" if r["selected"] else "", r["advertiser_id"], r["name"], r["currency"], r["timezone"], r["status"]]
            for r in rows
        ],
    )


# ================================================================================================
# connect / disconnect / accounts
# ================================================================================================
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
    _run(ctx, _connect, app_id, app_secret, base_url, port, no_browser, paste, auth_code, timeout)


def _connect(st: State, app_id, app_secret, base_url, port, no_browser, paste, auth_code, timeout) -> None:
    s, out = st.store, st.out
    app_id = app_id or s.get_str(keys.APP_ID)
    if not app_id:
        raise CliError(
            "the TikTok app id is needed", fix="pass --app-id (TikTok developer portal > your app > Basic Information)"
        )
    app_secret = app_secret or s.get_str(keys.APP_SECRET)
    if not app_secret:
        if not sys.stdin.isatty():
            raise CliError(
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
            out.url(
                "Open this URL, approve access, then paste the URL you were sent to (or its auth_code):",
                authorization_url(host_root(base_url), app_id, redirect_uri, state),
            )
            code = check_state(parse_pasted(typer.prompt("Redirect URL or auth_code", err=True)), state)
        else:
            with CallbackServer(state, port=port) as server:
                url = authorization_url(host_root(base_url), app_id, server.redirect_uri, state)
                out.url("Open this URL in a browser and approve access:", url)
                if not no_browser:
                    webbrowser.open(url)
                with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=out.err, transient=True) as p:
                    p.add_task(f"waiting for the callback on {server.redirect_uri} ...")
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
    rows = _advertiser_rows(authed, granted, selected)
    out.say(f"[green]Connected.[/] Token {mask(token)} saved in {s.secrets_path} (mode 0600).")
    _secrets_note(st)
    _show_advertisers(out, rows, "Advertisers granted")
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


@app.command()
def disconnect(ctx: typer.Context) -> None:
    """Revoke the OAuth token at TikTok and forget it locally."""
    _run(ctx, _disconnect)


def _disconnect(st: State) -> None:
    s, out = st.store, st.out
    token = s.get_str(keys.ACCESS_TOKEN)
    if not token:
        raise CliError("TikTok is not connected: there is no token to revoke", fix="nothing to do")
    revoked: list[str] = []
    note = None
    try:
        revoked = _api(st).revoke(token)
    except CliError as exc:
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


@app.command()
def accounts(
    ctx: typer.Context,
    select: list[str] | None = typer.Option(None, "--select", help="Advertiser id to report on (repeatable)."),
) -> None:
    """Load the advertisers this connection can read (name, currency, timezone, status); select some."""
    _run(ctx, _accounts, select or [])


def _accounts(st: State, select: list[str]) -> None:
    s, out = st.store, st.out
    api = _api(st)
    granted = [r["advertiser_id"] for r in api.authorized_advertisers()]
    if select:
        unknown = [a for a in select if a not in granted]
        if unknown:
            raise CliError(
                f"advertiser(s) {', '.join(unknown)} are not granted to this connection",
                fix=f"choose among: {', '.join(granted) or '(none)'}; or reconnect with an account that has access",
            )
        s.set_many({keys.ADVERTISER_IDS: list(dict.fromkeys(select))})
    selected = s.get_list(keys.ADVERTISER_IDS)
    rows = _advertiser_rows(api, granted, selected)
    _show_advertisers(out, rows, "Advertisers (* = selected)")
    if select:
        out.say(f"[green]Selected[/] {', '.join(select)} (saved in {s.config_path}).")
    out.emit_json({"ok": True, "advertisers": rows, "selected": selected})


# ================================================================================================
# pixel / test-event
# ================================================================================================
@app.command()
def pixel(
    ctx: typer.Context,
    pixel_code: str = typer.Option(..., "--pixel", help="The Pixel ID shown in TikTok Events Manager (pixel code)."),
    token: str | None = typer.Option(
        None,
        "--token",
        help="The pixel's Events API access token (prompted, hidden, when not given; env TIKTOK_EVENTS_API_TOKEN).",
    ),
    advertiser: str | None = typer.Option(None, help="Advertiser owning the pixel (default: the selected one)."),
    test_event_code: str | None = typer.Option(None, help="Test Events code for the validation event."),
) -> None:
    """Set the Pixel ID and Events API token, after checking both with TikTok."""
    _run(ctx, _pixel, pixel_code.strip(), token, advertiser, test_event_code)


def _pixel(st: State, pixel_code, token, advertiser, test_event_code) -> None:
    s, out = st.store, st.out
    token = token or s.get_str(keys.EVENTS_API_TOKEN)
    if not token:
        if not sys.stdin.isatty():
            raise CliError("the Events API token is needed", fix="pass --token or set TIKTOK_EVENTS_API_TOKEN")
        token = typer.prompt("Events API access token", hide_input=True, err=True)
    selected = s.get_list(keys.ADVERTISER_IDS)
    owners = [advertiser] if advertiser else selected
    if not owners:
        raise CliError(
            "no advertiser is selected to look the pixel up in",
            fix="run `signal-campaigns accounts --select <id>` or pass --advertiser",
        )
    api = _api(st)
    match = None
    for owner in owners:
        for p in api.pixels(owner):
            if pixel_code in (p.get("pixel_code"), p.get("pixel_id")):
                match = {**p, "advertiser_id": owner}
                break
        if match:
            break
    if match is None:
        raise CliError(
            f"pixel {pixel_code} does not exist for advertiser(s) {', '.join(owners)} (pixel/list/)",
            fix="copy the Pixel ID from TikTok Events Manager, and make sure the Web Pixel is linked to the "
            "advertiser you selected",
        )
    code = match["pixel_code"]
    kwargs = {"test_event_code": test_event_code} if test_event_code else {}
    answer = send_test_event(s.get_str(keys.BASE_URL), token, code, **kwargs)
    if not answer["accepted"]:
        raise CliError(
            f"TikTok did not accept the validation event: code {answer['code']} {answer['message']}",
            fix="check the token and pixel in Events Manager",
        )
    s.set_many({keys.EVENTS_API_TOKEN: token, keys.PIXEL_CODE: code, keys.PIXEL_ID: str(match.get("pixel_id") or "")})
    out.say(
        f"[green]Pixel {code}[/] ({match.get('pixel_name')}) of advertiser {match['advertiser_id']} exists and "
        f"accepts the Events API token {mask(token)}: both saved (token in {s.secrets_path}, mode 0600)."
    )
    out.say("A ViewContent test event was sent to check it; test events never count as production.")
    _secrets_note(st)
    out.emit_json(
        {
            "ok": True,
            "pixel_code": code,
            "pixel_id": match.get("pixel_id"),
            "pixel_name": match.get("pixel_name"),
            "advertiser_id": match["advertiser_id"],
            "events_api_token": mask(token),
            "validation": answer,
        }
    )


@app.command("test-event")
def test_event(
    ctx: typer.Context,
    code: str = typer.Option(..., "--code", help="The test code from TikTok Events Manager > Test Events."),
    pixel_code: str | None = typer.Option(None, "--pixel", help="Pixel ID (default: the configured one)."),
) -> None:
    """Send one ViewContent test event and show TikTok's answer (never counts as production)."""
    _run(ctx, _test_event, code.strip(), pixel_code)


def _test_event(st: State, code: str, pixel_code: str | None) -> None:
    s, out = st.store, st.out
    if not code:
        raise CliError("the test code is empty", fix="copy it from TikTok Events Manager > your pixel > Test Events")
    pixel_code = pixel_code or s.get_str(keys.PIXEL_CODE)
    if not pixel_code:
        raise CliError("no Pixel ID is configured", fix="run `signal-campaigns pixel --pixel <Pixel ID>` first")
    answer = send_test_event(
        s.get_str(keys.BASE_URL),
        s.get_str(keys.EVENTS_API_TOKEN),
        pixel_code,
        test_event_code=code,
        page_url=s.get_str(keys.SIGNAL_LINK_URL),
    )
    steps = [
        f"Open TikTok Events Manager > pixel {pixel_code} > Test Events: a ViewContent event with id "
        f"{answer['event_id']} should appear within a minute.",
        "Test events help debugging only: they do not count in reports and do not unlock optimisation.",
        "Next: check the mapping (`signal-campaigns mapping show`) and paste the Signal link "
        "(`signal-campaigns link`) as the ad's Website URL.",
    ]
    verdict = "[green]accepted[/]" if answer["accepted"] else "[red]not accepted[/]"
    out.say(f"TikTok {verdict} the test event: code {answer['code']}, message {answer['message']!r}.")
    for step in steps:
        out.say(f"  - {step}")
    out.emit_json({"ok": answer["accepted"], **answer, "next_steps": steps})
    if not answer["accepted"]:
        raise typer.Exit(1)


# ================================================================================================
# mapping
# ================================================================================================
@mapping_app.command("show")
def mapping_show(
    ctx: typer.Context,
    all_events: bool = typer.Option(False, "--all", help="Also list the other events (collapsed otherwise)."),
) -> None:
    """The mapping: primary events first, the others collapsed unless --all."""
    _run(ctx, _mapping_show, all_events)


def _mapping_show(st: State, all_events: bool) -> None:
    rows = mapping_mod.ordered(mapping_mod.read_mapping())
    primary = [r for r in rows if r.dashboard_group == mapping_mod.PRIMARY]
    others = [r for r in rows if r.dashboard_group != mapping_mod.PRIMARY]
    shown = rows if all_events else primary
    st.out.table(
        f"Event mapping ({mapping_mod.mapping_path()})",
        ["SDK event", "TikTok event", "group"],
        [[r.sdk_event, r.tiktok_event or "(disabled)", r.dashboard_group] for r in shown],
    )
    if others and not all_events:
        st.out.say(
            f"+ {len(others)} more events ({', '.join(r.sdk_event for r in others)}): "
            "signal-campaigns mapping show --all"
        )
    st.out.emit_json(
        {
            "ok": True,
            "path": str(mapping_mod.mapping_path()),
            "mapping": [dataclasses.asdict(r) | {"enabled": r.enabled} for r in rows],
        }
    )


def _mapping_changed(st: State, message: str, data: dict[str, Any]) -> None:
    st.out.say(message)
    st.out.say("The models and the forwarder read this file: the next `dbt build` (or `make demo`) applies it.")
    st.out.emit_json({"ok": True, "path": str(mapping_mod.mapping_path()), **data})


@mapping_app.command("set")
def mapping_set(
    ctx: typer.Context,
    sdk_event: str = typer.Argument(..., help="AppSprint event type, e.g. purchase."),
    tiktok_event: str = typer.Argument(..., help="TikTok web event (standard or custom name)."),
) -> None:
    """Map an SDK event to a TikTok event (standard or custom name, validated)."""

    def run(st: State) -> None:
        row, kind = mapping_mod.set_event(sdk_event, tiktok_event)
        note = " (custom events can be reported on but not optimised for)" if kind == "custom" else ""
        _mapping_changed(
            st,
            f"[green]{row.sdk_event} -> {row.tiktok_event}[/] ({kind}){note}.",
            {"sdk_event": row.sdk_event, "tiktok_event": row.tiktok_event, "kind": kind},
        )

    _run(ctx, run)


@mapping_app.command("disable")
def mapping_disable(ctx: typer.Context, sdk_event: str = typer.Argument(..., help="AppSprint event type.")) -> None:
    """Stop forwarding an SDK event (its TikTok event becomes blank)."""

    def run(st: State) -> None:
        row, _ = mapping_mod.set_event(sdk_event, "")
        _mapping_changed(
            st,
            f"[yellow]{row.sdk_event}[/] is no longer forwarded.",
            {"sdk_event": row.sdk_event, "tiktok_event": "", "kind": "disabled"},
        )

    _run(ctx, run)


@mapping_app.command("reset")
def mapping_reset(ctx: typer.Context) -> None:
    """Restore the default mapping (reference/appsprint.md)."""

    def run(st: State) -> None:
        rows = mapping_mod.reset()
        _mapping_changed(
            st,
            f"[green]Default mapping restored[/] ({len(rows)} events).",
            {"mapping": [dataclasses.asdict(r) for r in rows]},
        )

    _run(ctx, run)


# ================================================================================================
# link
# ================================================================================================
@app.command()
def link(
    ctx: typer.Context,
    url: str | None = typer.Option(
        None,
        "--url",
        help="The Signal link URL from AppSprint (https://<tracking domain>/s/<link id>); saved for next time.",
    ),
) -> None:
    """The Signal link with TikTok macros, ready to paste, and the campaign checklist."""
    _run(ctx, _link, url)


def _link(st: State, url: str | None) -> None:
    s, out = st.store, st.out
    links: list[dict[str, Any]] = []
    if url:
        signal_link(url)  # validate before saving
        s.set_many({keys.SIGNAL_LINK_URL: url.strip()})
        links = [{"name": None, "url": url.strip()}]
    elif s.get_str(keys.SIGNAL_LINK_URL):
        links = [{"name": None, "url": s.get_str(keys.SIGNAL_LINK_URL)}]
    else:
        try:
            with Warehouse(st.warehouse) as wh:
                if wh.has(STAGING, "stg_appsprint__signal_links"):
                    links = wh.rows(
                        f"select link_name as name, link_url as url from {STAGING}.stg_appsprint__signal_links "
                        "where network = 'tiktok' order by link_name"
                    )
        except CliError:
            links = []
    if not links:
        raise CliError(
            "no Signal link is known",
            fix="create a TikTok Signal link in AppSprint and pass its URL: "
            "signal-campaigns link --url https://<tracking domain>/s/<link id>",
        )
    result = [{"name": l["name"], "url": l["url"], "website_url": signal_link(l["url"])} for l in links]
    for r in result:
        out.url(f"[bold]{r['name'] or 'Signal link'}[/] - paste as the ad's Website URL:", r["website_url"])
    out.say("\n[bold]Campaign checklist[/]")
    for item in CHECKLIST:
        out.say(f"  [ ] {item}")
    out.emit_json({"ok": True, "links": result, "checklist": list(CHECKLIST)})


# ================================================================================================
# doctor / report / status
# ================================================================================================
@app.command()
def doctor(
    ctx: typer.Context,
    test_event_code: str | None = typer.Option(None, help="Test Events code for the token check."),
) -> None:
    """Check the setup and the data against the troubleshooting table; each problem comes with its fix."""
    _run(ctx, _doctor, test_event_code)


def _doctor(st: State, test_event_code: str | None) -> None:
    out = st.out
    doc = Doctor(st.store, st.warehouse, test_event_code)
    steps = len(doc.checks())
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=out.err, transient=True) as progress:
        task = progress.add_task("checking", total=steps)
        results = doc.run(lambda title: progress.update(task, description=title, advance=1))
    for c in results:
        out.say(f"{out.status(c.status)} [bold]{c.title}[/]")
        if c.detail:
            out.say(f"       {c.detail}")
        if c.fix:
            out.say(f"       [bold]Fix:[/] {c.fix}")
    counts = {k: sum(1 for c in results if c.status == k) for k in ("pass", "warn", "fail", "skip")}
    out.say(", ".join(f"{n} {k}" for k, n in counts.items()))
    out.emit_json({"ok": counts["fail"] == 0, "summary": counts, "checks": [dataclasses.asdict(c) for c in results]})
    if counts["fail"]:
        raise typer.Exit(1)


@app.command()
def report(
    ctx: typer.Context,
    grain: str = typer.Option("campaign", help=f"One of: {', '.join(GRAINS)}."),
    start: str | None = typer.Option(None, help="First day, YYYY-MM-DD (advertiser-local, inclusive)."),
    end: str | None = typer.Option(None, help="Last day (default: the latest loaded day)."),
    days: int = typer.Option(7, help="Window length when --start is not given."),
    fmt: str = typer.Option("table", "--format", help="table, csv or json."),
) -> None:
    """The 12 Signal Campaign metrics (ratios recomputed from sums) with their provenance."""
    _run(ctx, _report, grain, start, end, days, fmt)


def _report(st: State, grain, start, end, days, fmt) -> None:
    out = st.out
    if fmt not in ("table", "csv", "json"):
        raise CliError(f"unknown format {fmt!r}", fix="use --format table, csv or json")
    with Warehouse(st.warehouse) as wh:
        data = campaign_metrics(wh, grain, start, end, days)
    if fmt == "csv":
        sys.stdout.write(to_csv(data["rows"]))
        return
    if fmt == "json" or out.json_mode:
        Output(True).emit_json({"ok": True, **data})
        return
    columns, rows = table_rows(grain, data["rows"])
    out.table(f"{grain} metrics {data['start_date']} to {data['end_date']} (advertiser-local days)", columns, rows)
    out.say(
        f"Source: {data['source']}. Installs = AppSprint's attribution; 'of which TikTok' = ad-days where AppSprint "
        "had none and TikTok's reported number was used (D3). Ratios are ratio-of-sums; CTR and CTI are fractions."
    )


@app.command()
def status(ctx: typer.Context) -> None:
    """Last syncs, pending and dead events, value-optimisation readiness (x of 20)."""
    _run(ctx, _status)


def _status(st: State) -> None:
    out = st.out
    with Warehouse(st.warehouse) as wh:
        data = status_data(wh)
    out.table(
        "Last syncs",
        ["dataset", "last load", "loads", "failed loads"],
        [[r["dataset"], r["last_load_at"], r["loads"], r["failed_loads"]] for r in data["syncs"]],
    )
    f = data["forwarding"]
    out.table(
        "Forwarding",
        ["queue", "not yet enqueued", "pending", "in flight", "sent", "dead", "last sent"],
        [
            [
                f["queue"],
                f["not_yet_enqueued"],
                f["ledger"]["pending"],
                f["ledger"]["in_flight"],
                f["ledger"]["sent"],
                f["ledger"]["dead"],
                f["last_sent_at"],
            ]
        ],
    )
    out.table(
        "Value-based optimisation (unique Purchases in the best 7-day window)",
        ["pixel", "name", "best 7 days", "window", "current 7 days", "ready"],
        [
            [
                r["pixel_code"],
                r["pixel_name"],
                f"{r['max_purchases_in_7_days']} of {r['threshold']}",
                f"{r['best_window_start_date']} to {r['best_window_end_date']}" if r["best_window_end_date"] else None,
                r["current_7_day_purchases"],
                r["reached_20"],
            ]
            for r in data["value_optimization"]
        ],
    )
    out.emit_json({"ok": True, **data})


def main() -> None:
    app()


if __name__ == "__main__":
    main()
