"""The dashboard: editors' UI and the JSON APIs other services use (for now, the Sites API)."""
