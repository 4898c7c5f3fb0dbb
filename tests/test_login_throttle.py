"""Failed logins are limited per client address and per account from an address, in Redis,
so that passwords cannot be guessed by the thousand, and nobody can lock another out."""

from __future__ import annotations

import asyncio

import pytest

from dashboard.login_throttle import PER_ACCOUNT, PER_ADDRESS, WINDOW
from tests.test_accounts import PASSWORD, add_user, form_csrf  # noqa: F401 - the fixture

ADMIN = "admin@news.example"
ATTACKER = "198.51.100.66"
PROXY = {"trusted_proxies": "127.0.0.1"}  # the test client's address, so X-Forwarded-For counts


@pytest.fixture
async def browser(make_client, add_user):  # noqa: F811
    client = await make_client(**PROXY)
    await add_user(ADMIN, role="admin")
    return client


async def attempt(client, email: str = ADMIN, password: str = "wrong password", ip: str = ATTACKER):
    """One login from a fresh browser at `ip`: its form, then its post."""
    client.session.cookie_jar.clear()
    form = {"email": email, "password": password, "csrf_token": await form_csrf(client)}
    headers = {"X-Forwarded-For": ip}
    return await client.post("/login", data=form, headers=headers, allow_redirects=False)


async def test_failed_logins_are_refused_with_429_until_the_window_ends(browser, clock):
    clock.now_ms -= clock.now_ms % (WINDOW * 1000)  # at the start of a window
    clock.advance(100)
    statuses = [(await attempt(browser)).status for _ in range(PER_ACCOUNT + 3)]
    assert statuses == [401] * PER_ACCOUNT + [429] * 3
    right = await attempt(browser, password=PASSWORD)  # not even the right password, for now
    assert right.status == 429
    assert right.headers["Retry-After"] == str(WINDOW - 100)
    assert "Too many failed logins" in await right.text()
    assert "footfall_session" not in right.cookies
    clock.advance(WINDOW - 100)
    assert (await attempt(browser, password=PASSWORD)).status == 303


async def test_an_account_attacked_from_one_address_logs_in_from_another(browser):
    statuses = [(await attempt(browser)).status for _ in range(25)]
    assert statuses == [401] * PER_ACCOUNT + [429] * (25 - PER_ACCOUNT)
    assert (await attempt(browser, password=PASSWORD, ip="203.0.113.5")).status == 303


async def test_an_address_failing_on_many_accounts_is_refused_on_every_account(browser):
    guesses = [f"user{i}@news.example" for i in range(PER_ADDRESS)]
    statuses = [(await attempt(browser, email)).status for email in guesses]
    assert statuses == [401] * PER_ADDRESS
    assert (await attempt(browser, password=PASSWORD)).status == 429
    assert (await attempt(browser, password=PASSWORD, ip="203.0.113.5")).status == 303


async def test_an_ipv6_client_is_its_64(browser):
    for i in range(PER_ACCOUNT):
        assert (await attempt(browser, ip=f"2001:db8:1:2::{i + 1:x}")).status == 401
    assert (await attempt(browser, ip="2001:db8:1:2:ffff::1")).status == 429
    assert (await attempt(browser, password=PASSWORD, ip="2001:db8:1:3::1")).status == 303


async def test_parallel_guesses_get_no_more_tries_than_the_limit(browser):
    client = browser
    form = {"email": ADMIN, "password": "wrong password", "csrf_token": await form_csrf(client)}
    headers = {"X-Forwarded-For": ATTACKER}
    responses = await asyncio.gather(
        *(client.post("/login", data=form, headers=headers) for _ in range(3 * PER_ACCOUNT))
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [401] * PER_ACCOUNT + [429] * (2 * PER_ACCOUNT)


async def test_a_right_password_clears_its_accounts_failures_but_not_its_addresses(browser):
    for _ in range(3):
        for _ in range(PER_ACCOUNT - 1):
            assert (await attempt(browser)).status == 401
        assert (await attempt(browser, password=PASSWORD)).status == 303
    # 12 failures: the address's count was not cleared by the logins in between.
    guesses = [f"user{i}@news.example" for i in range(PER_ADDRESS - 3 * (PER_ACCOUNT - 1))]
    assert {(await attempt(browser, email)).status for email in guesses} == {401}
    assert (await attempt(browser, "other@news.example")).status == 429


async def test_throttle_keys_hold_a_keyed_hash_never_the_address_or_the_account(browser, redis_db):
    await attempt(browser, ip="198.51.100.77")
    names = [k.decode() for k in redis_db.keys("ff:login:*")]
    assert len(names) == 2
    for name in names:
        assert "198.51.100.77" not in name and ADMIN not in name
        assert redis_db.get(name) == b"1"
        assert 0 < redis_db.ttl(name) <= WINDOW
