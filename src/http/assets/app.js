// dbguru chat page: sessions, a connection picker, questions answered over
// POST /api/multi-query/stream (server-sent events), tables, SQL and charts.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const state = { sessionId: null, connections: [], sessions: [], busy: false };
  const COLORS = ["#2458d6", "#d9822b", "#1c8c3a", "#a23bcf", "#c2185b", "#00838f", "#6d4c41"];

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  }
  function status(msg) { $("status").textContent = msg || ""; }

  async function api(method, path, body) {
    const opts = { method, headers: {} };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const r = await fetch(path, opts);
    if (r.status === 204) return null;
    const data = await r.json().catch(() => null);
    if (!r.ok) throw new Error((data && data.error && data.error.message) || ("HTTP " + r.status));
    return data;
  }

  // ---- connections ----
  async function loadConnections() {
    state.connections = await api("GET", "/api/connections");
    const box = $("connections");
    box.querySelectorAll("label").forEach((l) => l.remove());
    for (const c of state.connections) {
      const cb = el("input", { type: "checkbox", value: String(c.id), checked: "" });
      cb.addEventListener("change", onPickConnections);
      box.append(el("label", { title: c.database_type + " · " + (c.description || c.database_name) },
        cb, " " + c.name, el("span", { class: "dot " + c.status, "aria-label": c.status })));
    }
  }
  function pickedIds() {
    return [...$("connections").querySelectorAll("input:checked")].map((i) => Number(i.value));
  }
  function setPicked(ids) {
    $("connections").querySelectorAll("input").forEach((i) => { i.checked = ids.includes(Number(i.value)); });
  }
  async function onPickConnections() {
    const ids = pickedIds();
    if (!state.sessionId || ids.length === 0) return;
    try { await api("PATCH", "/api/chat/sessions/" + state.sessionId, { connection_ids: ids }); status("Databases updated."); }
    catch (e) { status(e.message); }
  }

  // ---- sessions ----
  async function loadSessions() {
    state.sessions = await api("GET", "/api/chat/sessions?limit=100");
    const ul = $("sessions");
    ul.replaceChildren();
    for (const s of state.sessions) {
      const b = el("button", { type: "button", "aria-current": String(s.id === state.sessionId), onclick: () => openSession(s.id) },
        s.name || "(unnamed)", el("span", { class: "meta", text: s.message_count + " messages · " + s.connections.map((c) => c.name).join(", ") }));
      ul.append(el("li", {}, b));
    }
  }
  async function openSession(id) {
    const s = await api("GET", "/api/chat/sessions/" + id);
    state.sessionId = s.id;
    $("session-name").value = s.name || "";
    setPicked(s.active_connection_ids);
    const msgs = await api("GET", "/api/chat/sessions/" + id + "/messages");
    const log = $("log");
    log.replaceChildren();
    let turn = null;
    for (const m of msgs) {
      if (m.role === "user") { turn = el("article", { class: "turn" }, el("p", { class: "question", text: m.content })); log.append(turn); }
      else if (turn) {
        turn.append(el("p", { text: m.content }));
        for (const d of m.databases_used || []) {
          turn.append(el("details", {}, el("summary", { text: d.name + ": " + (d.error ? "failed" : d.rows + " rows, " + Math.round(d.ms) + " ms") }),
            el("pre", { text: d.sql }), d.error ? el("p", { class: "error", text: d.error }) : null));
        }
      }
    }
    await loadSessions();
    status("Resumed session " + s.id + " (psql: SET dbguru.session = '" + s.id + "')");
    $("question").focus();
  }
  function newSession() {
    state.sessionId = null;
    $("session-name").value = "";
    $("log").replaceChildren();
    setPicked(state.connections.map((c) => c.id));
    loadSessions();
    status("New chat.");
    $("question").focus();
  }
  async function renameSession() {
    if (!state.sessionId) { status("Ask a first question, then rename."); return; }
    await api("PATCH", "/api/chat/sessions/" + state.sessionId, { name: $("session-name").value });
    await loadSessions();
    status("Renamed.");
  }
  async function deleteSession() {
    if (!state.sessionId || !confirm("Delete this chat session and its history?")) return;
    await api("DELETE", "/api/chat/sessions/" + state.sessionId);
    newSession();
  }

  // ---- answers ----
  const isNum = (v) => typeof v === "number";
  function renderTable(columns, rows) {
    const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === null || isNum(r[i])));
    const thead = el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col", text: c }))));
    const tbody = el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((v, i) =>
      el("td", { class: numeric[i] ? "num" : "", text: v === null ? "NULL" : (typeof v === "object" ? JSON.stringify(v) : String(v)) })))));
    return el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Result table" }, el("table", {}, thead, tbody));
  }
  // A bar chart when the result is at most one category column and one or more numbers:
  // groups per category (or per source_db), one bar per source_db and number.
  function renderChart(columns, rows) {
    if (rows.length === 0 || rows.length > 60 || columns[0] !== "source_db") return null;
    const rest = columns.slice(1).map((c, j) => ({ c, i: j + 1 }));
    const nums = rest.filter(({ i }) => rows.every((r) => r[i] === null || isNum(r[i])) && rows.some((r) => isNum(r[i])));
    const cats = rest.filter((x) => !nums.includes(x));
    if (nums.length === 0 || cats.length > 1) return null;
    const sources = [...new Set(rows.map((r) => r[0]))];
    const groups = cats.length ? [...new Set(rows.map((r) => String(r[cats[0].i])))] : ["all"];
    const series = [];
    for (const s of sources) for (const n of nums) series.push({ s, n, label: nums.length > 1 ? s + " · " + n.c : s });
    const max = Math.max(...rows.flatMap((r) => nums.map(({ i }) => (isNum(r[i]) ? r[i] : 0))), 0) || 1;
    const bw = 18, gap = 14, h = 180, top = 10, bottom = 40;
    const width = Math.max(260, groups.length * (series.length * bw + gap) + 50);
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "chart"); svg.setAttribute("role", "img");
    svg.setAttribute("viewBox", `0 0 ${width} ${h + top + bottom}`); svg.setAttribute("width", String(width));
    svg.setAttribute("aria-label", "Bar chart of " + nums.map((n) => n.c).join(", ") + " per source_db");
    const add = (tag, a, text) => { const e = document.createElementNS(svg.namespaceURI, tag); for (const [k, v] of Object.entries(a)) e.setAttribute(k, v); if (text != null) e.textContent = text; svg.append(e); return e; };
    add("line", { x1: 40, y1: top + h, x2: width, y2: top + h, stroke: "#999" });
    add("text", { x: 36, y: top + 10, "text-anchor": "end" }, String(max));
    groups.forEach((g, gi) => {
      const x0 = 45 + gi * (series.length * bw + gap);
      series.forEach((se, si) => {
        const row = rows.find((r) => r[0] === se.s && (cats.length === 0 || String(r[cats[0].i]) === g));
        const v = row && isNum(row[se.n.i]) ? row[se.n.i] : 0;
        const bh = Math.round((v / max) * h);
        const rect = add("rect", { x: x0 + si * bw, y: top + h - bh, width: bw - 3, height: bh, fill: COLORS[si % COLORS.length], "data-source": se.s });
        const t = document.createElementNS(svg.namespaceURI, "title"); t.textContent = se.label + (cats.length ? " · " + g : "") + ": " + v; rect.append(t);
      });
      if (cats.length) add("text", { x: x0, y: top + h + 14 }, g.length > 14 ? g.slice(0, 13) + "…" : g);
    });
    const legend = el("div", { class: "legend" }, ...series.map((se, si) => el("span", { style: "--c:" + COLORS[si % COLORS.length], text: se.label })));
    return el("figure", { class: "chart-figure" }, svg, legend);
  }

  async function ask(question) {
    const turn = el("article", { class: "turn" }, el("p", { class: "question", text: question }));
    const progress = el("ul", { class: "progress", "aria-label": "Progress per database" }, el("li", { text: "planning…" }));
    turn.append(progress);
    $("log").append(turn);
    turn.scrollIntoView({ block: "end" });
    const body = { question, use_cache: true };
    if (state.sessionId) body.chat_session_id = state.sessionId; else body.connection_ids = pickedIds();
    const r = await fetch("/api/multi-query/stream", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!r.ok) {
      const data = await r.json().catch(() => null);
      throw new Error((data && data.error && data.error.message) || ("HTTP " + r.status));
    }
    const items = {};
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = "", result = null, error = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const chunk = buf.slice(0, cut); buf = buf.slice(cut + 2);
        let ev = "message", data = "";
        for (const line of chunk.split("\n")) {
          if (line.startsWith("event:")) ev = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        if (!data) continue;
        const d = JSON.parse(data);
        if (ev === "plan") {
          progress.replaceChildren();
          for (const p of d) { items[p.connection_name] = el("li", { text: p.connection_name + ": running…" }); progress.append(items[p.connection_name]); }
        } else if (ev === "database") {
          const li = items[d.connection_name] || progress.appendChild(el("li"));
          li.className = d.success ? "ok" : "failed";
          li.textContent = d.connection_name + ": " + (d.success ? d.row_count + " rows in " + d.execution_time_ms.toFixed(1) + " ms" : "failed — " + d.error);
        } else if (ev === "result") result = d;
        else if (ev === "error") error = d.error;
      }
    }
    if (error) { turn.append(el("p", { class: "error", text: error.code + ": " + error.message })); return; }
    if (!result) { turn.append(el("p", { class: "error", text: "the answer stream ended early" })); return; }
    const chart = renderChart(result.columns, result.rows);
    if (chart) turn.append(chart);
    turn.append(renderTable(result.columns, result.rows));
    for (const d of result.database_results) {
      turn.append(el("details", {}, el("summary", { text: d.connection_name + " (" + d.database_type + "): " + (d.success ? d.row_count + " rows, " + d.execution_time_ms.toFixed(1) + " ms" : "failed") }),
        el("pre", { text: d.sql }), d.error ? el("p", { class: "error", text: d.error }) : null));
    }
    if (result.warnings.length) turn.append(el("ul", { class: "warnings", "aria-label": "Warnings" }, ...result.warnings.map((w) => el("li", { text: w }))));
    turn.append(el("p", { class: "meta", text: result.total_rows + " rows from " + result.total_databases_queried + " database(s) in " + Math.round(result.total_execution_time_ms) + " ms" + (result.cached ? " (cached)" : "") }));
    if (!state.sessionId) { state.sessionId = result.chat_session_id; }
    await loadSessions();
    const cur = state.sessions.find((s) => s.id === state.sessionId);
    if (cur && !$("session-name").value) $("session-name").value = cur.name || "";
    turn.scrollIntoView({ block: "end" });
  }

  async function onSubmit(e) {
    e.preventDefault();
    const q = $("question").value.trim();
    if (!q || state.busy) return;
    if (!state.sessionId && pickedIds().length === 0) { status("Pick at least one database."); return; }
    state.busy = true; $("ask-button").disabled = true; status("Asking…");
    try { await ask(q); $("question").value = ""; status(""); }
    catch (err) { status(err.message); $("log").lastElementChild?.append(el("p", { class: "error", text: err.message })); }
    finally { state.busy = false; $("ask-button").disabled = false; $("question").focus(); }
  }

  $("ask").addEventListener("submit", onSubmit);
  $("question").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("ask").requestSubmit(); } });
  $("new-session").addEventListener("click", newSession);
  $("rename").addEventListener("click", () => renameSession().catch((e) => status(e.message)));
  $("delete").addEventListener("click", () => deleteSession().catch((e) => status(e.message)));
  document.addEventListener("keydown", (e) => { if (e.altKey && e.key.toLowerCase() === "n") { e.preventDefault(); newSession(); } });
  Promise.all([loadConnections(), loadSessions()]).then(() => { document.body.dataset.ready = "1"; $("question").focus(); })
    .catch((e) => status("Could not load: " + e.message));
})();
