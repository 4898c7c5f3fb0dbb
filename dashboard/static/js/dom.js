// Building the page's DOM. Everything shown here may come from a tracked page
// (titles, paths, referrers are chosen by whoever sends events), so strings
// always become text nodes: this module never touches innerHTML.

/**
 * el("a", {href: "/x", class: "row"}, "text", otherNode) -> <a class="row" href="/x">text…</a>
 * Attributes named on* are refused: handlers are attached with addEventListener.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) throw new Error(`el(): use addEventListener, not ${name}`);
    node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

export function byId(id) {
  return document.getElementById(id);
}

/** The JSON the server put in <script type="application/json" id="page-data">. */
export function pageData() {
  return JSON.parse(byId("page-data").textContent);
}
