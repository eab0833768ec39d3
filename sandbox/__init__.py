"""Local sandbox of the TikTok Business API and the AppSprint export API (docs/decisions/0010-sandbox.md).

Development code (tests, demo, benchmarks), not part of the shipped ``signal_campaigns`` wheel.

- :mod:`.world` — the data contract: one deterministic synthetic world both servers serve.
- :mod:`.generate` — builds a :class:`~.world.World` from a seed and a scale (vectorised), by entity.
- :mod:`.world_cache` — the world's Parquet cache; :mod:`.ground_truth` — the numbers tests compare against.
- :mod:`.restatement` — TikTok's late crediting of conversions, shared by the server and the ground truth.
- :mod:`.tiktok_server` — the TikTok ASGI app; its route families in ``tiktok_*`` modules.
- :mod:`.appsprint_server` — the AppSprint ASGI app; paging in :mod:`.appsprint_pages` and ``appsprint_*``.
- :mod:`.control` — clock, fault injection and rate limiting shared by both servers.
- :mod:`.runner` — starts both servers (``python -m sandbox``); :mod:`.connection` — the product's
  connection to them.
- :mod:`.demo`, :mod:`.dev` — ``make demo`` and ``make dev``; :mod:`.synthetic_queue` — synthetic
  ``events_to_forward`` rows for the forwarding tests and benchmark.
"""
