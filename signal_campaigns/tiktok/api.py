"""Where the TikTok Business API lives and how a request is spelled.

- Base: ``https://business-api.tiktok.com/open_api/v1.3`` in production; tests and the demo point
  ``base_url`` at the local sandbox. :func:`api_base` accepts a host or a full base.
- The access token travels only in the ``Access-Token`` header (never in a URL or a body),
  except on the OAuth calls, whose body carries the app secret.
- GET parameters that are lists or objects are JSON strings (``fields=["a","b"]``), see
  :func:`json_param`. Paths keep their trailing ``/``.
"""

from __future__ import annotations

import json
from typing import Any

PRODUCTION_HOST = "https://business-api.tiktok.com"
API_PREFIX = "/open_api/v1.3"
DEFAULT_BASE_URL = PRODUCTION_HOST + API_PREFIX
ACCESS_TOKEN_HEADER = "Access-Token"

# Marketing API (reporting reads)
ADVERTISER_INFO_PATH = "advertiser/info/"
CAMPAIGN_GET_PATH = "campaign/get/"
ADGROUP_GET_PATH = "adgroup/get/"
AD_GET_PATH = "ad/get/"
PIXEL_LIST_PATH = "pixel/list/"
REPORT_PATH = "report/integrated/get/"
# Events API 2.0
TRACK_PATH = "event/track/"
# OAuth
OAUTH_ACCESS_TOKEN_PATH = "oauth2/access_token/"
OAUTH_REVOKE_TOKEN_PATH = "oauth2/revoke_token/"
OAUTH_ADVERTISER_GET_PATH = "oauth2/advertiser/get/"
AUTHORIZATION_PAGE_PATH = "/portal/auth"


def api_base(base_url: str | None = None) -> str:
    """``https://host`` or ``https://host/open_api/v1.3`` -> ``https://host/open_api/v1.3``
    (``None``: production)."""
    base = (base_url or DEFAULT_BASE_URL).rstrip("/")
    return base if base.endswith(API_PREFIX) else base + API_PREFIX


def host_root(base_url: str | None = None) -> str:
    """The host part of an API base: where the authorization page lives."""
    return api_base(base_url)[: -len(API_PREFIX)]


def endpoint_url(base_url: str | None, path: str) -> str:
    return f"{api_base(base_url)}/{path.lstrip('/')}"


def endpoint_name(path: str) -> str:
    """``"report/integrated/get/"`` -> ``"report/integrated/get"``: how logs and counters name it."""
    return path.strip("/")


def json_param(value: Any) -> str:
    """A list or object GET parameter as TikTok wants it: a JSON string."""
    return json.dumps(value)
