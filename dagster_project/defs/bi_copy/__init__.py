"""The read-only copy of the warehouse for BI tools."""
