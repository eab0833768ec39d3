"""TikTok Ads reporting loaded with dlt."""
