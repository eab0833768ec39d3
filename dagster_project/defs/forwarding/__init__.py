"""Forwarding to TikTok's Events API: the delivery ledger asset and the sensor that triggers it."""
