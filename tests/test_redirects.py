"""No redirect leaves the site: whatever `next` a client gives, the Location is a path here."""

from __future__ import annotations

import re
import string
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dashboard.redirects import safe_next
from tests.test_accounts import add_user, log_in  # noqa: F401 - the fixture

ORIGIN = "https://stats.example"
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))


def as_a_browser_reads(location: str) -> str:
    """The URL a browser makes of a Location (WHATWG URL parser): C0 controls and spaces
    trimmed at the ends, tab, LF and CR removed anywhere, a backslash read as a slash."""
    return re.sub("[\t\n\r]", "", location.strip(_C0_AND_SPACE)).replace("\\", "/")


def assert_stays_on_the_site(location: str) -> None:
    assert location.isascii() and location.isprintable() and " " not in location, location
    assert "\\" not in location and "\x7f" not in location, location
    seen = as_a_browser_reads(location)
    assert seen.startswith("/") and not seen.startswith("//"), location
    assert urlsplit(urljoin(ORIGIN + "/sites/a.example", seen)).netloc == "stats.example"


TRICKY = "/\\\t\n\r \x00\x0b\x7f:.%?#@éÿ\u2028\uff0f"
targets = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(TRICKY + "ab"), max_size=12),
    st.text(alphabet=st.sampled_from(TRICKY + "ab"), max_size=12).map(lambda s: "/" + s),
)
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(max_examples=2000, deadline=None)
@given(target=targets)
@example("/\t/evil.example")
@example("/\n/evil.example")
@example("/\r/evil.example")
@example("/\\evil.example")
@example(" //evil.example")
def test_safe_next_answers_a_path_on_this_site_for_any_string(target):
    assert_stays_on_the_site(safe_next(target))


@given(path=st.text(alphabet=string.ascii_letters + string.digits + "-._~/?=&%+", max_size=30))
def test_a_path_on_this_site_is_followed_as_it_is(path):
    target = "/s" + path
    assert safe_next(target) == target


def test_a_path_with_other_characters_is_followed_percent_encoded():
    assert safe_next("/sites/bücher.example?q=a b") == "/sites/b%C3%BCcher.example?q=a%20b"


@PROPERTY
@given(target=targets)
@example("/\t/evil.example")
@example("/\n/evil.example")
@example("/\r/evil.example")
async def test_the_language_switch_stays_on_this_site_whatever_next(client, target):
    response = await client.get("/lang/en", params={"next": target}, allow_redirects=False)
    assert response.status == 303
    assert_stays_on_the_site(response.headers["Location"])


@pytest.fixture
async def editor(add_user) -> str:  # noqa: F811
    await add_user("editor@news.example")
    return "editor@news.example"


@pytest.fixture
async def logged_in(client, editor):
    assert (await log_in(client, editor)).status == 303
    return client


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/\r/evil.example"])
async def test_login_sends_a_browser_home_for_a_next_that_leaves_the_site(client, editor, target):
    response = await log_in(client, editor, next_=target)
    assert (response.status, response.headers["Location"]) == (303, "/")
    # Already logged in, the login page sends the browser on at once: home, too.
    again = await client.get("/login", params={"next": target}, allow_redirects=False)
    assert (again.status, again.headers["Location"]) == (303, "/")


@PROPERTY
@given(target=targets)
@example("/\x7f/evil.example")
async def test_the_login_page_of_a_logged_in_browser_stays_on_this_site_whatever_next(
    logged_in, target
):
    response = await logged_in.get("/login", params={"next": target}, allow_redirects=False)
    assert response.status == 303
    assert_stays_on_the_site(response.headers["Location"])
