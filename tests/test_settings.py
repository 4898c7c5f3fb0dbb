"""Settings: one table, read from FOOTFALL_* variables and TOML, all documented."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from footfall.settings import SETTINGS, load_settings

README = Path(__file__).parent.parent / "README.md"


def test_defaults_use_the_embedded_stores_under_the_data_dir():
    settings = load_settings(env={})
    assert settings.redis_url == ""
    assert settings.data_dir == Path("./data")
    assert settings.clickhouse == f"chdb://{Path('./data/clickhouse').resolve()}"


def test_environment_variables_override_the_toml_file(tmp_path):
    toml = tmp_path / "footfall.toml"
    toml.write_text('redis_url = "redis://toml:6379/0"\nport = 9000\nvisit_gap = 600\n')
    env = {"FOOTFALL_CONFIG": str(toml), "FOOTFALL_PORT": "9100"}
    settings = load_settings(env=env)
    assert (settings.redis_url, settings.port, settings.visit_gap) == (
        "redis://toml:6379/0",
        9100,
        600,
    )


def test_trusted_proxies_are_parsed_as_networks():
    settings = load_settings(env={"FOOTFALL_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"})
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("127.0.0.1/32"),
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FOOTFALL_PORT": "eighty"}, "port must be a whole number"),
        ({"FOOTFALL_TRUSTED_PROXIES": "not-an-address"}, "trusted_proxies"),
    ],
)
def test_bad_values_are_refused_with_the_settings_name(env, message):
    with pytest.raises(ValueError, match=message):
        load_settings(env=env)


def test_an_unknown_key_in_the_toml_file_is_refused(tmp_path):
    toml = tmp_path / "footfall.toml"
    toml.write_text('redis_uri = "typo"\n')
    with pytest.raises(ValueError, match="unknown setting 'redis_uri'"):
        load_settings(env={}, toml_path=toml)


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_the_readme_documents_every_setting(setting):
    assert f"FOOTFALL_{setting.name.upper()}" in README.read_text()
