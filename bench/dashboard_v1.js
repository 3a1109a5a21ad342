// Vigil's dashboard: reads the /api/v1 JSON routes every few seconds with a bearer token and
// draws nodes, services and replicas, incidents and the latest actions.
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

function clock(at) {
  if (at === null || at === undefined) return "";
  return new Date(at * 1000).toLocaleTimeString([], { hour12: false });
}

function ago(at, now) {
  if (at === null || at === undefined) return "never";
  const s = Math.max(0, now - at);
  if (s < 90) return `${s.toFixed(1)} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${(s / 3600).toFixed(1)} h ago`;
}

function pct(value) {
  return value === undefined ? "" : value.toFixed(0);
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

async function api(path) {
  const headers = { Accept: "application/json" };
  const bad = unsendable(token());
  if (bad) throw new TokenUnsendable(bad);
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch(path, { headers, cache: "no-store" });
  noteServerClock(response.headers.get("Date"));
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  const detail = body && typeof body.detail === "string" ? body.detail : response.statusText;
  if (response.status === 401) throw new AuthNeeded(detail);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${detail}`);
  return body;
}

async function optional(path) {
  try {
    return await api(path);
  } catch (err) {
    if (err instanceof AuthNeeded) throw err;
    return null; // e.g. a service without a balancer: 404
  }
}

// --- sections --------------------------------------------------------------------------------

function latestByNode(rows) {
  const out = new Map(); // node -> [values]
  for (const row of rows || []) {
    const node = row.labels && row.labels.node;
    if (!node) continue;
    if (!out.has(node)) out.set(node, []);
    out.get(node).push(row.value);
  }
  return out;
}

function mean(values) {
  return values && values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

function renderNodes(nodes, cpu, mem, gpu, now) {
  const tbody = document.querySelector("#nodes tbody");
  if (!nodes.length) return emptyRow(tbody, 7, "no nodes configured");
  const cpuBy = latestByNode(cpu);
  const memBy = latestByNode(mem);
  const gpuBy = latestByNode(gpu);
  tbody.replaceChildren(
    ...nodes.map((n) =>
      el(
        "tr",
        "",
        td(n.name),
        stateCell(n.status),
        td(ago(n.last_heartbeat, now)),
        td(n.phi.toFixed(1), "num"),
        td(pct(mean(cpuBy.get(n.name))), "num"),
        td(pct(mean(memBy.get(n.name))), "num"),
        td(pct(mean(gpuBy.get(n.name))), "num"),
      ),
    ),
  );
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

function renderServices(services, balancers) {
  const box = document.getElementById("services");
  if (!services.length) {
    box.replaceChildren(el("p", "empty", "no services configured"));
    return;
  }
  box.replaceChildren(
    ...services.map((service, i) => {
      const balancer = balancers[i];
      const upstreams = new Map((balancer ? balancer.upstreams : []).map((u) => [u.id, u]));
      const policy = balancer ? `, balancer ${balancer.address} (${balancer.policy})` : "";
      const head = el(
        "h3",
        "",
        `${service.name}: ${service.ready}/${service.desired ?? service.replicas.length} ready${policy}`,
      );
      const rows = service.replicas.map((r) => {
        const up = upstreams.get(r.id);
        const points = up ? trackRate(r.id, up.requests, performance.now() / 1000) : [];
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
          up ? stateCell(up.state) : td(""),
          td(up ? up.weight : "", "num"),
          td(up ? `${(up.share * 100).toFixed(0)} %` : "", "num"),
          el("td", "", up ? sparkline(points) : ""),
        );
      });
      const table = el(
        "table",
        "replicas",
        el(
          "thead",
          "",
          el(
            "tr",
            "",
            ...["replica", "node", "state", "pid", "live", "ready", "restarts", "balancer",
              "weight", "share", "requests/s"].map((h) => el("th", "", h)),
          ),
        ),
        el("tbody", "", ...rows),
      );
      return el("div", "service", head, table);
    }),
  );
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
  if (!items.length) return emptyRow(tbody, 10, none);
  tbody.replaceChildren(...items.map(incidentRow));
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

function renderActions(items) {
  const tbody = document.querySelector("#actions tbody");
  if (!items.length) return emptyRow(tbody, 7, "no actions yet");
  tbody.replaceChildren(
    ...items.map((a) => {
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
    }),
  );
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

async function refresh() {
  clearTimeout(timer);
  if (document.hidden) return; // a background tab costs the controller nothing; see start()
  try {
    const series = (name) => optional(`/api/v1/series/latest?name=${encodeURIComponent(name)}`);
    const [nodes, services, active, recent, actions, cpu, mem, gpu] = await Promise.all([
      api("/api/v1/nodes"),
      api("/api/v1/services"),
      api("/api/v1/incidents?state=active&limit=50"),
      api("/api/v1/incidents?limit=30"),
      api("/api/v1/actions?limit=25"),
      series("host.cpu.used_pct"),
      series("host.mem.used_pct"),
      series("gpu.util_pct"),
    ]);
    const balancers = await Promise.all(
      services.map((s) => optional(`/api/v1/services/${encodeURIComponent(s.name)}/balancer`)),
    );
    const now = serverNow();
    document.getElementById("login").hidden = true;
    document.getElementById("main").hidden = false;
    document.getElementById("forget").hidden = !token();
    renderNodes(nodes, cpu, mem, gpu, now);
    renderServices(services, balancers);
    renderIncidents("#incidents-active", active.items, "no active incidents");
    renderTimeline(recent.items, now);
    renderIncidents("#incidents-recent", recent.items, "no incidents yet");
    renderActions(actions.items);
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

function start() {
  takeTokenFromFragment();
  document.getElementById("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("login-token");
    localStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = "";
    refresh();
  });
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
