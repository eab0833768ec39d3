"""TikTok Signal Campaigns measured by AppSprint: API clients, sandbox servers, forwarding and CLI.

Domain logic that is neither extraction (``dlt_sources``) nor orchestration (``dagster_project``)
lives here, with no Dagster dependency.
"""

__version__ = "0.1.0"
