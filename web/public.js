// The public transparency page: per district and for the state, counts and times only (no tweet, no name). The
// figures come from the snapshot the figures function writes to the web bucket every few minutes
// (data/public-figures.json); the reference lookup asks the API (state and timestamps only).
"use strict";

let snapshot = null;

function cell(labelKey, text, cls) {
  const td = document.createElement("td");
  td.dataset.label = t(labelKey);
  if (cls) td.className = cls;
  td.textContent = text;
  return td;
}

function pct(v) { return v === null || v === undefined ? t("none") : `${v}%`; }

function render() {
  if (!snapshot) return;
  const generated = document.getElementById("generated");
  generated.textContent = t("public.generated", { from: snapshot.from, to: snapshot.to, at: formatTime(snapshot.generated_at) });
  const s = snapshot.state;
  const cards = [["perf.received", s.received], ["public.acknowledged", s.acknowledged],
    ["perf.ack_sla", pct(s.acknowledged_within_sla_pct)], ["perf.resolved", s.resolved],
    ["public.median_response", formatDuration(s.median_response_s)],
    ["public.median_resolution", formatDuration(s.median_resolution_s)]];
  document.getElementById("state").replaceChildren(...cards.map(([key, value]) => {
    const card = document.createElement("div");
    card.className = "card";
    const v = document.createElement("div"); v.className = "value"; v.textContent = String(value);
    const n = document.createElement("div"); n.className = "name"; n.textContent = t(key);
    card.append(v, n);
    return card;
  }));
  const rows = snapshot.districts.map((d) => {
    const tr = document.createElement("tr");
    tr.dataset.code = d.code;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = LANG === "hi" ? d.hindi || d.name : d.name;
    tr.append(th, cell("perf.received", String(d.received), "num"), cell("public.acknowledged", String(d.acknowledged), "num"),
      cell("perf.ack_sla", pct(d.acknowledged_within_sla_pct), "num"), cell("perf.resolved", String(d.resolved), "num"),
      cell("public.median_response", formatDuration(d.median_response_s), "num"));
    return tr;
  });
  document.querySelector("#districts tbody").replaceChildren(...rows);
}

async function load() {
  let response = await fetch("data/public-figures.json", { cache: "no-store" });
  if (!response.ok) response = await fetch("/public/figures");  // before the first snapshot is written
  snapshot = await response.json();
  render();
}

async function lookup(event) {
  event.preventDefault();
  const out = document.getElementById("lookup-result");
  const reference = document.getElementById("reference").value.trim().toUpperCase();
  const response = await fetch(`/public/complaints/${encodeURIComponent(reference)}`);
  if (!response.ok) { out.textContent = t("public.notfound"); return; }
  const c = await response.json();
  const dl = document.createElement("dl");
  dl.id = "lookup-details";
  const add = (key, value) => {
    const dt = document.createElement("dt"); dt.textContent = t(key);
    const dd = document.createElement("dd"); dd.textContent = value;
    dl.append(dt, dd);
  };
  add("col.reference", c.reference);
  add("col.status", label("status", c.status));
  add("col.district", c.district || t("none"));
  add("col.received", formatTime(c.received_at));
  add("public.acknowledged", formatTime(c.acknowledged_at));
  add("perf.resolved", formatTime(c.resolved_at));
  out.replaceChildren(dl);
}

document.addEventListener("DOMContentLoaded", () => {
  applyStrings();
  document.getElementById("lang").addEventListener("click", () => switchLanguage(render));
  document.getElementById("lookup").addEventListener("submit", lookup);
  load().catch((error) => {
    document.getElementById("generated").textContent = t("error.load", { message: error.message });
  });
  setInterval(() => load().catch(() => {}), 60000);
});
