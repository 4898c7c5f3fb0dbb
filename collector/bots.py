"""The bot filter: `is-bot`'s maintained patterns, ua-parser's Spider family, behind a cache.

`is-bot` already matches HeadlessChrome and the usual automation agents. A site
sees few distinct user agents, so the cache answers nearly every request.
"""

from __future__ import annotations

import functools

from is_bot import Bots

from footfall.user_agents import PARSER

_bots = Bots()


@functools.lru_cache(maxsize=16_384)
def is_bot(user_agent: str) -> bool:
    """True for crawlers, monitors and headless browsers, and for an empty agent."""
    if not user_agent.strip():
        return True
    if _bots.is_bot(user_agent):
        return True
    device = PARSER.parse_device(user_agent)
    return device is not None and device.family == "Spider"
