// "Online now": the site's live visitor count (the public counter's number),
// polled from /realtime/visitors so it moves by itself.

import { stats } from "./api.js";
import { formatInteger } from "./format.js";

const EVERY_MS = 5000;

export function pollOnline(element, domain) {
  async function update() {
    try {
      const count = await stats.realtime({ site_id: domain });
      element.textContent = formatInteger(count);
      element.dataset.count = String(count);
    } catch {
      // A missed poll keeps the last number; the next one retries.
    }
  }
  update();
  // Paused while the tab is hidden: nobody reads it, and it costs the server.
  let timer = setInterval(update, EVERY_MS);
  document.addEventListener("visibilitychange", () => {
    clearInterval(timer);
    if (!document.hidden) {
      update();
      timer = setInterval(update, EVERY_MS);
    }
  });
}
