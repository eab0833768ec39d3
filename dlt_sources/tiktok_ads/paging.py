"""What a successful TikTok answer must hold before its rows are read, and page-number paging.

- :func:`check_list`: a list endpoint's ``data.<key>`` must be a list. An answer without it is
  not "no rows": it stops that endpoint with a :class:`TikTokApiError` naming the endpoint, the
  advertiser and the field, instead of silently loading nothing.
- :class:`TikTokPaginator`: dlt's ``PageNumberPaginator`` on ``data.page_info.total_page``. A
  page without ``page_info`` does not stop the sync: a page shorter than the page size is the
  last one; a full page asks for the next. A full page that repeats the previous one (a server
  that ignores ``page``) stops with an error naming the field, instead of paging for ever.
"""

from __future__ import annotations

from typing import Any

from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from requests import Response

from signal_campaigns.tiktok.envelope import TikTokApiError


def _what(value: Any) -> str:
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"


def check_list(data: Any, key: str, *, endpoint: str, advertiser: str, request_id: str | None) -> None:
    """Raise unless ``data[key]`` is a list (the rows of a list endpoint)."""
    found = data.get(key) if isinstance(data, dict) else None
    if isinstance(found, list):
        return
    raise TikTokApiError(
        f"TikTok answered {endpoint} for advertiser {advertiser} without its rows: the field data.{key} "
        f"holds {_what(found)}, not a list (request_id {request_id}). Nothing of {endpoint} was loaded by "
        "this run, so no rows are wrongly taken for none; run the sync again later, and if it persists "
        "report the request id to TikTok",
        endpoint=endpoint,
        request_id=request_id,
    )


def total_page(response: Response) -> int | None:
    """``data.page_info.total_page`` of the answer, or ``None`` when it is missing or not a number."""
    try:
        body = response.json()
    except ValueError:
        return None
    data = body.get("data") if isinstance(body, dict) else None
    info = data.get("page_info") if isinstance(data, dict) else None
    value = info.get("total_page") if isinstance(info, dict) else None
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class TikTokPaginator(PageNumberPaginator):
    """Page numbers from 1, up to ``total_page``; see the module docstring for pages without it."""

    def __init__(self, page_size: int, *, endpoint: str, advertiser: str) -> None:
        super().__init__(base_page=1, page=1, page_param="page", total_path=None, stop_after_empty_page=True)
        self.page_size = page_size
        self.endpoint = endpoint
        self.advertiser = advertiser
        self.previous: list[Any] | None = None

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        rows = list(data or [])
        total = total_page(response)
        if total is not None:
            self.maximum_value = total + 1  # page numbers start at 1
        elif len(rows) < self.page_size:
            self.maximum_value = self.current_value + 1  # a short page is the last
        elif rows == self.previous:
            raise TikTokApiError(
                f"TikTok answered {self.endpoint} for advertiser {self.advertiser} without data.page_info, "
                f"and page {self.current_value} repeats the page before it: the pages cannot be told apart, "
                "so the sync stops here rather than page for ever. Run it again later; if it persists, "
                "report it to TikTok",
                endpoint=self.endpoint,
            )
        self.previous = rows
        super().update_state(response, data)


def advertiser_of(params: Any) -> str:
    """The advertiser a request is about, for messages (``advertiser_id``, else ``advertiser_ids``)."""
    return str(params.get("advertiser_id") or params.get("advertiser_ids") or "?")
