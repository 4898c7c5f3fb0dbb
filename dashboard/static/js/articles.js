// The top-articles table of a site page: page views, visitors, readers now and
// engaged time per article (footfall's /api/v1/stats/articles), each title a
// link to the article's own page. The endpoint ranks a site's articles over a
// period and takes no filters, so the table ignores the page's filters.

import { stats } from "./api.js";
import { el, fill } from "./dom.js";
import { formatDuration, formatInteger, t } from "./format.js";

const LIMIT = 10;

export class ArticlesTable {
  constructor(container, domain) {
    this.domain = domain;
    this.csv = el("a", { class: "csv", download: "" }, t("common.csv"));
    this.body = el("div", { class: "table-wrap" });
    fill(container, el("header", {}, el("h2", {}, t("panels.articles")), this.csv), this.body);
  }

  /** params: the Stats API's; query: the page's own "?period=…" kept on the links. */
  async load(params, query) {
    this.params = params;
    const request = { site_id: params.site_id, period: params.period, date: params.date, sort: "pageviews", limit: LIMIT };
    this.csv.href = stats.csvUrl("articles", { ...request, limit: 1000 });
    try {
      const answer = await stats.articles(request);
      if (this.params !== params) return;
      this.show(answer.results, query);
    } catch (error) {
      fill(this.body, el("p", { class: "error" }, error.message));
    }
  }

  show(results, query) {
    if (!results.length) return fill(this.body, el("p", { class: "empty" }, t("common.no_data")));
    const head = el(
      "tr",
      {},
      el("th", {}, t("articles.title")),
      ["pageviews", "visitors", "readers", "engaged_time"].map((m) => el("th", { class: "num" }, t(`metric.${m}`))),
    );
    const rows = results.map((a) => {
      const href = `/sites/${encodeURIComponent(this.domain)}/articles/${encodeURIComponent(a.article_id)}${query}`;
      return el(
        "tr",
        { "data-article": a.article_id },
        el("td", { class: "title" }, el("a", { href }, a.title || a.article_id)),
        el("td", { class: "num" }, formatInteger(a.pageviews)),
        el("td", { class: "num" }, formatInteger(a.visitors)),
        el("td", { class: "num" }, formatInteger(a.readers)),
        el("td", { class: "num" }, formatDuration(a.engaged_time)),
      );
    });
    fill(this.body, el("table", {}, el("thead", {}, head), el("tbody", {}, rows)));
  }
}
