// Vigil's dashboard: reads GET /api/v1/overview every few seconds with a bearer token (and the
// last answer's ETag) and draws nodes (problems first), services and replicas, incidents and
// the latest actions, touching only the rows whose data changed.
//
// Everything that comes from the API (names, reasons, summaries, log text) is user-controlled:
// it reaches the page only as text nodes (textContent / append of strings) or as SVG numbers,
// never as markup (no HTML-parsing sink is used; tests/web checks that). The page's
// Content-Security-Policy forbids inline script too (script-src 'self').

const REFRESH_MS = 3000;
const TOKEN_KEY = "vigil.token";
const TIMELINE_MINUTES = 30; // the incident timeline shows at most the last half hour
const RATE_POINTS = 40; // request-rate sparkline: the last 40 refreshes (two minutes)
const SVG_NS = "http://www.w3.org/2000/svg";

const SKEW_TOLERATED = 2; // s: the controller's Date header has 1 s resolution

let skew = 0; // s to add to this browser's clock to read the controller's
const rates = new Map(); // replica id -> {last: [at, requests], points: [req/s...]}
let timer = null;

class AuthNeeded extends Error {}

// A token fetch cannot put in a header (a character past U+00FF, or a control character): it
// threw a TypeError, and the page retried for ever with neither the form nor 'forget' shown.
class TokenUnsendable extends AuthNeeded {}

function unsendable(value) {
  const chars = Array.from(value);
  const at = chars.findIndex((c) => c.codePointAt(0) > 0xff || /[\x00-\x1f\x7f]/.test(c));
  return at < 0 ? null : `it holds '${chars[at]}' (character ${at + 1})`;
}

// --- DOM helpers: text only ------------------------------------------------------------------

function el(tag, cls, ...children) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  for (const child of children) {
    node.append(child instanceof Node ? child : String(child ?? ""));
  }
  return node;
}

function td(value, cls = "") {
  return el("td", cls, value === null || value === undefined || value === "" ? "—" : value);
}

// A state word as a class, only when it is a plain word (the CSS colours known ones).
function stateClass(value) {
  return typeof value === "string" && /^[a-z_]{1,24}$/.test(value) ? value : "";
}

function stateCell(value) {
  return td(value, stateClass(value));
}

function emptyRow(tbody, columns, text) {
  const cell = el("td", "empty", text);
  cell.colSpan = columns;
  tbody.replaceChildren(el("tr", "", cell));
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

// --- formatting ------------------------------------------------------------------------------

// The time of day, with the date when it is not today: an incident an alert reported as started
// months ago read "detected 00:00:00" next to "opened 15:35:16", as if the same morning.
function clock(at) {
  if (at === null || at === undefined) return "";
  const when = new Date(at * 1000);
  const time = when.toLocaleTimeString([], { hour12: false });
  if (when.toDateString() === new Date(serverNow() * 1000).toDateString()) return time;
  const pad = (n) => String(n).padStart(2, "0");
  return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ${time}`;
}

function ago(at, now) {
  if (at === null || at === undefined) return "never";
  const s = Math.max(0, now - at);
  if (s < 90) return `${s.toFixed(1)} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

// --- the token -------------------------------------------------------------------------------

function takeTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!match) return;
  try {
    localStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
  } catch (err) {
    localStorage.setItem(TOKEN_KEY, match[1]);
  }
  // drop it from the address bar (and from the history a screenshot or a share would show)
  history.replaceState(null, "", location.pathname + location.search);
}

function token() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

// Times come from the controller's clock; "12 s ago" must not depend on this browser's. A
// clock more than SKEW_TOLERATED off is corrected by the controller's Date header.
function noteServerClock(header) {
  const at = Date.parse(header || "");
  if (Number.isNaN(at)) return;
  const off = at / 1000 + 0.5 - Date.now() / 1000;
  skew = Math.abs(off) > SKEW_TOLERATED ? off : 0;
}

function serverNow() {
  return Date.now() / 1000 + skew;
}

const NOT_MODIFIED = Symbol("304");

