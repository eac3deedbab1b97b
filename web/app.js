// Seva's control room: sign in with the Cognito user pool (USER_PASSWORD_AUTH, the ID token kept for this tab only),
// then the live queue, a complaint with its timeline and actions, the review queue and the performance figures —
// all through the same HTTP API as the officers' links (/api/*). No framework: the DOM is built with textContent
// only (tweets are untrusted text). Charts: Chart.js (MIT), vendored in vendor/chartjs.
"use strict";

const state = {
  config: null, token: null, claims: null, districts: [], timer: null, charts: [],
  queueFilters: {}, seen: null, refreshMs: 5000,
};
const CATEGORIES = ["emergency", "violent_crime", "theft", "women_safety", "cyber_fraud", "traffic", "public_nuisance",
  "police_conduct", "missing_person", "land_property", "other"];
const STATUSES = ["ROUTED", "ACKNOWLEDGED", "ON_THE_WAY", "REOPENED"];
const LANGUAGES = ["en", "hi", "hi-Latn", "ur", "bho", "awa"];
const PRIORITIES = ["P1", "P2", "P3"];
const DEADLINES = ["breached", "due_soon", "on_time"];

// -- small DOM helpers -------------------------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function selectField(id, labelKey, options, value, onchange) {
  const select = el("select", { id, name: id, onchange });
  for (const [v, text] of options) select.append(el("option", { value: v, text, selected: v === value }));
  return el("div", { class: "field" }, el("label", { for: id, text: t(labelKey) }), select);
}

function badge(kind, value, text) {
  return el("span", { class: `badge ${kind}-${value}` }, text);
}

function districtName(code) {
  if (code === null || code === undefined || code === "HQ") return LANG === "hi" ? "राज्य प्रकोष्ठ" : "State cell";
  const d = state.districts.find((x) => String(x.code) === String(code));
  return d ? (LANG === "hi" ? d.hindi || d.name : d.name) : String(code);
}

// -- signing in --------------------------------------------------------------------------------------------------
function decodeJwt(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const json = decodeURIComponent(Array.from(atob(part), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""));
  return JSON.parse(json);
}

async function signIn(username, password) {
  const response = await fetch(state.config.cognitoEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    },
    body: JSON.stringify({
      AuthFlow: "USER_PASSWORD_AUTH", ClientId: state.config.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  });
  const body = await response.json().catch(() => ({}));
  const token = body.AuthenticationResult && body.AuthenticationResult.IdToken;
  if (!response.ok || !token) throw new Error(body.message || body.__type || `HTTP ${response.status}`);
  sessionStorage.setItem("seva.token", token);
  useToken(token);
}

function useToken(token) {
  const claims = decodeJwt(token);
  if (!claims.exp || claims.exp * 1000 < Date.now()) throw new Error("expired");
  state.token = token;
  state.claims = claims;
}

function groups() {
  const g = state.claims && state.claims["cognito:groups"];
  return Array.isArray(g) ? g : [];
}

function isStateCell() { return groups().includes("state_cell"); }

function signOut() {
  sessionStorage.removeItem("seva.token");
  state.token = state.claims = null;
  stopTimer();
  showSignIn();
}

function showSignIn() {
  document.getElementById("nav").hidden = true;
  document.getElementById("signout").hidden = true;
  document.getElementById("who").textContent = "";
  document.getElementById("view").replaceChildren();
  document.getElementById("signin").hidden = false;
  document.getElementById("username").focus();
}

function showWho() {
  const role = isStateCell() ? "state_cell" : groups().includes("district") ? "district" : "officer";
  const district = state.claims["custom:district"];
  const where = role === "state_cell" ? "" : ` · ${districtName(district)}`;
  document.getElementById("who").textContent = `${state.claims["cognito:username"] || ""} (${t("role." + role)}${where})`;
}

