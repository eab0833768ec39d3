"""The ``pixel`` and ``test-event`` commands: the Pixel ID and Events API token, checked with TikTok."""

from __future__ import annotations

import sys
from typing import Any

import typer

from signal_campaigns.cli import settings_store as keys
from signal_campaigns.cli.clock import is_time_refusal, time_refusal
from signal_campaigns.cli.render import mask
from signal_campaigns.cli.state import State, run, secrets_note, tiktok_api
from signal_campaigns.errors import ActionableError
from signal_campaigns.tiktok.marketing import send_test_event

app = typer.Typer()


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
    run(ctx, _pixel, pixel_code.strip(), token, advertiser, test_event_code)


def _pixel(st: State, pixel_code: str, token: str | None, advertiser: str | None, test_event_code: str | None) -> None:
    s, out = st.store, st.out
    token = token or s.get_str(keys.EVENTS_API_TOKEN)
    if not token:
        if not sys.stdin.isatty():
            raise ActionableError("the Events API token is needed", fix="pass --token or set TIKTOK_EVENTS_API_TOKEN")
        token = typer.prompt("Events API access token", hide_input=True, err=True)
    selected = s.get_list(keys.ADVERTISER_IDS)
    owners = [advertiser] if advertiser else selected
    if not owners:
        raise ActionableError(
            "no advertiser is selected to look the pixel up in",
            fix="run `signal-campaigns accounts --select <id>` or pass --advertiser",
        )
    api = tiktok_api(st)
    pixels = [{**p, "advertiser_id": owner} for owner in owners for p in api.pixels(owner)]
    match = next((p for p in pixels if pixel_code in (p.get("pixel_code"), p.get("pixel_id"))), None)
    if match is None:
        listed = "; ".join(
            f"{p.get('pixel_code')} ({p.get('pixel_name')}, advertiser {p['advertiser_id']})" for p in pixels
        )
        raise ActionableError(
            f"pixel {pixel_code} does not exist for advertiser(s) {', '.join(owners)} (pixel/list/); "
            + (f"their pixels: {listed}" if pixels else "they have no pixel"),
            fix="use one of the Pixel IDs listed (TikTok Events Manager shows them too), or link the Web Pixel to "
            "the advertiser you selected",
            data={
                "pixels": [
                    {k: p.get(k) for k in ("pixel_code", "pixel_id", "pixel_name", "advertiser_id")} for p in pixels
                ]
            },
        )
    code = match["pixel_code"]
    options: dict[str, Any] = {"test_event_code": test_event_code} if test_event_code else {}
    answer = send_test_event(s.get_str(keys.BASE_URL), token, code, page_url=s.get_str(keys.SIGNAL_LINK_URL), **options)
    if not answer["accepted"]:
        if is_time_refusal(answer):
            raise time_refusal(answer, s.get_str(keys.BASE_URL))
        raise ActionableError(
            f"TikTok did not accept the validation event: code {answer['code']} {answer['message']}",
            fix="check the token and pixel in Events Manager",
        )
    s.set_many({keys.EVENTS_API_TOKEN: token, keys.PIXEL_CODE: code, keys.PIXEL_ID: str(match.get("pixel_id") or "")})
    out.say(
        f"[green]Pixel {code}[/] ({match.get('pixel_name')}) of advertiser {match['advertiser_id']} exists and "
        f"accepts the Events API token {mask(token)}: both saved (token in {s.secrets_path}, mode 0600)."
    )
    out.say("A ViewContent test event was sent to check it; test events never count as production.")
    secrets_note(st)
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
def send_one_test_event(
    ctx: typer.Context,
    code: str = typer.Option(..., "--code", help="The test code from TikTok Events Manager > Test Events."),
    pixel_code: str | None = typer.Option(None, "--pixel", help="Pixel ID (default: the configured one)."),
) -> None:
    """Send one ViewContent test event and show TikTok's answer (never counts as production)."""
    run(ctx, _test_event, code.strip(), pixel_code)


def _test_event(st: State, code: str, pixel_code: str | None) -> None:
    s, out = st.store, st.out
    if not code:
        raise ActionableError(
            "the test code is empty", fix="copy it from TikTok Events Manager > your pixel > Test Events"
        )
    pixel_code = pixel_code or s.get_str(keys.PIXEL_CODE)
    if not pixel_code:
        raise ActionableError("no Pixel ID is configured", fix="run `signal-campaigns pixel --pixel <Pixel ID>` first")
    answer = send_test_event(
        s.get_str(keys.BASE_URL),
        s.get_str(keys.EVENTS_API_TOKEN),
        pixel_code,
        test_event_code=code,
        page_url=s.get_str(keys.SIGNAL_LINK_URL),
    )
    steps = [
        (
            f"Open TikTok Events Manager > pixel {pixel_code} > Test Events: a ViewContent event with id "
            f"{answer['event_id']} should appear within a minute."
        ),
        "Test events help debugging only: they do not count in reports and do not unlock optimisation.",
        (
            "Next: check the mapping (`signal-campaigns mapping show`) and paste the Signal link "
            "(`signal-campaigns link`) as the ad's Website URL."
        ),
    ]
    if not answer["accepted"] and is_time_refusal(answer):
        raise time_refusal(answer, s.get_str(keys.BASE_URL))
    verdict = "[green]accepted[/]" if answer["accepted"] else "[red]not accepted[/]"
    out.say(f"TikTok {verdict} the test event: code {answer['code']}, message {answer['message']!r}.")
    for step in steps:
        out.say(f"  - {step}")
    out.emit_json({"ok": answer["accepted"], **answer, "next_steps": steps})
    if not answer["accepted"]:
        raise typer.Exit(1)
