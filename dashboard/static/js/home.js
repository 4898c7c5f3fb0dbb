// The sites list: each site's visitors today and online now, fetched per site
// so a slow site does not hold up the others.

import { stats } from "./api.js";
import { formatInteger } from "./format.js";

for (const card of document.querySelectorAll(".site-card[data-domain]")) {
  const domain = card.dataset.domain;
  stats
    .aggregate({ site_id: domain, period: "day", metrics: "visitors" })
    .then((answer) => {
      card.querySelector(".visitors").textContent = formatInteger(answer.results.visitors.value);
    })
    .catch(() => {});
  stats
    .realtime({ site_id: domain })
    .then((count) => {
      card.querySelector(".online").textContent = formatInteger(count);
    })
    .catch(() => {});
}