async function api(path, extra = {}) {
  const headers = { Accept: "application/json", ...extra };
  const bad = unsendable(token());
  if (bad) throw new TokenUnsendable(bad);
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch(path, { headers, cache: "no-store" });
  noteServerClock(response.headers.get("Date"));
  if (response.status === 304) return NOT_MODIFIED;
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  const detail = body && typeof body.detail === "string" ? body.detail : response.statusText;
  if (response.status === 401) throw new AuthNeeded(detail);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${detail}`);
  return { body, tag: response.headers.get("ETag") };
}

// --- keyed rows: a refresh touches only what changed ----------------------------------------

// Each tbody keeps its rows by key with the data they were drawn from; a row whose data is the
// same is kept as it is (not rebuilt, not moved unless the order changed), so an unchanged
// fleet redraws nothing (at 1,000 nodes a rebuild of every row cost the page most of a refresh).
const drawn = new WeakMap(); // tbody -> Map(key -> {sig, tr})

function syncRows(tbody, items, key, build) {
  const before = drawn.get(tbody) || new Map();
  const after = new Map();
  const rows = items.map((item) => {
    const k = key(item);
    const sig = JSON.stringify(item);
    const old = before.get(k);
    const tr = old && old.sig === sig ? old.tr : build(item);
    after.set(k, { sig, tr });
    return tr;
  });
  drawn.set(tbody, after);
  const same = rows.length === tbody.children.length && rows.every((tr, i) => tbody.children[i] === tr);
  if (!same) tbody.replaceChildren(...rows);
}

function emptyRows(tbody, columns, text) {
  drawn.delete(tbody);
  if (tbody.children.length === 1 && tbody.textContent === text) return;
  emptyRow(tbody, columns, text);
}

// "12 s ago" moves with the clock: only the text of those cells is updated between data changes
function agoCell(at) {
  const cell = td(ago(at, serverNow()));
  cell.className = "ago";
  cell.dataset.at = at === null || at === undefined ? "" : String(at);
  return cell;
}

function updateAges(now) {
  for (const cell of document.querySelectorAll("td.ago")) {
    const at = cell.dataset.at === "" ? null : Number(cell.dataset.at);
    const text = ago(at, now);
    if (cell.textContent !== text) cell.textContent = text;
  }
}

// --- sections --------------------------------------------------------------------------------

const SMALL_FLEET = 50; // nodes: a fleet this small is listed whole; above, problems first
const NODE_PAGE = 100; // rows per page when every node is asked for
const view = { allNodes: false, offset: 0 };

function nodeRow(n) {
  return el(
    "tr",
    "",
    td(n.name),
    stateCell(n.status),
    agoCell(n.last_heartbeat),
    td(n.cpu, "num"),
    td(n.mem, "num"),
    td(n.gpu, "num"),
  );
}

function setText(id, text) {
  const node = document.getElementById(id);
  if (node.textContent !== text) node.textContent = text;
}

function renderNodes(nodes) {
  const tbody = document.querySelector("#nodes tbody");
  const c = nodes.counts;
  const fleet = Object.values(c).reduce((a, b) => a + b, 0);
  const listed = `${fleet} nodes: ${c.down} down, ${c.suspect} suspect, ${c.up} up, ${c.unknown} unknown`;
  const shown = nodes.rows.length;
  const rest = nodes.total - nodes.offset - shown;
  let more = "";
  if (!view.allNodes && fleet > shown) more = `; ${fleet - shown} more not listed (no problem)`;
  else if (view.allNodes) more = `; rows ${nodes.offset + 1}–${nodes.offset + shown} of ${nodes.total}`;
  setText("nodes-count", listed + more);
  document.getElementById("nodes-all").hidden = view.allNodes || fleet <= SMALL_FLEET;
  document.getElementById("nodes-problems").hidden = !view.allNodes || fleet <= SMALL_FLEET;
  document.getElementById("nodes-prev").hidden = !view.allNodes || nodes.offset === 0;
  document.getElementById("nodes-next").hidden = !view.allNodes || rest <= 0;
  if (!fleet) return emptyRows(tbody, 6, "no nodes configured");
  if (!shown) return emptyRows(tbody, 6, "no node is down or suspect");
  syncRows(tbody, nodes.rows, (n) => n.name, nodeRow);
}

function trackRate(id, requests, at) {
  let entry = rates.get(id);
  if (!entry) {
    entry = { last: null, points: [] };
    rates.set(id, entry);
  }
  if (entry.last && at > entry.last[0] && requests >= entry.last[1]) {
    entry.points.push((requests - entry.last[1]) / (at - entry.last[0]));
    if (entry.points.length > RATE_POINTS) entry.points.shift();
  }
  entry.last = [at, requests];
  return entry.points;
}

function sparkline(points) {
  const width = 120;
  const height = 24;
  const box = svg("svg", { class: "spark", width, height, viewBox: `0 0 ${width} ${height}` });
  if (points.length < 2) return box;
  const top = Math.max(...points, 1);
  const step = width / (RATE_POINTS - 1);
  const start = width - (points.length - 1) * step;
  const coords = points.map(
    (v, i) => `${(start + i * step).toFixed(1)},${(height - 1 - (v / top) * (height - 3)).toFixed(1)}`,
  );
  box.append(svg("polyline", { points: coords.join(" "), fill: "none", stroke: "#0969da" }));
  const title = svg("title", {});
  title.textContent = `requests/s, last ${points.length} readings; now ${points[points.length - 1].toFixed(1)}`;
  box.append(title);
  return box;
}

function replicaRow(r) {
  const balanced = r.balancer_state !== null;
  const points = balanced ? rates.get(r.id)?.points || [] : [];
  return el(
    "tr",
    "",
    td(r.id),
    td(r.node),
    stateCell(r.state),
    td(r.pid, "num"),
    stateCell(r.live),
    stateCell(r.ready),
    td(r.restarts, "num"),
    balanced ? stateCell(r.eligible === false && r.balancer_state === "ready" ? "ejected" : r.balancer_state) : td(""),
    td(balanced ? r.weight : "", "num"),
    td(balanced ? `${(r.share * 100).toFixed(0)} %` : "", "num"),
    balanced ? rateCell(points) : td(""),
  );
}

// The rate now as a figure, then its sparkline: the line alone gave no number to read.
function rateCell(points) {
  const now = points.length ? points[points.length - 1].toFixed(1) : "";
  const cell = el("td", "num", el("span", "rate", now), sparkline(points));
  cell.dataset.sig = points.join();
  return cell;
}

// A rate moves at every refresh, busy or idle: its cell is redrawn in place, its row kept.
function updateRates(tbody, replicas) {
  const rows = drawn.get(tbody);
  for (const r of replicas) {
    const cell = r.balancer_state === null ? null : rows?.get(r.id)?.tr.lastElementChild;
    const points = rates.get(r.id)?.points || [];
    if (cell && cell.dataset.sig !== points.join()) cell.replaceWith(rateCell(points));
  }
}

const REPLICA_HEAD = ["replica", "node", "state", "pid", "live", "ready", "restarts", "balancer",
  "weight", "share", "requests/s"];

function serviceBlock(name) {
  const head = el("h3", "");
  const note = el("p", "more");
  const tbody = el("tbody", "");
  const table = el(
    "table",
    "replicas",
    el("thead", "", el("tr", "", ...REPLICA_HEAD.map((h) => el("th", "", h)))),
    tbody,
  );
  const box = el("div", "service", head, table, note);
  box.dataset.service = name;
  return { box, head, note, tbody };
}

const blocks = new Map(); // service name -> its block

function renderServices(services, changed) {
  const box = document.getElementById("services");
  if (!services.length) {
    blocks.clear();
    if (box.textContent !== "no services configured") {
      box.replaceChildren(el("p", "empty", "no services configured"));
    }
    return;
  }
  const at = performance.now() / 1000;
  const order = services.map((service) => {
    let block = blocks.get(service.name);
    if (!block) {
      block = serviceBlock(service.name);
      blocks.set(service.name, block);
    }
    if (changed) {
      for (const r of service.replicas) if (r.requests !== null) trackRate(r.id, r.requests, at);
    }
    const policy = service.balancer ? `, balancer ${service.balancer}` : "";
    const problems = service.problems ? `, ${service.problems} with a problem` : "";
    block.head.textContent =
      `${service.name}: ${service.ready}/${service.desired ?? service.replicas_total} ready${problems}${policy}`;
    const hidden = service.replicas_total - service.replicas.length;
    block.note.textContent = hidden > 0 ? `${hidden} more replicas, all serving, not listed` : "";
    block.note.hidden = hidden <= 0;
    syncRows(block.tbody, service.replicas, (r) => r.id, replicaRow);
    updateRates(block.tbody, service.replicas);
    return block.box;
  });
  for (const name of blocks.keys()) {
    if (!services.some((s) => s.name === name)) blocks.delete(name);
  }
  const same = order.length === box.children.length && order.every((b, i) => box.children[i] === b);
  if (!same) box.replaceChildren(...order);
}

function incidentRow(i) {
  return el(
    "tr",
    "",
    td(i.id, "num"),
    td(i.subject),
    td(i.kind),
    stateCell(i.severity),
    stateCell(i.state),
    td(clock(i.opened_at)),
    td(clock(i.detected_at)),
    td(clock(i.first_action_at)),
    td(i.resolved_at ? `${clock(i.resolved_at)} (${i.time_to_recover?.toFixed(1) ?? "?"} s)` : ""),
    td(i.summary, "wrap"),
  );
}

function renderIncidents(selector, items, none) {
  const tbody = document.querySelector(`${selector} tbody`);
  if (!items.length) return emptyRows(tbody, 10, none);
  syncRows(tbody, items, (i) => i.id, incidentRow);
}

function renderTimeline(items, now) {
  const limit = now - TIMELINE_MINUTES * 60;
  const shown = items.filter((i) => (i.resolved_at ?? now) >= limit).slice(0, 12).reverse();
  // the window fits the incidents shown: from 2 min to TIMELINE_MINUTES
  const oldest = Math.min(now, ...shown.map((i) => i.detected_at));
  const span = Math.min(TIMELINE_MINUTES * 60, Math.max(120, (now - oldest) * 1.15));
  const from = now - span;
  const minutes = Math.round(span / 60);
  document.getElementById("timeline-span").textContent =
    `(last ${minutes} min; a bar runs from detection to recovery, a tick marks the first action)`;
  const width = 900;
  const label = 160;
  const row = 18;
  const height = Math.max(1, shown.length) * row + 20;
  const x = (at) => label + ((Math.max(at, from) - from) / (now - from)) * (width - label - 10);
  const box = svg("svg", { class: "timeline", viewBox: `0 0 ${width} ${height}`, role: "img" });
  const axis = height - 14;
  box.append(svg("line", { class: "axis", x1: label, x2: width - 10, y1: axis, y2: axis }));
  for (const [at, text] of [[from, `-${minutes} min`], [now, "now"]]) {
    const t = svg("text", { x: x(at), y: height - 2, "text-anchor": at === now ? "end" : "start" });
    t.textContent = text;
    box.append(t);
  }
  if (!shown.length) {
    const t = svg("text", { x: label, y: 14 });
    t.textContent = "no incidents in this window";
    box.append(t);
  }
  shown.forEach((i, n) => {
    const y = n * row + 2;
    const name = svg("text", { x: 0, y: y + 12 });
    name.textContent = `#${i.id} ${i.subject}`.slice(0, 26);
    const start = x(i.detected_at);
    const end = Math.max(x(i.resolved_at ?? now), start + 2);
    const bar = svg("rect", {
      class: `bar ${stateClass(i.state)}`,
      x: start,
      y: y + 2,
      width: end - start,
      height: row - 6,
    });
    const title = svg("title", {});
    title.textContent = `#${i.id} ${i.subject} ${i.kind} (${i.state}): ${i.summary}`;
    bar.append(title);
    box.append(name, bar);
    if (i.first_action_at) {
      const ax = x(i.first_action_at);
      box.append(svg("line", { class: "acted", x1: ax, x2: ax, y1: y, y2: y + row - 2 }));
    }
  });
  document.getElementById("timeline").replaceChildren(box);
}

