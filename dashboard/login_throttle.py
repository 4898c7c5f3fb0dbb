"""Failed logins counted in Redis: `LoginThrottle.admit` before a password is checked.

Two limits, in fixed windows of `WINDOW` seconds (time // window, as the
collector's rate limits):

* `PER_ADDRESS` failed logins from one client address, whatever the accounts:
  what one machine may guess in a window;
* `PER_ACCOUNT` failed logins for one account from one address: the limit that
  comes first when one account is attacked.

There is no limit for an account alone: whoever failed on purpose could then
lock an admin out from everywhere. Here an attacker locks out only their own
address (and the people behind it). The price: guesses from many addresses are
each limited as one address, no more.

An attempt takes its place in both counters before the password is checked, so
a burst of parallel guesses gets no more tries than the limit; a right password
gives its place back (the address's counter counts failures only) and clears
its account's failures from that address. Over a limit the answer is a 429
with Retry-After (the seconds to the end of the window), the password unread.

A client is its address as the collector sees it (`footfall.client_ip`:
X-Forwarded-For from FOOTFALL_TRUSTED_PROXIES only), and an IPv6 client its
/64, kept as the collector's keyed hash under the day's salt
(`footfall.salts.client_key`): Redis holds neither the address nor the
e-mail, and the counters expire with their window.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio

from dashboard.accounts import normalize_email
from footfall import keys
from footfall.clock import Clock
from footfall.salts import Salts, client_key

WINDOW = 900
"""Seconds of the windows."""
PER_ADDRESS = 20
PER_ACCOUNT = 5


@dataclass(frozen=True)
class Attempt:
    """A login admitted: its places in the counters, given back by `succeeded`."""

    address_key: str
    account_key: str


class TooManyFailures(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"too many failed logins, retry in {retry_after} s")
        self.retry_after = retry_after


class LoginThrottle:
    def __init__(
        self,
        redis: redis.asyncio.Redis,
        clock: Clock,
        *,
        window: int = WINDOW,
        per_address: int = PER_ADDRESS,
        per_account: int = PER_ACCOUNT,
    ):
        self._redis = redis
        self._clock = clock
        self._salts = Salts(redis)
        self._window_ms = window * 1000
        self._per_address = per_address
        self._per_account = per_account

    async def admit(self, email: str, address: str) -> Attempt:
        """Count a login of `email` from `address`; raises TooManyFailures when either
        counter is over its limit."""
        now = self._clock()
        slot = now // self._window_ms
        # The salt of the window's start: a window across midnight keeps its counters.
        salt = (await self._salts.for_time("UTC", slot * self._window_ms)).salt
        attempt = Attempt(
            keys.login_address(client_key(salt, "", address), slot),
            keys.login_account(client_key(salt, normalize_email(email), address), slot),
        )
        lifetime = self._window_ms // 1000
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in (attempt.address_key, attempt.account_key):
                pipe.incr(key)
                pipe.expire(key, lifetime)
            from_address, _, for_account, _ = await pipe.execute()
        if from_address > self._per_address or for_account > self._per_account:
            window_end = (slot + 1) * self._window_ms
            raise TooManyFailures(max(1, -(-(window_end - now) // 1000)))
        return attempt

    async def succeeded(self, attempt: Attempt) -> None:
        """The password was right: give the attempt's place back, clear its account's count."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.decr(attempt.address_key)
            pipe.delete(attempt.account_key)
            await pipe.execute()