// -- the API -----------------------------------------------------------------------------------------------------
async function api(path, options) {
  const headers = Object.assign({ Authorization: `Bearer ${state.token}` }, (options && options.headers) || {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) { signOut(); throw new Error(t("signin.failed")); }
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new Error((body && body.message) || `HTTP ${response.status}`);
  return body;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function download(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = (disposition.match(/filename="([^"]+)"/) || [null, "export.csv"])[1];
  const url = URL.createObjectURL(await response.blob());
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// -- routing -----------------------------------------------------------------------------------------------------
function stopTimer() { if (state.timer) { clearTimeout(state.timer); state.timer = null; } }

function destroyCharts() { for (const c of state.charts) c.destroy(); state.charts = []; }

async function route() {
  if (!state.token) return showSignIn();
  stopTimer();
  destroyCharts();
  const hash = location.hash || "#/queue";
  const [, view, arg] = hash.match(/^#\/([a-z]+)\/?(.*)$/) || [null, "queue", ""];
  for (const a of document.querySelectorAll("#nav a[data-view]")) {
    if (a.dataset.view === (view === "c" ? "queue" : view)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const container = document.getElementById("view");
  try {
    if (view === "c") await complaintView(container, decodeURIComponent(arg));
    else if (view === "review") await reviewView(container);
    else if (view === "performance") await performanceView(container);
    else await queueView(container);
  } catch (error) {
    container.replaceChildren(el("p", { class: "error", role: "alert", text: t("error.load", { message: error.message }) }));
  }
}

// -- the live queue ----------------------------------------------------------------------------------------------
async function queueView(container) {
  state.seen = null;
  const f = state.queueFilters;
  const refresh = () => { state.queueFilters = Object.fromEntries(new FormData(form)); state.seen = null; loadQueue(); };
  const any = [["", t("filter.any")]];
  const form = el("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); refresh(); } },
    isStateCell() ? selectField("district", "filter.district",
      [["", t("filter.all_districts")], ["HQ", districtName("HQ")], ...state.districts.map((d) => [String(d.code), districtName(d.code)])],
      f.district || "", refresh) : null,
    selectField("priority", "filter.priority", [...any, ...PRIORITIES.map((p) => [p, p])], f.priority || "", refresh),
    selectField("deadline", "filter.deadline", [...any, ...DEADLINES.map((d) => [d, t("deadline." + d)])], f.deadline || "", refresh),
    selectField("status", "filter.status", [...any, ...STATUSES.map((s) => [s, label("status", s)])], f.status || "", refresh),
    selectField("category", "filter.category", [...any, ...CATEGORIES.map((c) => [c, label("category", c)])], f.category || "", refresh),
    selectField("language", "filter.language", [...any, ...LANGUAGES.map((l) => [l, label("language", l)])], f.language || "", refresh),
  );
  const table = el("table", { id: "queue", class: "responsive" },
    el("caption", { class: "visually-hidden", text: t("queue.title") }),
    el("thead", {}, el("tr", {}, ...["col.reference", "col.priority", "col.deadline", "col.due", "col.status",
      "col.district", "col.category", "col.text"].map((k) => el("th", { scope: "col", text: t(k) })))),
    el("tbody"));
  container.replaceChildren(
    el("h2", { text: t("queue.title") }),
    el("fieldset", {}, el("legend", { text: t("filters") }), form),
    el("div", { class: "toolbar" },
      el("button", { type: "button", class: "secondary", id: "export-csv", text: t("export.csv"),
        onclick: () => download(`/api/export/complaints${query(state.queueFilters)}`) })),
    el("p", { class: "status-line", id: "queue-status", role: "status", "aria-live": "polite" }),
    table,
  );
  await loadQueue();
}

async function loadQueue() {
  stopTimer();
  const tbody = document.querySelector("#queue tbody");
  if (!tbody) return;
  try {
    const data = await api(`/api/queue${query(state.queueFilters)}`);
    if (!document.querySelector("#queue tbody")) return;  // the view changed meanwhile
    const previous = state.seen;
    state.seen = new Set(data.complaints.map((c) => c.id));
    tbody.replaceChildren(...data.complaints.map((c) => queueRow(c, previous && !previous.has(c.id))));
    if (!data.complaints.length) tbody.append(el("tr", {}, el("td", { colspan: 8, text: t("queue.empty") })));
    const fresh = previous ? data.complaints.filter((c) => !previous.has(c.id)).length : 0;
    document.getElementById("queue-status").textContent =
      t("queue.count", { n: data.complaints.length, breached: data.counts.breached, due_soon: data.counts.due_soon }) +
      (fresh ? ` (+${fresh} ${t("queue.new")})` : "") + ` · ${t("queue.updated")} ${formatTime(data.at)}`;
  } catch (error) {
    const status = document.getElementById("queue-status");
    if (status) status.textContent = t("error.load", { message: error.message });
  }
  if (document.querySelector("#queue tbody")) state.timer = setTimeout(loadQueue, state.refreshMs);
}

function queueRow(c, fresh) {
  const cell = (key, ...content) => el("td", { "data-label": t(key) }, ...content);
  return el("tr", { class: fresh ? "fresh" : null, dataset: { id: c.id, deadline: c.deadline } },
    cell("col.reference", el("a", { href: `#/c/${encodeURIComponent(c.id)}`, text: c.reference || c.id })),
    cell("col.priority", badge("prio", c.priority, c.priority || t("none"))),
    cell("col.deadline", badge("deadline", c.deadline, t("deadline." + c.deadline)),
      c.escalation_level ? el("span", { class: "badge deadline-breached", text: t("queue.escalated", { level: c.escalation_level }) }) : null),
    cell("col.due", el("time", { datetime: c.due_at, text: formatTime(c.due_at) })),
    cell("col.status", label("status", c.status)),
    cell("col.district", districtName(c.district_code ?? "HQ")),
    cell("col.category", label("category", c.category)),
    el("td", { class: "text-cell", "data-label": t("col.text"), lang: c.language === "hi" ? "hi" : null }, c.text || ""),
  );
}

// -- one complaint -----------------------------------------------------------------------------------------------
async function complaintView(container, id, notice) {
  const c = await api(`/api/complaints/${encodeURIComponent(id)}`);
  const rows = [
    ["col.status", label("status", c.status)], ["col.priority", c.priority || t("none")],
    ["col.category", label("category", c.category)], ["col.district", districtName(c.district_code ?? "HQ")],
    ["filter.language", label("language", c.language)], ["col.received", formatTime(c.received_at)],
    ["col.due", formatTime(c.due_at)], ["col.deadline", t("deadline." + c.deadline)],
    ["col.escalation", c.escalation_level ? t("queue.escalated", { level: c.escalation_level }) : t("none")],
    ["perf.satisfaction", c.satisfaction ?? t("none")],
    ["col.confidence", c.confidence === null || c.confidence === undefined ? t("none") : `${Math.round(c.confidence * 100)}%`],
  ];
  if (c.review_reason) rows.push(["col.reason", c.review_reason]);
  const timeline = el("ol", { class: "timeline", id: "timeline" }, ...c.timeline.slice().reverse().map(timelineItem));
  container.replaceChildren(
    el("p", {}, el("a", { href: "#/queue", text: `← ${t("complaint.back")}` })),
    el("h2", { id: "complaint-title" }, `${c.reference || c.id} `, badge("prio", c.priority, c.priority || "")),
    notice ? el("p", { class: notice.ok ? "notice" : "error", role: "status", id: "action-result", tabindex: -1, text: notice.text }) : null,
    el("div", { class: "grid2" },
      el("section", { "aria-labelledby": "tweet-h" },
        el("h3", { id: "tweet-h", text: t("complaint.tweet") }),
        el("blockquote", { class: "tweet", lang: c.language === "hi" ? "hi" : null }, c.text || ""),
        el("p", {}, `${t("complaint.by")} @${c.author || "?"} · `,
          el("a", { href: c.tweet_url, target: "_blank", rel: "noopener", text: t("complaint.open_on_x") })),
        el("h3", { text: t("complaint.actions") }),
        actionsPanel(c),
        el("h3", { text: t("complaint.timeline") }),
        timeline),
      el("section", { "aria-labelledby": "triage-h" },
        el("h3", { id: "triage-h", text: t("complaint.triage") }),
        el("table", {}, el("tbody", {}, ...rows.map(([k, v]) => el("tr", {}, el("th", { scope: "row", text: t(k) }), el("td", { text: v }))))),
        el("h3", { text: t("complaint.evidence") }),
        el("ul", {}, ...(c.evidence || []).map((e) => el("li", { text: evidenceText(e) })))),
    ),
  );
}

function evidenceText(e) {
  if (typeof e !== "object" || e === null) return String(e);
  return Object.entries(e).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ");
}

function timelineItem(e) {
  const what = e.kind === "delivery"
    ? `${e.via}: ${[e.details.officer_id, e.details.status, e.details.reply_tweet_id].filter(Boolean).join(" · ") || "sent"}`
    : `${e.action}${e.from && e.to && e.from !== e.to ? ` (${label("status", e.from)} → ${label("status", e.to)})` : ""}`;
  const extra = [e.details.note, e.details.district, e.details.verdict, e.details.reason].filter(Boolean).join(" · ");
  return el("li", { dataset: { action: e.action || e.kind } },
    el("time", { datetime: e.at, text: formatTime(e.at) }),
    el("strong", { text: what }), ` — ${e.actor.kind}:${e.actor.id} via ${e.via}`, extra ? el("div", { text: extra }) : null);
}

function actionsPanel(c) {
  const panel = el("div", { class: "actions", id: "actions" });
  const act = async (body, button) => {
    button.disabled = true;
    let notice;
    try {
      await api(`/api/complaints/${encodeURIComponent(c.id)}/actions`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      notice = { ok: true, text: t("complaint.done", { action: t("action." + body.action) }) };
    } catch (error) {
      notice = { ok: false, text: t("complaint.refused", { message: error.message }) };
    }
    const view = document.getElementById("view");
    try {
      await complaintView(view, c.id, notice);
    } catch (error) {  // e.g. reassigned to another district: no longer this person's to see
      view.replaceChildren(
        el("p", { class: notice.ok ? "notice" : "error", role: "status", id: "action-result", tabindex: -1, text: notice.text }),
        el("p", { text: error.message }),
        el("p", {}, el("a", { href: "#/queue", text: `← ${t("complaint.back")}` })));
    }
    const result = document.getElementById("action-result");
    if (result) result.focus();
  };
  for (const name of c.actions || []) {
    if (["acknowledge", "on_the_way", "resolve", "to_noise"].includes(name)) {
      panel.append(el("button", { type: "button", class: "action", dataset: { action: name }, text: t("action." + name),
        onclick: (e) => act({ action: name }, e.currentTarget) }));
    } else if (name === "reassign") {
      const options = [["HQ", districtName("HQ")], ...state.districts.filter((d) => d.code !== c.district_code).map((d) => [String(d.code), districtName(d.code)])];
      const field = selectField("reassign-district", "complaint.reassign_to", options, "", null);
      panel.append(el("div", { class: "actions" }, field, el("button", { type: "button", class: "secondary", dataset: { action: name },
        text: t("action.reassign"), onclick: (e) => {
          const v = document.getElementById("reassign-district").value;
          act({ action: "reassign", district: v === "HQ" ? null : v }, e.currentTarget);
        } })));
    } else if (name === "note") {
      panel.append(el("div", { class: "actions" },
        el("div", { class: "field" }, el("label", { for: "note-text", text: t("complaint.note") }), el("textarea", { id: "note-text", rows: 2 })),
        el("button", { type: "button", class: "secondary", dataset: { action: name }, text: t("action.note"),
          onclick: (e) => act({ action: "note", note: document.getElementById("note-text").value }, e.currentTarget) })));
    } else if (name === "to_complaint" || name === "review") {
      const prefix = name === "review" ? "review" : "tc";
      const fields = [
        selectField(`${prefix}-category`, "complaint.review_category", CATEGORIES.map((x) => [x, label("category", x)]), c.category || "other", null),
        selectField(`${prefix}-priority`, "complaint.review_priority", PRIORITIES.map((p) => [p, p]), c.priority || "P3", null),
      ];
      panel.append(el("div", { class: "actions" }, ...fields, el("button", { type: "button", class: "secondary", dataset: { action: name },
        text: t("action." + name), onclick: (e) => act({
          action: name, category: document.getElementById(`${prefix}-category`).value,
          priority: document.getElementById(`${prefix}-priority`).value,
        }, e.currentTarget) })));
    }
  }
  return panel;
}

// -- the review queue --------------------------------------------------------------------------------------------
async function reviewView(container) {
  const data = await api("/api/review");
  const table = el("table", { id: "review", class: "responsive" },
    el("thead", {}, el("tr", {}, ...["col.reference", "col.status", "col.priority", "col.category", "col.confidence",
      "col.reason", "col.text", "complaint.actions"].map((k) => el("th", { scope: "col", text: t(k) })))),
    el("tbody", {}, ...data.items.map((c) => el("tr", { dataset: { id: c.id } },
      el("td", { "data-label": t("col.reference") }, el("a", { href: `#/c/${encodeURIComponent(c.id)}`, text: c.reference || c.id })),
      el("td", { "data-label": t("col.status"), text: label("status", c.status) }),
      el("td", { "data-label": t("col.priority"), text: c.priority || t("none") }),
      el("td", { "data-label": t("col.category"), text: label("category", c.category) }),
      el("td", { "data-label": t("col.confidence"), text: c.confidence == null ? t("none") : `${Math.round(c.confidence * 100)}%` }),
      el("td", { "data-label": t("col.reason"), text: c.review_reason || "" }),
      el("td", { class: "text-cell", "data-label": t("col.text"), text: c.text || "" }),
      el("td", { "data-label": t("complaint.actions") }, c.status === "NOISE" ? null : el("button", {
        type: "button", class: "secondary", text: t("review.confirm"), dataset: { action: "review" },
        onclick: async (e) => {
          const button = e.currentTarget;
          button.disabled = true;
          try {
            await api(`/api/complaints/${encodeURIComponent(c.id)}/actions`, {
              method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ action: "review" }),
            });
            route();
          } catch (error) {
            button.replaceWith(el("span", { class: "error", role: "alert", text: t("complaint.refused", { message: error.message }) }));
          }
        } })),
    ))));
  if (!data.items.length) table.tBodies[0].append(el("tr", {}, el("td", { colspan: 8, text: t("review.empty") })));
  container.replaceChildren(
    el("h2", { text: t("review.title") }), el("p", { text: t("review.intro") }),
    isStateCell() ? el("div", { class: "toolbar" }, el("button", { type: "button", class: "secondary", id: "export-labels",
      text: t("export.labels"), onclick: () => download("/api/export/labels") })) : null,
    table);
}

// -- performance -------------------------------------------------------------------------------------------------
async function performanceView(container, params) {
  params = params || {};
  const data = await api(`/api/figures${query(params)}`);
  const s = data.summary;
  const card = (key, value) => el("div", { class: "card" }, el("div", { class: "value", text: value }), el("div", { class: "name", text: t(key) }));
  const pct = (v) => (v === null || v === undefined ? t("none") : `${v}%`);
  const reload = () => performanceView(container, Object.fromEntries(new FormData(form)));
  const form = el("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); reload(); } },
    isStateCell() ? selectField("perf-district", "filter.district", [["", t("filter.all_districts")], ["HQ", districtName("HQ")],
      ...state.districts.map((d) => [String(d.code), districtName(d.code)])], params.district || "", reload) : null,
    el("div", { class: "field" }, el("label", { for: "perf-from", text: t("filter.from") }), el("input", { id: "perf-from", name: "from", type: "date", value: data.from, onchange: reload })),
    el("div", { class: "field" }, el("label", { for: "perf-to", text: t("filter.to") }), el("input", { id: "perf-to", name: "to", type: "date", value: data.to, onchange: reload })));
  const districtSelect = form.querySelector("#perf-district");
  if (districtSelect) districtSelect.name = "district";
  const ackCanvas = el("canvas", { id: "chart-ack", role: "img", "aria-label": t("perf.ack_distribution") });
  const slaCanvas = el("canvas", { id: "chart-sla", role: "img", "aria-label": t("perf.sla_over_time") });
  container.replaceChildren(
    el("h2", { text: `${t("perf.title")}: ${data.district ? districtName(data.district) : t("public.state")}` }),
    el("fieldset", {}, el("legend", { text: t("filters") }), form),
    el("div", { class: "toolbar" }, el("button", { type: "button", class: "secondary", id: "export-figures", text: t("export.figures"),
      onclick: () => download(`/api/figures${query({ ...params, format: "csv" })}`) })),
    el("div", { class: "cards", id: "figures" },
      card("perf.received", s.received), card("perf.ack_sla", pct(s.ack_sla_pct)),
      card("perf.ack_p50", formatDuration(s.ack_p50_s)), card("perf.ack_p95", formatDuration(s.ack_p95_s)),
      card("perf.resolved", s.resolved), card("perf.resolve_p50", formatDuration(s.resolve_p50_s)),
      card("perf.resolve_p95", formatDuration(s.resolve_p95_s)), card("perf.escalations", s.escalations),
      card("perf.reopen_rate", pct(s.reopen_rate_pct)), card("perf.satisfaction", s.satisfaction ?? t("none"))),
    el("h3", { text: t("perf.ack_distribution") }), el("div", { class: "chart" }, ackCanvas),
    el("h3", { text: t("perf.sla_over_time") }), el("div", { class: "chart" }, slaCanvas),
    data.by_district ? el("h3", { text: t("perf.by_district") }) : null,
    data.by_district ? figuresTable("by-district", data.by_district.slice().sort((a, b) => b.received - a.received), (r) => districtName(r.district)) : null,
    el("h3", { text: t("perf.by_category") }),
    figuresTable("by-category", data.by_category, (r) => label("category", r.category)),
  );
  drawCharts(data, ackCanvas, slaCanvas);
}

function figuresTable(id, rows, name) {
  const cols = [["perf.received", (r) => r.received], ["perf.ack_sla", (r) => (r.ack_sla_pct ?? t("none"))],
    ["perf.ack_p50", (r) => formatDuration(r.ack_p50_s)], ["perf.resolved", (r) => r.resolved],
    ["perf.escalations", (r) => r.escalations], ["perf.reopen_rate", (r) => (r.reopen_rate_pct ?? t("none"))]];
  return el("table", { id, class: "responsive" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "" }), ...cols.map(([k]) => el("th", { scope: "col", class: "num", text: t(k) })))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, el("th", { scope: "row", text: name(r) }),
      ...cols.map(([k, f]) => el("td", { class: "num", "data-label": t(k), text: String(f(r)) }))))));
}

