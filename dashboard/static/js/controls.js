// The controls every stats page shares: the period picker (with a custom
// range) and the filter chips. They show a state and call `onChange(state)`
// with the state a user asked for; the page writes it to the URL and reloads.

import { el, fill } from "./dom.js";
import { countryName, t } from "./format.js";
import { PERIODS, siteToday, withoutFilter } from "./state.js";

export class PeriodPicker {
  constructor(container, timezone, onChange) {
    this.timezone = timezone;
    this.onChange = onChange;
    this.state = null;
    this.select = el(
      "select",
      { id: "period", "aria-label": t("period.label") },
      PERIODS.map((p) => el("option", { value: p }, t(`period.${p}`))),
    );
    this.from = el("input", { type: "date", id: "date-from", "aria-label": t("period.from") });
    this.to = el("input", { type: "date", id: "date-to", "aria-label": t("period.to") });
    this.apply = el("button", { type: "button", id: "date-apply" }, t("period.apply"));
    this.range = el("span", { class: "range", hidden: true }, this.from, "–", this.to, this.apply);
    fill(container, this.select, this.range);

    this.select.addEventListener("change", () => {
      if (this.select.value === "custom") {
        // Nothing to load until both ends are chosen.
        this.range.hidden = false;
        this.from.focus();
        return;
      }
      this.onChange({ ...this.state, period: this.select.value, date: "" });
    });
    this.apply.addEventListener("click", () => {
      if (!this.from.value || !this.to.value) return;
      const [a, b] = [this.from.value, this.to.value].sort();
      this.onChange({ ...this.state, period: "custom", date: `${a},${b}` });
    });
  }

  show(state) {
    this.state = state;
    this.select.value = state.period;
    this.range.hidden = state.period !== "custom";
    const today = siteToday(this.timezone);
    this.from.max = today;
    this.to.max = today;
    if (state.period === "custom") [this.from.value, this.to.value] = state.date.split(",");
  }
}

/** The name of a filter's dimension ("visit:source" -> "Source"). */
function dimension(key) {
  return t(`property.${key}`);
}

export function showFilters(container, state, onChange) {
  container.hidden = state.filters.length === 0;
  fill(
    container,
    state.filters.map((filter) => {
      const value = filter.key === "visit:country" ? countryName(filter.value) : filter.value;
      const remove = el("button", { type: "button", class: "remove", "aria-label": t("filters.remove") }, "×");
      remove.addEventListener("click", () => onChange(withoutFilter(state, filter.key)));
      return el(
        "span",
        { class: "chip", "data-key": filter.key },
        el("span", { class: "dim" }, dimension(filter.key)),
        filter.op === "!=" ? ` ${t("filters.is_not")} ` : ` ${t("filters.is")} `,
        el("b", {}, value),
        remove,
      );
    }),
  );
}
