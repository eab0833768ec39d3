"""The TikTok Marketing API client of the ``tiktok_ads`` source.

- Transport: dlt's ``RESTClient`` over the retrying session of :mod:`.transport`; pagination by
  dlt's ``PageNumberPaginator`` on ``data.page_info.total_page`` (:mod:`.paging`: also without it).
- A successful answer must carry its rows (``data.list``, ``data.pixels``): an answer without them
  stops the endpoint with an error naming the endpoint, the advertiser and the field.
- A report query TikTok finds too large (40067) is split and its parts sent instead
  (:meth:`TikTokClient.report_pages`).
- Every response is checked by a response hook *before* the paginator reads it: TikTok answers
  HTTP 200 even on errors, so the envelope ``code`` decides, classified through the one table of
  :mod:`signal_campaigns.tiktok.codes` into success or a
  :class:`~signal_campaigns.tiktok.envelope.TikTokError`.
- Retries follow :mod:`signal_campaigns.tiktok.retry`; authentication, permission and parameter
  errors never retry. A transient failure that outlasts the attempts becomes
  :class:`~signal_campaigns.tiktok.envelope.TikTokRetryExhausted`.
- The access token is sent only as the ``Access-Token`` header and is scrubbed from every message.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator, SinglePagePaginator
from requests import Response

from signal_campaigns.secrets import Scrubber
from signal_campaigns.tiktok import api, codes, retry
from signal_campaigns.tiktok.codes import Kind
from signal_campaigns.tiktok.envelope import (
    NotAnEnvelope,
    TikTokApiError,
    TikTokAuthError,
    TikTokError,
    TikTokRetryableError,
    TikTokRetryExhausted,
    TikTokServerError,
    error_for_code,
    parse_envelope,
)
from signal_campaigns.tiktok.retry import RetryPolicy

from . import settings
from .paging import TikTokPaginator, advertiser_of, check_list
from .transport import AccessTokenAuth, RequestStats, retrying_session

logger = logging.getLogger(__name__)

ResponseHook = Callable[[Response, Any, Any], None]
MAX_IDS_PER_FILTER = 100  # a report filter's id list holds at most 100 ids


def default_retry_policy() -> RetryPolicy:
    """The source's own defaults (see settings): patient, for unattended syncs."""
    return RetryPolicy(
        settings.DEFAULT_MAX_ATTEMPTS, settings.DEFAULT_BACKOFF_SECONDS, settings.DEFAULT_MAX_BACKOFF_SECONDS
    )


