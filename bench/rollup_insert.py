"""What the rollups' materialized views cost an insert: the same batches into schemas up to
each migration, each in a process of its own on a fresh chdb folder.

    .venv/bin/python bench/rollup_insert.py [--versions 6,7,8] [--batches 40]
        [--batch-pageviews 1000] [--rounds 3]

Each measurement applies the migrations up to one version to an empty chdb folder,
then inserts `--batches` batches of `--batch-pageviews` page views and as many
engagement events (bench/dashboard_data.py's generator: a year of a news site's
traffic, so every view sees realistic sources, pages and visits), one `INSERT ...
SELECT` each, copied from a table generated beforehand (so that the batch's insert is
all that is timed), with the aggregator's settings (a deduplication token per batch,
`deduplicate_blocks_in_dependent_materialized_views`), and reports the median insert
time per batch. Rounds alternate the order of the versions, so that a busy moment of
this shared machine does not land on one version only. Schema 0 is `events` alone,
without any view: the views' share is the difference.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import clickhouse_connect

# Run as a script from bench/, where bench/aggregator.py would shadow the package.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dashboard_data  # noqa: E402

from aggregator.schema import migrations  # noqa: E402


def measure(version: int, batches: int, pageviews: int) -> list[float]:
    """Run in a child process: seconds per batch insert into the schema up to `version`."""
    with tempfile.TemporaryDirectory(prefix="ff-rollup-insert-") as folder:
        client = clickhouse_connect.get_client(dsn=f"chdb://{folder}")
        for migration in migrations():
            # Version 0: the generator alone, into `events` without any view.
            if migration.version <= version or (version == 0 and migration.name == "events"):
                for statement in migration.statements:
                    client.command(statement)
        # The batches' rows, generated once into a table without views: a batch's insert
        # is then a plain copy of 2 x `pageviews` rows, through every view of `events`.
        client.command("CREATE TABLE staging AS events ENGINE = MergeTree ORDER BY tuple()")
        client.command(
            dashboard_data.FILL.replace("INSERT INTO events", "INSERT INTO staging", 1),
            parameters={
                "site": dashboard_data.SITE,
                "timezone": dashboard_data.TIMEZONE,
                "end": dashboard_data.END.replace(tzinfo=None),
                "visits": int(batches * pageviews / 2.2 * 1.05) + 1000,
                "hours": dashboard_data.HOURS,
                "pageviews": batches * pageviews,
            },
        )
        client.command("OPTIMIZE TABLE staging FINAL")
        times = []
        for n in range(batches):
            settings = {
                "insert_deduplication_token": f"batch-{n}",
                "deduplicate_blocks_in_dependent_materialized_views": 1,
            }
            started = time.perf_counter()
            client.command(
                "INSERT INTO events SELECT * FROM staging "
                "LIMIT {size:UInt64} OFFSET {start:UInt64}",
                parameters={"size": 2 * pageviews, "start": 2 * pageviews * n},
                settings=settings,
            )
            times.append(time.perf_counter() - started)
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", default="6,7,8", help="comma-separated; 0: no views")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-pageviews", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.batches, args.batch_pageviews)))
        return
    versions = [0, *(int(v) for v in args.versions.split(","))]
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    medians: dict[int, list[float]] = {v: [] for v in versions}
    for round_ in range(args.rounds):
        for version in versions if round_ % 2 == 0 else versions[::-1]:
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(version),
                 "--batches", str(args.batches), "--batch-pageviews", str(args.batch_pageviews)],
                check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            times = json.loads(out.strip().splitlines()[-1])[1:]  # the first warms up
            medians[version].append(1000 * statistics.median(times))
            print(f"round {round_ + 1} schema {version}: {medians[version][-1]:.1f} ms/batch")
    print(f"\n{args.batch_pageviews:,} page views + as many engagements per batch, "
          "median ms per batch (median over rounds, min-max)")  # fmt: skip
    print("| schema up to | ms/batch | min-max | vs previous |")
    print("|---|---|---|---|")
    previous = None
    for version in versions:
        median = statistics.median(medians[version])
        name = "events, no views" if version == 0 else f"{version:04d}"
        delta = f"{median - previous:+.1f}" if previous is not None else ""
        print(f"| {name} | {median:.1f} | {min(medians[version]):.1f}-"
              f"{max(medians[version]):.1f} | {delta} |")  # fmt: skip
        previous = median
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
