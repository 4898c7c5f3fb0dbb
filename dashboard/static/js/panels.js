// The breakdown panels of a stats page: rows of one property (pages, sources,
// countries…) with their visitors, a bar for scale, a CSV link. A panel may
// have tabs (top / entry / exit pages). Clicking a row calls `onPick` with the
// property and the row's value: the page filters itself by it.

import { stats } from "./api.js";
import { el, fill } from "./dom.js";
import { countryName, formatInteger, t } from "./format.js";

const LIMIT = 10;

/** property -> the key of its value in a breakdown row ("visit:utm_campaign" -> "utm_campaign"). */
export function rowKey(property) {
  return property.split(":")[1];
}

/** What a row shows for its value: countries by name, empty values as "(none)". */
function label(property, value) {
  if (value === "" || value === null || value === undefined) {
    return property === "visit:source" ? t("common.direct") : t("common.none");
  }
  if (property === "visit:country") return countryName(value);
  return value;
}

export class Panel {
  /** tabs: [{property, label}], the first shown first. */
  constructor(container, title, tabs, onPick) {
    this.tabs = tabs;
    this.active = tabs[0];
    this.onPick = onPick;
    this.params = null;
    this.tabBar = el("div", { class: "tabs", role: "tablist" });
    this.csv = el("a", { class: "csv", download: "" }, t("common.csv"));
    this.body = el("div", { class: "rows" });
    container.dataset.property = this.active.property;
    this.container = container;
    fill(container, el("header", {}, el("h2", {}, title), this.tabBar, this.csv), this.body);
    this.renderTabs();
  }

  renderTabs() {
    if (this.tabs.length < 2) return fill(this.tabBar);
    fill(
      this.tabBar,
      this.tabs.map((tab) => {
        const button = el(
          "button",
          { type: "button", role: "tab", "aria-selected": tab === this.active ? "true" : "false" },
          tab.label,
        );
        button.addEventListener("click", () => {
          this.active = tab;
          this.container.dataset.property = tab.property;
          this.renderTabs();
          this.load(this.params);
        });
        return button;
      }),
    );
  }

  /** Fetch and show the active tab for these Stats API params (site_id, period…). */
  async load(params) {
    this.params = params;
    const property = this.active.property;
    const query = { ...params, property, metrics: "visitors", limit: LIMIT };
    this.csv.href = stats.csvUrl("breakdown", { ...query, limit: 1000 });
    this.body.setAttribute("aria-busy", "true");
    try {
      const answer = await stats.breakdown(query);
      if (this.params !== params || this.active.property !== property) return; // a newer load won
      this.show(property, answer.results);
    } catch (error) {
      fill(this.body, el("p", { class: "error" }, error.message));
    } finally {
      this.body.removeAttribute("aria-busy");
    }
  }

  show(property, results) {
    showRows(this.body, property, results, this.onPick);
  }
}

/** Rows of a breakdown (`results` as the API answers) in `body`; a click calls onPick. */
export function showRows(body, property, results, onPick) {
  if (!results.length) return fill(body, el("p", { class: "empty" }, t("common.no_data")));
  const key = rowKey(property);
  const top = Math.max(...results.map((r) => r.visitors), 1);
  fill(
    body,
    results.map((row) => {
      const value = row[key];
      const bar = el("span", { class: "bar" });
      // Through CSSOM, not a style attribute: the page's CSP allows no inline styles.
      bar.style.width = `${(100 * row.visitors) / top}%`;
      const button = el(
        "button",
        { type: "button", class: "row", "data-value": value ?? "", title: t("common.filter_by") },
        bar,
        el("span", { class: "label" }, label(property, value)),
        el("span", { class: "num" }, formatInteger(row.visitors)),
      );
      button.addEventListener("click", () => onPick(property, value ?? ""));
      return button;
    }),
  );
}
