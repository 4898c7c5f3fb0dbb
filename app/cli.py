"""The `footfall` command: start any component or all of them, and manage sites.

Commands gather options, build settings and hand over; startup errors become a
one-line message. Site commands go through a running server's API when one
owns this data dir (in the embedded default only one process may open the chdb
folder), and straight to ClickHouse and Redis when none runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click
from clickhouse_connect.driver.exceptions import Error as ClickHouseError

from app import runtime
from app.accounts_cli import token, user
from app.cli_errors import client_errors
from app.ops_cli import demo_traffic, status
from app.sites_client import sites_client
from footfall import logs
from footfall.private_files import PRIVATE_UMASK
from footfall.settings import SETTINGS, Settings, load_settings
from footfall.sites import snippet_tag

DEMO_SITE = "demo.localhost"
EMBEDDED_REDIS_FAILED = 3
"""`serve`'s exit status when its embedded Redis failed again and again (deploy/footfall.service
does not restart it: a corrupt AOF needs a person)."""
DEMO_RATE = 5


class Context:
    def __init__(self, settings: Settings):
        self.settings = settings


pass_settings = click.make_pass_decorator(Context)


@click.group()
@click.option(
    "--config", type=click.Path(exists=True, dir_okay=False), help="A TOML settings file."
)
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """footfall: self-hosted traffic analytics."""
    # Whatever a command creates (chdb's parts, server.json, imports' records) is the
    # service user's alone, as the data dir is.
    os.umask(PRIVATE_UMASK)
    try:
        ctx.obj = Context(load_settings(toml_path=config))
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    logs.setup(ctx.obj.settings)


main.add_command(user)
main.add_command(token)
main.add_command(status)
main.add_command(demo_traffic)


@main.command()
@click.option("--host", help="Address to bind (default: setting `host`).")
@click.option("--port", type=int, help="Port (default: setting `port`, 8000).")
@click.option(
    "--demo", is_flag=True, help=f"Also: an admin login, the site {DEMO_SITE} and visitors to it."
)
@pass_settings
def serve(ctx: Context, host: str | None, port: int | None, demo: bool) -> None:
    """Run every component in one process, on one port."""
    from app import serve as servers
    from app.database import open_clickhouse

    configured = ctx.settings.replace(**_given(host=host, port=port))
    settings = runtime.with_admin_token(configured)
    if demo:
        settings = runtime.with_admin_login(settings)
    visitors: list[subprocess.Popen] = []

    def started() -> None:
        _banner(settings, demo, configured)
        if demo:
            visitors.append(_demo_visitors(settings))

    gave_up: list[str] = []

    def give_up(reason: str) -> None:
        # From the supervisor's thread: stop serving as Ctrl+C would, then exit non-zero.
        gave_up.append(reason)
        os.kill(os.getpid(), signal.SIGTERM)

    with _startup_errors():
        runtime.refuse_if_served(settings)
    with _startup_errors(), runtime.supervised_redis(settings, give_up) as (settings, redis):
        clickhouse = open_clickhouse(settings)
        app = servers.all_in_one_app(
            settings, clickhouse, embedded_redis=redis.status if redis else None
        )
        try:
            with runtime.announced(settings, settings.base_url):
                servers.run(app, settings, settings.port, banner=started)
        finally:
            for process in visitors:
                process.terminate()
                process.wait(10)
    if gave_up:
        click.echo(f"footfall serve stopped: {gave_up[0]}", err=True)
        sys.exit(EMBEDDED_REDIS_FAILED)


def _demo_visitors(settings: Settings) -> subprocess.Popen:
    """`footfall demo-traffic` in a process of its own (the server's loop serves requests
    only), bounded like every load: DEMO_RATE events/s for a day at most."""
    env = {
        **os.environ,
        "FOOTFALL_DATA_DIR": str(settings.data_dir),
        "FOOTFALL_ADMIN_TOKEN": settings.admin_token,
    }
    command = [sys.executable, "-m", "app", "demo-traffic", "--site", DEMO_SITE,
               "--add-site", "--rate", str(DEMO_RATE), "--duration", "86400",
               "--url", settings.base_url]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


@main.command()
@click.option("--port", type=int, default=8001, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes sharing the port (SO_REUSEPORT).")  # fmt: skip
@pass_settings
def collector(ctx: Context, port: int, workers: int) -> None:
    """Run the collector alone (needs FOOTFALL_REDIS_URL)."""
    from app import serve as servers

    _require_redis(ctx.settings)
    with _startup_errors():
        servers.run_collectors(ctx.settings, port, workers)


@main.command()
@click.option("--consumer", help="Name in the consumer group (default: the host name).")
@click.option("--port", type=int,
              help="Port of /health, /ready, /metrics (default: setting `aggregator_port`, "
                   "8003); 0: none.")  # fmt: skip
@pass_settings
def aggregator(ctx: Context, consumer: str | None, port: int | None) -> None:
    """Run the aggregator alone (needs FOOTFALL_REDIS_URL)."""
    import asyncio

    from aggregator.runner import default_consumer, run_alone
    from app.database import open_clickhouse

    _require_redis(ctx.settings)
    settings = ctx.settings.replace(**_given(aggregator_port=port))
    with _startup_errors():
        clickhouse = open_clickhouse(settings)
        click.echo(f"footfall aggregator {consumer or default_consumer()} consuming", err=True)
        asyncio.run(run_alone(settings, clickhouse, consumer or default_consumer()))


@main.command()
@click.option("--port", type=int, default=8002, show_default=True)
@pass_settings
def dashboard(ctx: Context, port: int) -> None:
    """Run the dashboard and its APIs alone (needs FOOTFALL_REDIS_URL)."""
    import dashboard.app
    from app import serve as servers
    from app.database import open_clickhouse

    _require_redis(ctx.settings)
    settings = runtime.with_admin_token(ctx.settings.replace(port=port))
    with _startup_errors():
        app = dashboard.app.create_app(settings, open_clickhouse(settings))
        with runtime.announced(settings, settings.base_url):
            servers.run(app, settings, port, banner=lambda: click.echo(settings.base_url))


@main.command()
@click.option(
    "--cluster",
    metavar="NAME",
    help="On this ClickHouse cluster: Replicated + Distributed tables, ON CLUSTER "
    "(default: setting `clickhouse_cluster`).",
)
@click.option(
    "--print",
    "print_only",
    is_flag=True,
    help="Print the statements for an empty database instead of applying them.",
)
@pass_settings
def migrate(ctx: Context, cluster: str | None, print_only: bool) -> None:
    """Create or upgrade every ClickHouse table."""
    from aggregator.cluster import Cluster
    from aggregator.schema import schema_script
    from app.database import migrated_clickhouse

    settings = ctx.settings.replace(**_given(clickhouse_cluster=cluster))
    with _startup_errors():
        if print_only:
            layout = Cluster(settings.clickhouse_cluster) if settings.clickhouse_cluster else None
            click.echo("".join(f"{statement};\n\n" for statement in schema_script(layout)))
            return
        _refuse_if_served(settings)
        client, applied = migrated_clickhouse(settings)
        client.close()
    click.echo(f"applied {len(applied)} migration(s)" if applied else "schema up to date")


@main.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--site", help="The site of rows without a `site` column (default: the URL's host).")
@click.option("--again", is_flag=True, help="Import a file imported before (its rows count twice).")
@pass_settings
def import_csv(ctx: Context, path: str, site: str | None, again: bool) -> None:
    """Load historical page views from a CSV file (columns: see the README)."""
    import asyncio

    from rich.progress import Progress

    from aggregator.importer import BadRow, ImportedBefore

    with Progress() as progress, _startup_errors():
        task = progress.add_task(f"importing {path}", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            count = asyncio.run(_import(ctx.settings, path, site, again, on_progress))
        except (BadRow, ImportedBefore) as e:
            raise click.ClickException(str(e)) from None
    click.echo(f"imported {count} page views")


async def _import(
    settings: Settings,
    path: str,
    site: str | None,
    again: bool,
    on_progress: Callable[[int, int], None],
) -> int:
    """Through the running server's Redis and aggregator, or, with none, an aggregator here."""
    from aggregator.consumer import Aggregator
    from aggregator.importer import import_file
    from app.database import open_clickhouse
    from footfall.connections import async_redis

    options = {"default_site": site, "visit_gap_ms": settings.visit_gap * 1000, "again": again}
    served = runtime.running_redis(settings)
    if served:
        redis = async_redis(served)
        try:
            return await import_file(path, redis, drain=None, on_progress=on_progress, **options)
        finally:
            await redis.aclose()
    with runtime.redis_available(settings) as settings:
        redis = async_redis(settings.redis_url)
        aggregator = Aggregator(settings, redis, open_clickhouse(settings), consumer="import")
        try:
            await aggregator.prepare()
            return await import_file(
                path, redis, drain=aggregator.drain, on_progress=on_progress, **options
            )
        finally:
            await redis.aclose()


