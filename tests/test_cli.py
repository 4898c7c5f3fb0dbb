"""The `footfall` command, run as a user runs it: site management with and without a server."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import redis

from app.redis_server import free_port
from tests.conftest import BROWSER_UA

FOOTFALL = [sys.executable, "-m", "app"]


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    return {**clean, "FOOTFALL_DATA_DIR": str(tmp_path / "data")}


def footfall(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FOOTFALL, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_sites_are_managed_with_no_server_running(env):
    added = footfall(env, "site", "add", "news.example", "--public-counters", "--timezone",
                     "Asia/Ho_Chi_Minh", "--counter-offset", "34231142")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert '"counter_offset": 34231142' in added.stdout
    assert 'src="http://127.0.0.1:8000/snippet.js"' in added.stdout

    listed = footfall(env, "site", "list")
    assert "news.example" in listed.stdout
    assert "Asia/Ho_Chi_Minh" in listed.stdout

    again = footfall(env, "site", "add", "news.example")
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_a_bad_site_is_refused_with_the_field_named(env):
    result = footfall(env, "site", "add", "news.example", "--timezone", "Mars/Base")
    assert result.returncode == 1
    assert "unknown timezone" in result.stderr and "(timezone)" in result.stderr


def start_serve(
    env: dict[str, str], *options: str, stdout: int = subprocess.PIPE
) -> tuple[str, subprocess.Popen[str]]:
    """`footfall serve` in its own process, on the embedded default, once it is ready;
    its output to a pipe, unless `stdout` is another file descriptor (with stderr)."""
    port = free_port()
    process = subprocess.Popen(
        [*FOOTFALL, "serve", "--port", str(port), *options],
        env=env,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/ready", timeout=1) as response:
                if response.status == 200:
                    return url, process
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"footfall serve did not start: {process.stdout and process.stdout.read()}")


@pytest.fixture
def server(env):
    url, process = start_serve(env)
    yield url, process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(30)


def test_the_cli_works_while_serve_owns_the_data_dir(env, server):
    url, _ = server
    added = footfall(env, "site", "add", "live.example")
    assert added.returncode == 0, added.stderr
    assert f'src="{url}/snippet.js"' in added.stdout  # the answer came from the running server

    event = urllib.request.Request(
        url + "/api/event",
        data=json.dumps({"n": "pageview", "u": "https://live.example/a.html"}).encode(),
        headers={"User-Agent": BROWSER_UA, "Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(event, timeout=5) as response:
        assert response.status == 202

    assert "live.example" in footfall(env, "site", "list").stdout


def test_serve_prints_where_to_look_and_stops_cleanly(env, server):
    url, process = server
    data_dir = Path(env["FOOTFALL_DATA_DIR"])
    assert (data_dir / "server.json").exists()
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"footfall is running at {url}" in output
    assert "<script defer" in output
    assert not (data_dir / "server.json").exists()


def test_the_data_dir_and_every_file_in_it_are_the_service_users_alone(env, server):
    footfall(env, "site", "add", "private.example")  # through the server: chdb writes parts
    data_dir = Path(env["FOOTFALL_DATA_DIR"])
    shared = [
        f"{path} {oct(path.stat().st_mode & 0o777)}"
        for path in [data_dir, *data_dir.rglob("*")]
        if not path.is_symlink() and path.stat().st_mode & 0o077
    ]
    assert shared == []
    names = {path.name for path in data_dir.iterdir()}
    assert {"server.json", "admin-token", "redis-password", "redis", "clickhouse"} <= names
    assert any((data_dir / "redis").rglob("*.aof"))


def test_the_embedded_redis_refuses_a_local_user_without_its_password(env, server):
    """What another local user could do before: read the port, forge an admin session."""
    info = json.loads((Path(env["FOOTFALL_DATA_DIR"]) / "server.json").read_text())
    url = urllib.parse.urlsplit(info["redis_url"])
    stranger = redis.Redis(host=url.hostname, port=url.port)
    with stranger, pytest.raises(redis.exceptions.AuthenticationError):
        stranger.hset("ff:session:forged", mapping={"email": "admin@localhost"})
    with redis.Redis.from_url(info["redis_url"]) as owner:
        assert owner.ping()
        assert owner.exists("ff:session:forged") == 0


def test_serve_keeps_its_secrets_out_of_output_that_is_not_a_terminal(env, server):
    """Where stdout is a pipe (a service's log), the banner says where the token is kept."""
    _, process = server
    token = (Path(env["FOOTFALL_DATA_DIR"]) / "admin-token").read_text().strip()
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert token not in output
    assert f"(Authorization: Bearer <kept in {env['FOOTFALL_DATA_DIR']}/admin-token>)" in output


def test_serve_names_the_settings_that_hold_its_secrets(env):
    secrets = {"FOOTFALL_ADMIN_TOKEN": "token-from-the-environment",
               "FOOTFALL_ADMIN_EMAIL": "boss@news.example",
               "FOOTFALL_ADMIN_PASSWORD": "password-from-the-environment"}  # fmt: skip
    _, process = start_serve({**env, **secrets})
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert "from-the-environment" not in output
    assert "log in as boss@news.example / <the setting FOOTFALL_ADMIN_PASSWORD>" in output
    assert "(Authorization: Bearer <the setting FOOTFALL_ADMIN_TOKEN>)" in output


def test_serve_shows_its_secrets_on_a_terminal(env):
    """`make run` in a terminal: the token and the login to copy, as they are."""
    terminal, serve_side = pty.openpty()
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(read_all(terminal)))
    reader.start()  # read as it comes: a full terminal would stop the server's writes
    try:
        try:
            _, process = start_serve(env, "--demo", stdout=serve_side)
        finally:
            os.close(serve_side)  # the server has its own
        process.send_signal(signal.SIGINT)
        process.wait(30)
        reader.join(30)
    finally:
        os.close(terminal)
    data_dir = Path(env["FOOTFALL_DATA_DIR"])
    token = (data_dir / "admin-token").read_text().strip()
    password = (data_dir / "admin-password").read_text().strip()
    (output,) = received
    assert f"(Authorization: Bearer {token})" in output
    assert f"log in as admin@localhost / {password}" in output


