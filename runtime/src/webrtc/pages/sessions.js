// Calls in progress and recent sessions, read from the admin API with a token the operator
// pastes: it lives in this page's memory only, never in storage or the URL.
"use strict";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 1000;
let token = "";
let selected = null;
let timer = null;

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  if (response.status === 401) throw new Error("the admin API refused the token");
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

function rows(tbody, sessions, columns, empty) {
  tbody.replaceChildren();
  if (sessions.length === 0) {
    const tr = document.createElement("tr");
    tr.append(cell(empty, "muted"));
    tr.firstChild.colSpan = columns(null).length;
    tbody.append(tr);
    return;
  }
  for (const session of sessions) {
    const tr = document.createElement("tr");
    tr.className = "session";
    tr.dataset.id = session.id;
    tr.append(...columns(session).map((value) => cell(value)));
    tr.addEventListener("click", () => { selected = session.id; refresh(); });
    tbody.append(tr);
  }
}

async function showTimeline(id) {
  const lines = await api(`/sessions/${encodeURIComponent(id)}/logs`);
  $("detail").hidden = false;
  $("detail-title").textContent = `Session ${id}`;
  const list = $("timeline");
  list.replaceChildren();
  for (const line of lines) {
    const li = document.createElement("li");
    li.className = `level-${line.level}`;
    const at = document.createElement("time");
    at.textContent = new Date(line.at).toLocaleTimeString();
    li.append(at, document.createTextNode(`${line.level === "event" ? "▸ " : ""}${line.text}`));
    list.append(li);
  }
}

async function refresh() {
  try {
    const sessions = await api("/sessions?limit=50");
    const live = sessions.filter((s) => !s.ended_at);
    const ended = sessions.filter((s) => s.ended_at);
    rows($("live"), live, (s) => s ? [time(s.started_at), s.caller, s.destination, s.rule, s.id] : [1, 2, 3, 4, 5], "none");
    rows($("recent"), ended, (s) => s ? [time(s.started_at), s.caller, s.destination, s.rule,
      s.duration === null ? "" : s.duration.toFixed(1), s.end_reason || s.end_kind] : [1, 2, 3, 4, 5, 6], "none");
    if (selected) await showTimeline(selected);
    $("problem").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    $("problem").textContent = String(error.message || error);
  }
}

$("connect").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  refresh();
  if (timer === null) timer = setInterval(refresh, REFRESH_MS);
});
