"""The TikTok Business API, in one place: what the dlt source, the forwarder and the CLI share.

Modules: :mod:`.events_api` (the Events API client), :mod:`.marketing` (the small client the CLI
uses), :mod:`.oauth` (advertiser authorization). This package never imports its users.
"""
