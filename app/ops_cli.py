"""The `footfall status` and `footfall demo-traffic` commands, for operators and first tries.

`status` reads Redis and ClickHouse itself, or, when a `footfall serve` owns the
data dir's embedded ClickHouse (which no other process may open), asks that
server's `/api/v1/status`. `demo-traffic` sends synthetic visitors through a
collector over HTTP, the running server's by default.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from typing import Any

import click

from app import runtime
from app.sites_client import sites_client
from footfall.settings import Settings
from footfall.status import Status, from_json

DEMO_TIMEZONE = "Asia/Ho_Chi_Minh"


@click.command()
@click.option("--watch", type=click.FloatRange(0.5), help="Redraw every this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def status(ctx: Any, watch: float | None, as_json: bool) -> None:
    """One screen for an operator: stream, aggregators, dead letters, last insert, sites."""
    from rich.console import Console
    from rich.live import Live

    from app.status_screen import render

    if as_json:
        click.echo(json.dumps(_status_as_dict(_read_status(ctx.settings)), indent=2))
        return
    console = Console()
    if watch is None:
        console.print(render(_read_status(ctx.settings)))
        return
    with Live(render(_read_status(ctx.settings)), console=console, screen=False) as live:
        try:
            while True:
                time.sleep(watch)
                live.update(render(_read_status(ctx.settings)))
        except KeyboardInterrupt:
            pass


def _status_as_dict(status: Status) -> dict[str, Any]:
    import msgspec

    return msgspec.to_builtins(status)


def _read_status(settings: Settings) -> Status:
    server = runtime.running_server(settings)
    if server and settings.clickhouse.startswith("chdb://"):
        return _status_from_server(server, runtime.with_admin_token(settings).admin_token)
    return asyncio.run(_status_here(settings, runtime.running_redis(settings)))


def _status_from_server(url: str, token: str) -> Status:
    request = urllib.request.Request(
        url.rstrip("/") + "/api/v1/status", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return from_json(response.read())
    except (urllib.error.URLError, OSError) as e:
        raise click.ClickException(f"cannot read the status from {url}: {e}") from None


async def _status_here(settings: Settings, served_redis: str | None) -> Status:
    from app.database import open_clickhouse
    from app.operator_status import operator_status
    from footfall.clock import system_clock
    from footfall.connections import async_redis

    redis_url = settings.redis_url or served_redis
    if not redis_url:
        gave_up = runtime.embedded_redis_gave_up(settings)
        raise click.ClickException(
            "no Redis to read: set FOOTFALL_REDIS_URL, or start `footfall serve`"
            + (f"\nthe last `footfall serve` stopped: {gave_up}" if gave_up else "")
        )
    redis = async_redis(redis_url)
    store = None
    try:
        try:
            store = open_clickhouse(settings)
        except Exception as e:  # reported on the screen by gather, as "not asked"
            click.echo(f"ClickHouse: {type(e).__name__}: {e}", err=True)
        return await operator_status(redis, store, system_clock(), data_dir=settings.data_dir)
    finally:
        await redis.aclose()
        if store is not None:
            store.close()


@click.command("demo-traffic")
@click.option("--site", required=True, help="The site's domain (registered already).")
@click.option(
    "--rate",
    type=click.FloatRange(0.1, 10_000),
    default=20.0,
    show_default=True,
    help="Events per second, at most.",
)
@click.option(
    "--duration",
    type=click.FloatRange(1, 86_400),
    default=60.0,
    show_default=True,
    help="Seconds to run.",
)
@click.option(
    "--url",
    help="The collector's base URL (default: the running server's, else "
    "http://<host>:<port> from the settings).",
)
@click.option("--token", help="An API token with events:write (default: the admin token).")
@click.option("--seed", type=int, help="Seed for the same visitors on every run.")
@click.option("--add-site", is_flag=True, help="Register the site first if it is not yet.")
@click.pass_obj
def demo_traffic(
    ctx: Any, site: str, rate: float, duration: float, url: str | None, token: str | None,
    seed: int | None, add_site: bool,
) -> None:  # fmt: skip
    """Send realistic synthetic visitors to a site through the collector."""
    from app.demo_traffic import DemoError, send_demo_traffic

    settings: Settings = ctx.settings
    if add_site:
        _ensure_site(settings, site)
    url = url or runtime.running_server(settings) or settings.base_url
    token = token or runtime.with_admin_token(settings).admin_token
    click.echo(f"demo traffic to {site} through {url}: up to {rate:g} events/s for {duration:g} s")
    try:
        report = asyncio.run(
            send_demo_traffic(url, site, rate=rate, duration_s=duration, token=token, seed=seed)
        )
    except DemoError as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:
        raise click.Abort() from None
    click.echo(str(report))


def _ensure_site(settings: Settings, domain: str) -> None:
    sites = sites_client(settings)
    if domain not in {s["domain"] for s in sites.list()}:
        sites.add({"domain": domain, "public_counters": True, "timezone": DEMO_TIMEZONE})
