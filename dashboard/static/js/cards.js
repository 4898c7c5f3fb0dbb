// The metric cards: one number per metric with its change against the
// previous period. A card is a button: choosing it puts its metric on the chart.

import { el, fill } from "./dom.js";
import { formatChange, formatMetric, t } from "./format.js";

// For these, going down is the good direction (colours follow).
const LOWER_IS_BETTER = new Set(["bounce_rate"]);

export function showCards(container, metrics, results, selected, onSelect) {
  fill(
    container,
    metrics.map((metric) => {
      const { value = null, change = null } = results?.[metric] ?? {};
      let trend = "flat";
      if (change > 0) trend = LOWER_IS_BETTER.has(metric) ? "bad" : "good";
      if (change < 0) trend = LOWER_IS_BETTER.has(metric) ? "good" : "bad";
      const card = el(
        "button",
        { type: "button", class: "card", "data-metric": metric, "aria-pressed": metric === selected ? "true" : "false" },
        el("span", { class: "name" }, t(`metric.${metric}`)),
        el("span", { class: "value" }, formatMetric(metric, value)),
        el("span", { class: `change ${trend}` }, formatChange(change)),
      );
      card.addEventListener("click", () => onSelect(metric));
      return card;
    }),
  );
}