@main.command("settings")
def show_settings() -> None:
    """List every setting, its variable and default."""
    for s in SETTINGS:
        click.echo(f"FOOTFALL_{s.name.upper():<18} {s.default!s:<12} {s.help}")


def _listed(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> Any:
    # Not given: None, so `site set` keeps the list; given: the new list.
    return list(value) or None


def site_options(command: Callable[..., None]) -> Callable[..., None]:
    """The site settings, as options of `site add` and `site set`."""
    options = [
        click.option("--timezone", help="IANA timezone, e.g. Asia/Ho_Chi_Minh (default UTC)."),
        click.option("--public-counters/--no-public-counters", default=None,
                     help="Serve the public counters for this site."),
        click.option("--counter-measure", type=click.Choice(["visits", "pageviews"])),
        click.option("--counter-offset", type=int, help="Count carried over from an old counter."),
        click.option("--online-window", type=int, help="Seconds a visitor counts as online."),
        click.option("--article-pattern", help="URL regex with a group named 'article'."),
        click.option("--allow-subdomains/--no-allow-subdomains", default=None,
                     help="Count pages on the domain's subdomains too."),
        click.option("--exclude-ip", "excluded_ips", multiple=True, callback=_listed,
                     help="An address or CIDR range not counted (repeatable; replaces the list)."),
        click.option("--exclude-path", "excluded_paths", multiple=True, callback=_listed,
                     help="A path glob not counted, e.g. '/admin/*' (repeatable; replaces them)."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


@main.group()
def site() -> None:
    """Manage sites."""


@site.command("add")
@click.argument("domain")
@site_options
@pass_settings
def site_add(ctx: Context, domain: str, **options: Any) -> None:
    """Register a site."""
    with client_errors():
        _print_site(sites_client(ctx.settings).add({"domain": domain, **_given(**options)}))


@site.command("set")
@click.argument("domain")
@site_options
@pass_settings
def site_set(ctx: Context, domain: str, **options: Any) -> None:
    """Change a site's settings (those given; the others stay)."""
    with client_errors():
        _print_site(sites_client(ctx.settings).update(domain, _given(**options)))


@site.command("list")
@pass_settings
def site_list(ctx: Context) -> None:
    """List the sites."""
    with client_errors():
        sites = sites_client(ctx.settings).list()
    for s in sites:
        counters = "public counters" if s["public_counters"] else "no public counters"
        click.echo(f"{s['domain']:<32} {s['timezone']:<24} {counters}")


@site.command("delete")
@click.argument("domain")
@pass_settings
def site_delete(ctx: Context, domain: str) -> None:
    """Delete a site (its events stay in ClickHouse)."""
    with client_errors():
        sites_client(ctx.settings).delete(domain)
    click.echo(f"deleted {domain}")


def _print_site(site: dict[str, Any]) -> None:
    click.echo(json.dumps({k: v for k, v in site.items() if k != "snippet"}, indent=2))
    click.echo("\nPaste into the site's pages:\n  " + site["snippet"])


def _banner(settings: Settings, demo: bool, configured: Settings) -> None:
    """Where to look; the secrets themselves on a terminal only (`make run`), since a
    service's output lands in its logs. `configured`: the settings before the data
    dir's secrets were filled in."""
    url = settings.base_url
    shown = sys.stdout.isatty()
    token = _secret(settings, configured, "admin_token", runtime.TOKEN_FILE, shown)
    lines = [
        f"\nfootfall is running at {url}",
        f"  dashboard: {url}/",
    ]
    if settings.admin_email and settings.admin_password:
        password = _secret(settings, configured, "admin_password", runtime.PASSWORD_FILE, shown)
        lines.append(f"             log in as {settings.admin_email} / {password}")
    lines += [
        f"  events:    POST {url}/api/event",
        f"  counters:  {url}/api/counters?d=DOMAIN",
        f"  API:       {url}/api/docs  (Authorization: Bearer {token})",
        f"  health:    {url}/health  {url}/ready  {url}/metrics\n",
    ]
    if demo:
        lines.append(f"Demo visitors ({DEMO_RATE} events/s) arrive at {url}/sites/{DEMO_SITE}")
    lines += [
        f"Add a site:  {sys.argv[0]} site add example.com --public-counters",
        f"Then paste into its pages:\n  {snippet_tag(url, 'example.com')}",
        "\n(Press CTRL+C to quit)",
    ]
    click.echo("\n".join(lines))
    sys.stdout.flush()


def _secret(settings: Settings, configured: Settings, name: str, file: str, shown: bool) -> str:
    """The secret `name` as the banner prints it: itself when `shown`, else where it is."""
    value = getattr(settings, name)
    if shown:
        return value
    if value == getattr(configured, name):
        return f"<the setting FOOTFALL_{name.upper()}>"
    return f"<kept in {settings.data_dir / file}>"


def _given(**options: Any) -> dict[str, Any]:
    return {k: v for k, v in options.items() if v is not None}


def _require_redis(settings: Settings) -> None:
    if not settings.redis_url:
        raise click.ClickException(
            "set FOOTFALL_REDIS_URL (only `footfall serve` starts its own Redis)"
        )


def _refuse_if_served(settings: Settings) -> None:
    url = runtime.running_server(settings)
    if url and settings.clickhouse.startswith("chdb://"):
        raise click.ClickException(
            f"footfall serve ({url}) owns this data dir; it migrated at start"
        )


@contextlib.contextmanager
def _startup_errors() -> Iterator[None]:
    """Turn the errors a user can cause at startup into one clean line."""
    try:
        yield
    except (OSError, RuntimeError, ValueError, ClickHouseError) as error:
        raise click.ClickException(f"{type(error).__name__}: {error}") from error
