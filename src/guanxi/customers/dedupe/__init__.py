"""Fuzzy duplicate detection: blocking, scoring, the scan job, review services and the API."""
