// The time-series chart: one metric over the period's buckets, drawn by uPlot
// (vendored, loaded as a classic script that defines window.uPlot). The x axis
// is the bucket's position, labelled with the bucket's site-local time, so the
// browser's own timezone never shifts a site's hours.

import { formatBucket, formatMetric, t } from "./format.js";

const HEIGHT = 260;
const ACCENT = "#4f46e5";

export class Chart {
  constructor(container) {
    this.container = container;
    this.plot = null;
    // Follow the container's width (phone rotation, window resize).
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(container);
  }

  size() {
    return { width: Math.max(this.container.clientWidth, 200), height: HEIGHT };
  }

  /** Draw `points` ([{date, <metric>}], as /timeseries answers) for `metric`. */
  show(points, metric, interval, seriesLabel) {
    const dates = points.map((p) => p.date);
    const xs = points.map((_, i) => i);
    const ys = points.map((p) => p[metric] ?? null);
    this.plot?.destroy();
    this.container.dataset.points = String(points.length); // read by tests and by people debugging
    this.container.dataset.metric = metric;
    this.plot = new window.uPlot(
      {
        ...this.size(),
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(max, 1) * 1.1] } },
        axes: [
          {
            values: (u, splits) => splits.map((i) => (dates[i] === undefined ? "" : formatBucket(dates[i], interval))),
            grid: { show: false },
            // Whole steps only: a label sits on a bucket, never between two.
            incrs: [1, 2, 3, 4, 6, 7, 12, 14, 24, 30, 60, 90, 180],
          },
          { values: (u, splits) => splits.map((v) => formatMetric(metric, v)), size: 70 },
        ],
        series: [
          { label: t("chart.when"), value: (u, i) => (i === null || dates[i] === undefined ? "" : formatBucket(dates[i], interval)) },
          {
            label: seriesLabel,
            stroke: ACCENT,
            width: 2,
            fill: "rgba(79, 70, 229, 0.12)",
            points: { show: points.length <= 31 },
            value: (u, v) => (v === null ? "–" : formatMetric(metric, v)),
          },
        ],
      },
      [xs, ys],
      this.container,
    );
  }
}
