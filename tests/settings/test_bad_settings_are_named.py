"""A bad setting stops where it is loaded, naming the setting, its value (never a secret's) and what
a good value looks like, through each public entry point in its own process: the Dagster code
location, the example dlt pipelines, the forwarder's command line and the forwarding step."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.warehouse.processes import REPO, child_env, run_forwarder

LOAD_DEFINITIONS = "import dagster_project.definitions"


def run_python(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=child_env(**env),
        cwd=REPO,
        timeout=300,
        check=False,
    )


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else ""


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SIGNAL_SCHEDULE_TIMEZONE", "Mars/Olympus_Mons", "an IANA timezone name, e.g. 'UTC'"),
        ("SIGNAL_TIKTOK_SYNC_CRON", "every hour", "a cron schedule of five fields"),
        ("SIGNAL_APPSPRINT_SYNC_CRON", "*/15 * * *", "a cron schedule of five fields"),
        ("SIGNAL_DAILY_REFRESH_CRON", "61 3 * * *", "a cron schedule of five fields"),
        ("SIGNAL_FORWARDING_SENSOR_SECONDS", "30s", "a whole number from 5 to 3600"),
        ("SIGNAL_AUTOMATION", "on", "'running' or 'stopped'"),
    ],
)
def test_the_code_location_does_not_load_with_a_bad_automation_setting(variable, value, expected):
    result = run_python("-c", LOAD_DEFINITIONS, **{variable: value})
    assert result.returncode != 0
    # the error Dagster shows for the location: the variable, its value and what would do
    assert f"SettingsError: invalid setting {variable}={value!r}: expected {expected}" in last_line(result)


def test_the_code_location_loads_with_good_settings():
    good = {"SIGNAL_SCHEDULE_TIMEZONE": "Europe/Berlin", "SIGNAL_TIKTOK_SYNC_CRON": "5 * * * *"}
    result = run_python("-c", LOAD_DEFINITIONS + "; print('loaded')", **good)
    assert result.returncode == 0 and "loaded" in result.stdout, result.stderr


@pytest.mark.parametrize("value", ["localhost:8788/v1", "ftp://appsprint.example/v1", "http:///v1", "not a url"])
def test_the_appsprint_pipeline_names_a_base_url_that_is_not_a_url(tmp_path, value):
    result = run_python(
        "-m",
        "dlt_sources.appsprint_pipeline",
        "--warehouse",
        str(tmp_path / "warehouse.duckdb"),
        "--pipelines-dir",
        str(tmp_path / "pipelines"),
        SOURCES__APPSPRINT__BASE_URL=value,
        SOURCES__APPSPRINT__APP_ID="app_1",
        SOURCES__APPSPRINT__EXPORT_TOKEN="export-secret-123",
    )
    assert result.returncode != 0
    message = f"sources.appsprint.base_url (env SOURCES__APPSPRINT__BASE_URL)={value!r}: expected an http(s) URL"
    assert message in last_line(result), result.stderr
    assert "export-secret-123" not in result.stderr + result.stdout
    assert "giving up after" not in result.stderr  # stopped before any request


def test_the_tiktok_source_names_a_base_url_that_is_not_a_url():
    code = "from dlt_sources.tiktok_ads import tiktok_ads; tiktok_ads(advertiser_ids=['1'], access_token='x')"
    result = run_python("-c", code, SOURCES__TIKTOK_ADS__BASE_URL="business-api.tiktok.com/open_api/v1.3")
    assert result.returncode != 0
    assert (
        "sources.tiktok_ads.base_url (env SOURCES__TIKTOK_ADS__BASE_URL)='business-api.tiktok.com/open_api/v1.3'"
        in (last_line(result))
    ), result.stderr
    assert "https://business-api.tiktok.com/open_api/v1.3" in last_line(result)  # what a good value looks like


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "127.0.0.1:8789"], "invalid setting --base-url='127.0.0.1:8789'"),
        (["--base-url", "http://127.0.0.1:99999"], "an http(s) URL with a valid port"),
        (["--dry-run", "--batch-size", "5000"], "invalid setting batch_size (--batch-size)=5000"),
        (["--dry-run", "--fold-every-batches", "0"], "invalid setting fold_every_batches (--fold-every-batches)=0"),
        (["--dry-run", "--batch-size", "many"], "argument --batch-size: invalid int value: 'many'"),
    ],
)
def test_the_forwarder_command_line_names_a_bad_option(tmp_path, args, message):
    result = run_forwarder(tmp_path / "warehouse.duckdb", *args)
    assert result.returncode == 3, result.stderr  # stopped; 2 is kept for a rejected token
    assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_the_forwarding_step_names_a_bad_events_api_url(tmp_path):
    code = (
        "from dagster import materialize\n"
        "from dagster_project.definitions import default_resources\n"
        "from dagster_project.defs.forwarding.assets import event_delivery_ledger\n"
        "result = materialize([event_delivery_ledger], resources=default_resources(), raise_on_error=False)\n"
        "print([e.message for e in result.all_events if e.is_step_failure])\n"
    )
    result = run_python(
        "-c",
        code,
        SOURCES__TIKTOK_ADS__BASE_URL="tiktok.example/open_api",
        SIGNAL_WAREHOUSE_PATH=str(tmp_path / "warehouse.duckdb"),
    )
    assert "sources.tiktok_ads.base_url (env SOURCES__TIKTOK_ADS__BASE_URL)='tiktok.example/open_api'" in (
        result.stdout + result.stderr
    ), result.stderr[-3000:]