def read_all(terminal: int) -> str:
    """What a terminal received, once the process writing to it has ended."""
    chunks = []
    for _ in range(10_000):
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # EIO: no writer left
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def test_serve_demo_gives_a_login_and_a_living_demo_site(env):
    """What `make run` starts: an admin to log in as, and visitors arriving at demo.localhost."""
    url, process = start_serve(env, "--demo")
    try:
        token = (Path(env["FOOTFALL_DATA_DIR"]) / "admin-token").read_text().strip()
        stats = f"{url}/api/v1/stats/aggregate?site_id=demo.localhost&period=day&metrics=pageviews"
        pageviews = 0
        deadline = time.monotonic() + 60
        while pageviews == 0 and time.monotonic() < deadline:
            time.sleep(1)
            request = urllib.request.Request(stats, headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    pageviews = json.load(response)["results"]["pageviews"]["value"]
            except urllib.error.HTTPError as e:
                assert e.code == 404  # the demo site is not registered yet
        assert pageviews > 0
        visitors = children(process.pid)
        assert visitors
        password = (Path(env["FOOTFALL_DATA_DIR"]) / "admin-password").read_text().strip()
        assert log_in(url, "admin@localhost", password) == f"{url}/"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert password not in output  # the output is a pipe: it says where the password is
    kept = f"<kept in {env['FOOTFALL_DATA_DIR']}/admin-password>"
    assert f"log in as admin@localhost / {kept}" in output
    assert not [pid for pid in visitors if Path(f"/proc/{pid}").exists()]


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def log_in(url: str, email: str, password: str) -> str:
    """Log in through the form as a browser does; answers where the dashboard sent us."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(f"{url}/login", timeout=10) as response:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode())[1]
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": csrf})
    with opener.open(f"{url}/login", data=form.encode(), timeout=10) as response:
        return response.url


def test_the_settings_table_is_printed(env):
    result = footfall(env, "settings")
    assert "FOOTFALL_REDIS_URL" in result.stdout
    assert "FOOTFALL_TRUSTED_PROXIES" in result.stdout


def test_a_lone_collector_needs_a_redis_url(env):
    result = footfall(env, "collector", "--port", str(free_port()))
    assert result.returncode == 1
    assert "FOOTFALL_REDIS_URL" in result.stderr
