"""Local sandbox of the TikTok Business API and the AppSprint export API (DESIGN.md D10).

- :mod:`.world` — the data contract: one deterministic synthetic world both servers serve.
- :mod:`.generate` — builds a :class:`~.world.World` from a seed and a scale (vectorised).
- :mod:`.ground_truth` — the numbers later tests compare the pipeline against.
- :mod:`.tiktok_server`, :mod:`.appsprint_server` — the two ASGI apps.
- :mod:`.faults` — fault injection and rate limiting shared by both servers.
- :mod:`.runner` — starts both servers (``python -m sandbox``).
"""