function drawCharts(data, ackCanvas, slaCanvas) {
  if (typeof Chart === "undefined") return;
  const hist = data.summary.ack_histogram || [];
  let last = hist.length - 1;
  while (last > 0 && !hist[last]) last -= 1;
  const labels = data.bounds.slice(0, last + 1).map((b) => `≤ ${formatDuration(b)}`);
  if (last >= data.bounds.length) labels.push(`> ${formatDuration(data.bounds[data.bounds.length - 1])}`);
  state.charts.push(new Chart(ackCanvas, {
    type: "bar",
    data: { labels, datasets: [{ label: t("perf.complaints"), data: hist.slice(0, last + 1), backgroundColor: "#0b4f8a" }] },
    options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } } },
  }));
  state.charts.push(new Chart(slaCanvas, {
    type: "line",
    data: {
      labels: data.by_day.map((r) => r.day),
      datasets: [{ label: t("perf.ack_sla"), data: data.by_day.map((r) => r.ack_sla_pct), borderColor: "#1e6b35",
        backgroundColor: "#1e6b35", spanGaps: true }],
    },
    options: { maintainAspectRatio: false, animation: false, scales: { y: { min: 0, max: 100 } } },
  }));
}

// -- start -------------------------------------------------------------------------------------------------------
async function start() {
  applyStrings();
  const form = document.getElementById("signin");
  // The form's handler first: a submit before the configuration arrives must never post the password anywhere
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    document.getElementById("signin-error").textContent = "";
    try {
      await ready;
      await signIn(form.username.value.trim(), form.password.value);
      form.password.value = "";
      signedIn();
    } catch (error) {
      document.getElementById("signin-error").textContent = t("signin.failed");
    } finally {
      button.disabled = false;
    }
  });
  const params = new URLSearchParams(location.search);
  const refresh = Number(params.get("refresh"));
  if (refresh >= 250) state.refreshMs = refresh;
  document.getElementById("lang").addEventListener("click", () => switchLanguage(() => { if (state.token) { showWho(); route(); } }));
  document.getElementById("signout").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  const demo = location.hash.match(/^#signin=([A-Za-z0-9_-]+)/);
  if (!demo && !sessionStorage.getItem("seva.token")) showSignIn();  // at once: the form waits for the config
  else document.getElementById("view").replaceChildren(el("p", { class: "status-line", role: "status", text: t("loading") }));
  const ready = (async () => {
    state.config = await (await fetch("/public/config")).json();
    state.districts = await (await fetch("/public/districts")).json();
  })();
  await ready;
  // A demo sign-in link (seva up): #signin=<base64url of {"u": ..., "p": ...}>, used once and removed from the URL
  if (demo) {
    history.replaceState(null, "", location.pathname + location.search + "#/queue");
    try {
      const { u, p } = JSON.parse(atob(demo[1].replace(/-/g, "+").replace(/_/g, "/")));
      await signIn(u, p);
    } catch (error) { /* falls back to the form */ }
  }
  const saved = sessionStorage.getItem("seva.token");
  if (!state.token && saved) { try { useToken(saved); } catch (error) { sessionStorage.removeItem("seva.token"); } }
  if (state.token) signedIn(); else showSignIn();
  document.body.dataset.ready = "1";
}

function signedIn() {
  document.getElementById("signin").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("signout").hidden = false;
  showWho();
  route();
}

document.addEventListener("DOMContentLoaded", start);
