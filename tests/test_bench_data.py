"""The bench's year of page views (bench/dashboard_data.py), made in several statements:
exactly the page views asked, each visit its own, none after the bench's now."""

from __future__ import annotations

from bench import dashboard_data


def test_the_generator_makes_the_page_views_asked_in_statements_of_distinct_visits(ch, monkeypatch):
    monkeypatch.setattr(dashboard_data, "STATEMENT_PAGEVIEWS", 10_000)
    dashboard_data.fill(ch, dashboard_data.SITE, 25_000)
    ((pageviews, engagements, ids, visits, latest),) = ch.query(
        "SELECT countIf(type = 'pageview'), countIf(type = 'engagement'), "
        "uniqExactIf(pageview_id, type = 'pageview'), uniqExact(visitor_id, visit_start), "
        "max(ts) FROM events WHERE site = {s:String}",
        parameters={"s": dashboard_data.SITE},
    ).result_rows
    assert (pageviews, engagements) == (25_000, 25_000)
    # A page view's id is its visit's number and its own: the statements' visits differ.
    assert ids == 25_000
    assert 25_000 / 3 < visits < 25_000 / 1.5
    assert latest < dashboard_data.END.replace(tzinfo=None)