// A healing guard's verdict (remediation/_policy.py Verdict): the held-back ones are recorded
// as "restart.<verdict>" with the detail "not done: <verdict>"; an automatic restart or kill
// that ran was allowed. Operators' commands pass no guard: no verdict.
const AUTOPILOT = "vigil"; // remediation/_actions.py AUTOPILOT: the actor of automatic actions

function decision(a) {
  const match = /^not done: ([a-z_]+)/.exec(a.detail || "");
  if (match) return match[1];
  const suffix = /\.(deferred|suppressed|dry_run|refused)$/.exec(a.kind);
  if (suffix) return suffix[1];
  return a.actor === AUTOPILOT && /^(restart|kill)$/.test(a.kind) ? "allowed" : "";
}

function actionRow(a) {
  const result = a.ok === null ? "running" : a.ok ? "ok" : "failed";
  const said = a.detail && !a.detail.startsWith("not done:") ? `${result}: ${a.detail}` : result;
  return el(
    "tr",
    "",
    td(clock(a.started_at)),
    td(a.actor),
    td(a.kind),
    td(a.subject),
    stateCell(decision(a)),
    td(a.reason, "wrap"),
    td(said, `wrap ${a.ok === false ? "failed" : ""}`),
  );
}

function renderActions(items) {
  const tbody = document.querySelector("#actions tbody");
  if (!items.length) return emptyRows(tbody, 7, "no actions yet");
  syncRows(tbody, items, (a) => a.id, actionRow);
}