class TikTokClient:
    """Reads the Marketing API endpoints the source needs. One instance per source run."""

    def __init__(
        self,
        access_token: str,
        base_url: str = api.DEFAULT_BASE_URL,
        *,
        page_size: int = settings.DEFAULT_PAGE_SIZE,
        retry_policy: RetryPolicy | None = None,
        request_timeout: float = settings.DEFAULT_REQUEST_TIMEOUT_SECONDS,
        stats: RequestStats | None = None,
    ) -> None:
        if not access_token or not str(access_token).strip():
            raise TikTokAuthError(codes.explain(codes.NO_TOKEN) + ".", code=codes.NO_TOKEN)
        if not 1 <= page_size <= settings.MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {settings.MAX_PAGE_SIZE}, got {page_size}")
        token = str(access_token)
        self.scrub = Scrubber([token])
        self.base_url = base_url.rstrip("/") + "/"
        self.page_size = page_size
        self.retry_policy = retry_policy or default_retry_policy()
        self.stats = stats if stats is not None else RequestStats()
        self._rest = RESTClient(
            base_url=self.base_url,
            auth=AccessTokenAuth(token),
            session=retrying_session(self.retry_policy, self.stats, request_timeout),
            data_selector="data.list",
        )

    def __repr__(self) -> str:
        return f"TikTokClient(base_url={self.base_url!r})"

    def _check(self, endpoint: str, params: Mapping[str, Any], list_key: str | None = None) -> ResponseHook:
        """The response hook: count, then raise the right exception for anything but success, and
        for a success without its rows (``data.<list_key>``)."""

        def hook(response: Response, *args: Any, **kwargs: Any) -> None:
            self.stats.count_request(endpoint)
            status = response.status_code
            retry_after = retry.retry_after_seconds(response.headers.get("Retry-After"))
            if status != 200:
                html = "html" in response.headers.get("content-type", "").lower()
                detail = "an HTML page" if html else "a non-JSON body"
                if retry.retryable_status(status):
                    raise TikTokServerError(
                        f"HTTP {status} from {endpoint} with {detail}",
                        endpoint=endpoint,
                        http_status=status,
                        retry_after=retry_after,
                    )
                hint = ""
                if status == 404:
                    hint = " (check base_url: it must end in /open_api/v1.3, and paths need their trailing '/')"
                raise TikTokApiError(f"HTTP {status} from {endpoint}{hint}", endpoint=endpoint, http_status=status)
            try:
                envelope = parse_envelope(response.content)
            except NotAnEnvelope as exc:
                raise TikTokServerError(f"HTTP 200 from {endpoint} {exc}", endpoint=endpoint) from None
            if envelope.succeeded and list_key is not None:
                check_list(
                    envelope.data,
                    list_key,
                    endpoint=endpoint,
                    advertiser=advertiser_of(params),
                    request_id=envelope.request_id,
                )
            if envelope.kind is Kind.OK:
                return
            message = self.scrub(envelope.message)
            if envelope.kind is Kind.PARTIAL:
                logger.warning(
                    "TikTok %s: partial success (%s): %s [request_id %s]",
                    endpoint,
                    envelope.code,
                    message,
                    envelope.request_id,
                )
                return
            error = error_for_code(
                envelope.code, message, endpoint=endpoint, request_id=envelope.request_id, params=params
            )
            error.retry_after = retry_after
            raise error

        return hook

    # --- requests -----------------------------------------------------------------------------
    def _pages(
        self,
        path: str,
        params: dict[str, Any],
        *,
        paged: bool = True,
        data_selector: str = "data.list",
        max_page_size: int = settings.MAX_PAGE_SIZE,
    ) -> Iterator[list[dict[str, Any]]]:
        endpoint = api.endpoint_name(path)
        sent = dict(params)
        if paged:
            sent["page_size"] = min(self.page_size, max_page_size)
            paginator: BasePaginator = TikTokPaginator(
                sent["page_size"], endpoint=endpoint, advertiser=advertiser_of(params)
            )
        else:
            paginator = SinglePagePaginator()
        try:
            for page in self._rest.paginate(
                path,
                params=sent,
                paginator=paginator,
                data_selector=data_selector,
                hooks={"response": [self._check(endpoint, {**sent, "page": 1}, data_selector.rsplit(".", 1)[-1])]},
            ):
                yield list(page)
        except TikTokRetryableError as exc:
            raise self._exhausted(endpoint, exc) from None
        except retry.TRANSPORT_ERRORS as exc:
            raise self._exhausted(endpoint, exc) from None
        except TikTokError as exc:
            exc.message = self.scrub(exc.message)
            exc.args = (exc.message,)
            raise

    def _exhausted(self, endpoint: str, exc: BaseException) -> TikTokRetryExhausted:
        attempts = self.retry_policy.max_attempts
        what = (
            self.scrub(str(exc))
            if isinstance(exc, TikTokError)
            else f"{type(exc).__name__} (timeout or connection failure)"
        )
        return TikTokRetryExhausted(
            f"TikTok {endpoint} still failing after {attempts} attempts ({self.stats.retries} retries so far "
            f"in this run): {what}. This is transient (rate limit or TikTok outage): run the sync again later",
            attempts=attempts,
            last_error=exc,
            code=getattr(exc, "code", None),
            endpoint=endpoint,
        )

    def advertiser_info(
        self, advertiser_ids: Sequence[str], fields: Sequence[str] = settings.ADVERTISER_FIELDS
    ) -> list[dict[str, Any]]:
        """``advertiser/info/`` for up to 100 advertisers per request."""
        rows: list[dict[str, Any]] = []
        ids = list(advertiser_ids)
        for i in range(0, len(ids), settings.MAX_ADVERTISERS_PER_INFO_CALL):
            chunk = ids[i : i + settings.MAX_ADVERTISERS_PER_INFO_CALL]
            params = {"advertiser_ids": api.json_param(chunk), "fields": api.json_param(list(fields))}
            for page in self._pages(api.ADVERTISER_INFO_PATH, params, paged=False):
                rows.extend(page)
        return rows

    def entities(self, path: str, advertiser_id: str, status_all: str) -> Iterator[list[dict[str, Any]]]:
        """``campaign/get/``, ``adgroup/get/`` or ``ad/get/``, every status (deleted included)."""
        params = {"advertiser_id": advertiser_id, "filtering": api.json_param({"secondary_status": status_all})}
        yield from self._pages(path, params)

    def pixels(self, advertiser_id: str) -> Iterator[list[dict[str, Any]]]:
        """``pixel/list/`` (pages of at most 20 pixels), oldest first so paging is stable."""
        params = {"advertiser_id": advertiser_id, "order_by": "EARLIEST_CREATE"}
        yield from self._pages(
            api.PIXEL_LIST_PATH, params, data_selector="data.pixels", max_page_size=settings.MAX_PIXEL_PAGE_SIZE
        )

    def campaign_ids(self, advertiser_id: str) -> list[str]:
        """Every campaign id of the advertiser, deleted ones included (to split a report by)."""
        params = {
            "advertiser_id": advertiser_id,
            "filtering": api.json_param({"secondary_status": settings.ENTITY_STATUS_ALL["campaigns"]}),
            "fields": api.json_param(["campaign_id"]),
        }
        ids: list[str] = []
        for page in self._pages(settings.CAMPAIGN_GET_PATH, params):
            ids.extend(str(r["campaign_id"]) for r in page if isinstance(r, dict) and r.get("campaign_id"))
        return list(dict.fromkeys(ids))

    def report_pages(
        self,
        advertiser_id: str,
        start: dt.date,
        end: dt.date,
        metrics: Sequence[str],
        campaign_ids: Sequence[str] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """``report/integrated/get/``: BASIC, AUCTION_AD, by ad and local day, every ad status.

        When TikTok finds the query too large (40067, on its first page) it is split and the parts
        are read instead, recursively: the date window in halves down to one day, then the
        advertiser's campaigns (in filters of at most 100 ids, then halves) down to one campaign.
        One day of one campaign that is still too large stops with a message saying what to do.
        """
        params = {
            "advertiser_id": advertiser_id,
            "service_type": "AUCTION",
            "report_type": "BASIC",
            "data_level": "AUCTION_AD",
            "dimensions": api.json_param(settings.REPORT_DIMENSIONS),
            "metrics": api.json_param(list(metrics)),
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "filtering": api.json_param(report_filters(campaign_ids)),
        }
        pages = self._pages(api.REPORT_PATH, params)
        try:
            first = next(pages, None)
        except TikTokApiError as exc:
            if exc.code != codes.QUERY_TOO_LARGE:
                raise
            self.stats.count_split()
            for part_start, part_end, part_ids in self._report_parts(advertiser_id, start, end, campaign_ids, exc):
                yield from self.report_pages(advertiser_id, part_start, part_end, metrics, part_ids)
            return
        if first is not None:
            yield first
            yield from pages

    def _report_parts(
        self, advertiser_id: str, start: dt.date, end: dt.date, ids: Sequence[str] | None, exc: TikTokApiError
    ) -> list[tuple[dt.date, dt.date, list[str] | None]]:
        """The parts of a report query that was too large: two halves of the window, else of the
        campaigns (the advertiser's campaigns in filters of at most 100 ids the first time)."""
        if start < end:
            middle = start + (end - start) // 2
            same = list(ids) if ids is not None else None
            return [(start, middle, same), (middle + dt.timedelta(days=1), end, same)]
        if ids is None:
            ids = self.campaign_ids(advertiser_id)
            if len(ids) > MAX_IDS_PER_FILTER:
                step = MAX_IDS_PER_FILTER
                return [(start, end, list(ids[i : i + step])) for i in range(0, len(ids), step)]
        if len(ids) > 1:
            half = len(ids) // 2
            return [(start, end, list(ids[:half])), (start, end, list(ids[half:]))]
        which = f"campaign {ids[0]}" if ids else "all its campaigns (campaign/get lists none)"
        raise TikTokApiError(
            f"TikTok finds the report of advertiser {advertiser_id} too large (code {codes.QUERY_TOO_LARGE}) "
            f"even for one day ({start}) and {which} [report/integrated/get]: request fewer metrics "
            "(sources.tiktok_ads.metrics); nothing of this run was loaded",
            code=codes.QUERY_TOO_LARGE,
            endpoint=api.endpoint_name(api.REPORT_PATH),
            request_id=exc.request_id,
        ) from exc


def report_filters(campaign_ids: Sequence[str] | None) -> list[dict[str, str]]:
    """Every ad status (deleted ads carry spend too), and the campaigns of a split query."""
    filters = [{"field_name": "ad_status", "filter_type": "IN", "filter_value": api.json_param(["STATUS_ALL"])}]
    if campaign_ids is not None:
        filters.append(
            {"field_name": "campaign_ids", "filter_type": "IN", "filter_value": api.json_param(list(campaign_ids))}
        )
    return filters
