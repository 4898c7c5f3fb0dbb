"""How every browser test (and bench/dashboard.py) launches Debian's Chromium.

Playwright cannot download browsers here: it drives /usr/bin/chromium, headless,
with the switches that keep it from reaching the network on its own.
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