// --- the loop --------------------------------------------------------------------------------

function showLogin(err) {
  document.getElementById("main").hidden = true;
  document.getElementById("login").hidden = false;
  // a stale token must be removable here too (an open API reads without one)
  document.getElementById("forget").hidden = !token();
  let why = `The API needs a token: ${err.message}`;
  if (err instanceof TokenUnsendable) {
    why = `The token kept in this browser cannot be sent: ${err.message}; paste it again`;
  } else if (token()) {
    why = `The API refused the token kept in this browser: ${err.message}`;
  }
  document.getElementById("login-why").textContent = why;
  setStatus("not signed in", true);
}

function setStatus(text, bad = false) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = bad ? "status error" : "status";
}

// The one request a refresh makes: GET /api/v1/overview, bounded whatever the fleet's size,
// with the ETag of the last answer: an unchanged fleet answers 304 with no body, and nothing
// is drawn again (only the "s ago" texts move).
let shownTag = null;
let overview = null;
let timelineDrawn = 0; // when the timeline was last drawn (its axis ends at "now")

function overviewPath() {
  const all = view.allNodes || (overview !== null && sum(overview.nodes.counts) <= SMALL_FLEET);
  const params = all ? `nodes=all&node_offset=${view.offset}&node_limit=${NODE_PAGE}` : "nodes=problems";
  return `/api/v1/overview?${params}`;
}

