"""A Prometheus histogram for code that runs on the event loop: a bisect and two additions.

prometheus_client's `Histogram.observe` takes a lock per bucket touched and per
sum (about 2 µs here, twice that on a loaded machine); the request middleware
observes every request, and the collector answers thousands a second per core.
Everything that observes or collects this histogram runs on one thread (the
event loop; /metrics is served there too), so it needs no lock: observing is a
dict lookup, a bisect and two additions (about 0.3 µs). It is exposed as an
ordinary histogram (`_bucket`, `_sum`, `_count`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString


class LoopHistogram(Collector):
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ):
        self._name = name
        self._documentation = documentation
        self._labelnames = list(labelnames)
        self._bounds = tuple(sorted(float(b) for b in buckets))
        self._les = [floatToGoString(b) for b in self._bounds] + ["+Inf"]
        # label values -> [count per bucket (the last one: above every bound), sum]
        self._series: dict[tuple[str, ...], list] = {}
        registry.register(self)

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = [[0] * len(self._les), 0.0]
        series[0][bisect_left(self._bounds, value)] += 1
        series[1] += value

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)
        for labels, (counts, total) in list(self._series.items()):
            cumulative, buckets = 0, []
            for le, count in zip(self._les, counts, strict=True):
                cumulative += count
                buckets.append((le, cumulative))
            family.add_metric(list(labels), buckets, total)
        yield family

    def describe(self) -> Iterator[Metric]:
        yield HistogramMetricFamily(self._name, self._documentation, labels=self._labelnames)