function sum(counts) {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

async function readOverview(path) {
  const headers = shownTag ? { "If-None-Match": shownTag } : {};
  const answer = await api(path, headers);
  if (answer === NOT_MODIFIED) return false;
  overview = answer.body;
  shownTag = answer.tag;
  return true;
}

async function refresh() {
  clearTimeout(timer);
  if (document.hidden) return; // a background tab costs the controller nothing; see start()
  try {
    const path = overviewPath();
    if (path !== refresh.lastPath) shownTag = null; // another view: its own answer
    refresh.lastPath = path;
    let changed = await readOverview(path);
    if (changed && overviewPath() !== path) {
      // a small fleet is listed whole: ask again at once rather than in 3 s
      refresh.lastPath = overviewPath();
      shownTag = null;
      changed = await readOverview(refresh.lastPath);
    }
    const now = serverNow();
    document.getElementById("login").hidden = true;
    document.getElementById("main").hidden = false;
    document.getElementById("forget").hidden = !token();
    if (changed) {
      renderNodes(overview.nodes);
      renderServices(overview.services, true);
      renderIncidents("#incidents-active", overview.incidents_active, "no active incidents");
      renderIncidents("#incidents-recent", overview.incidents_recent, "no incidents yet");
      renderActions(overview.actions);
    } else {
      // 304: no request counted since the last answer, which is a rate of 0 now. Read only on
      // a change, an idle replica's sparkline kept its last busy reading for as long as the
      // fleet stayed quiet
      renderServices(overview.services, true);
    }
    if (changed || now - timelineDrawn >= 30) {
      renderTimeline(overview.incidents_recent, now);
      timelineDrawn = now;
    }
    updateAges(now);
    setStatus(`updated ${clock(now)}, every ${REFRESH_MS / 1000} s`);
  } catch (err) {
    if (err instanceof AuthNeeded) {
      showLogin(err);
      return; // no polling until a token is given
    }
    setStatus(`cannot read the API (retrying): ${err.message}`, true);
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

function showNodes(all, offset) {
  view.allNodes = all;
  view.offset = Math.max(0, offset);
  refresh();
}

function start() {
  takeTokenFromFragment();
  document.getElementById("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("login-token");
    localStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = "";
    refresh();
  });
  document.getElementById("nodes-all").addEventListener("click", () => showNodes(true, 0));
  document.getElementById("nodes-problems").addEventListener("click", () => showNodes(false, 0));
  document.getElementById("nodes-prev").addEventListener("click", () =>
    showNodes(true, view.offset - NODE_PAGE));
  document.getElementById("nodes-next").addEventListener("click", () =>
    showNodes(true, view.offset + NODE_PAGE));
  document.getElementById("forget").addEventListener("click", () => {
    localStorage.removeItem(TOKEN_KEY);
    refresh();
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
  window.addEventListener("hashchange", () => {
    takeTokenFromFragment();
    refresh();
  });
  refresh();
}

start();
