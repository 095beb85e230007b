// The page of runs: hash routes (#/runs, #/runs/<id>, #/events, #/events/<id>, #/apps,
// #/send) over the engine's GraphQL API (POST /v0/gql), refreshed whenever the engine's
// timeline moves (GET /ui/timeline?after=N waits for the next line).
"use strict";

const view = document.getElementById("view");
const state = { status: "", fn: "", seq: 0, refreshing: false, again: false };

async function gql(query, variables) {
  const res = await fetch("/v0/gql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables: variables || {} }),
  });
  const body = await res.json();
  if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

function esc(text) {
  return String(text == null ? "" : text).replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
const badge = (status) => `<span class="badge s-${esc(status)}">${esc(cap(status))}</span>`;
const cap = (s) => (s ? s.charAt(0) + s.slice(1).toLowerCase().replace(/_/g, " ") : "");
const short = (id) => (id ? id.slice(-8) : "");
function when(t) {
  if (!t) return "";
  const d = new Date(t);
  const secs = Math.round((Date.now() - d.getTime()) / 1000);
  let rel;
  if (secs < 5) rel = "just now";
  else if (secs < 60) rel = `${secs}s ago`;
  else if (secs < 3600) rel = `${Math.floor(secs / 60)}m ago`;
  else if (secs < 86400) rel = `${Math.floor(secs / 3600)}h ago`;
  else rel = d.toLocaleDateString();
  return `<span title="${esc(d.toLocaleString())}">${rel}</span>`;
}
function dur(ms) {
  if (ms == null) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60000);
  if (m < 60) return `${m}m ${Math.round((ms % 60000) / 1000)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}
function between(a, b) {
  if (!a) return null;
  return (b ? new Date(b) : new Date()).getTime() - new Date(a).getTime();
}
function pretty(text) {
  if (text == null) return "";
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return String(text); }
}
function setNav(name) {
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.nav === name));
}

const RUN_FIELDS = `id status eventName cronSchedule queuedAt startedAt endedAt function { slug name appName }`;

async function runsView() {
  setNav("runs");
  const filter = { from: "1970-01-01T00:00:00Z" };
  if (state.status) filter.status = [state.status];
  if (state.fn) filter.functionIDs = [state.fn];
  const data = await gql(`query Runs($filter: RunsFilterV2!) {
      runs(first: 200, filter: $filter, orderBy: [{field: QUEUED_AT, direction: DESC}]) {
        totalCount edges { node { ${RUN_FIELDS} } } }
      functions { slug name } }`, { filter });
  const chips = ["", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"].map((s) =>
    `<button class="chip ${state.status === s ? "on" : ""}" data-status="${s}">${s ? cap(s) : "All"}</button>`).join("");
  const options = (data.functions || []).map((f) =>
    `<option value="${esc(f.slug)}" ${state.fn === f.slug ? "selected" : ""}>${esc(f.name)} (${esc(f.slug)})</option>`).join("");
  const rows = data.runs.edges.map(({ node: r }) => `
    <tr class="clickable run-row" data-run="${esc(r.id)}">
      <td>${badge(r.status)}</td>
      <td><div class="name">${esc(r.function.name)}</div><div class="muted mono">${esc(r.function.slug)}</div></td>
      <td class="mono">${esc(r.cronSchedule ? "cron " + r.cronSchedule : r.eventName)}</td>
      <td>${when(r.startedAt)}</td>
      <td>${dur(between(r.startedAt, r.endedAt))}</td>
      <td class="mono muted">${esc(short(r.id))}</td>
    </tr>`).join("");
  view.innerHTML = `
    <div class="head"><h1>Runs</h1><span class="muted">${data.runs.totalCount} run(s)</span></div>
    <div class="filters">${chips}<span class="spacer"></span>
      <select id="fn-filter"><option value="">All functions</option>${options}</select></div>
    <div class="panel">${rows ? `<table id="runs-table"><thead><tr><th>Status</th><th>Function</th>
      <th>Trigger</th><th>Started</th><th>Duration</th><th>Run</th></tr></thead><tbody>${rows}</tbody></table>`
      : `<div class="empty">No runs yet. <a href="#/send">Send an event</a> to start one.</div>`}</div>`;
  view.querySelectorAll(".chip").forEach((b) => b.onclick = () => { state.status = b.dataset.status; refresh(); });
  view.querySelector("#fn-filter").onchange = (e) => { state.fn = e.target.value; refresh(); };
  view.querySelectorAll(".run-row").forEach((tr) => tr.onclick = () => { location.hash = `#/runs/${tr.dataset.run}`; });
}

const SPAN = `name status attempts duration outputID startedAt endedAt queuedAt stepOp stepID
  stepInfo { ... on SleepStepInfo { sleepUntil } ... on WaitForEventStepInfo { eventName expression timeout timedOut }
             ... on InvokeStepInfo { functionID } }`;

async function runView(id) {
  setNav("runs");
  const open = new Set([...view.querySelectorAll("details.step[open]")].map((d) => d.dataset.step));
  const data = await gql(`query Run($id: String!) {
      run(runID: $id) { ${RUN_FIELDS} output sourceID
        trace { ${SPAN} outputID childrenSpans { ${SPAN} childrenSpans { ${SPAN} } } }
        triggeredRuns { ${RUN_FIELDS} } }
      runTrigger(runID: $id) { eventName IDs payloads cron } }`, { id });
  const r = data.run;
  const trig = data.runTrigger;
  const steps = (r.trace && r.trace.childrenSpans) || [];
  const runMs = between(r.startedAt, r.endedAt) || 1;
  const t0 = new Date(r.startedAt).getTime();
  const stepRows = steps.map((s, i) => {
    const key = s.stepID || String(i);
    const left = s.startedAt ? Math.max(0, (new Date(s.startedAt).getTime() - t0) / runMs * 100) : 0;
    const width = s.duration != null ? Math.max(1.5, s.duration / runMs * 100) : 2;
    const attempts = s.childrenSpans && s.childrenSpans.length ? s.childrenSpans : [s];
    return `<li><details class="step" data-step="${esc(key)}" ${open.has(key) ? "open" : ""}>
      <summary><span class="n">${i + 1}</span>
        <span><span class="name">${esc(s.name)}</span> <span class="kind">${esc(kind(s))}</span></span>
        <span>${badge(s.status)}</span>
        <span class="hide-sm"><div class="bar"><span style="left:${left.toFixed(1)}%;width:${Math.min(width, 100 - left).toFixed(1)}%"></span></div></span>
        <span class="muted hide-sm">${attempts.length > 1 ? attempts.length + " attempts" : ""}</span>
        <span class="muted">${dur(s.duration)}</span></summary>
      <div class="body">${info(s)}${attempts.map((a, n) => `<div class="attempt" data-output="${esc(a.outputID || "")}">
        <div class="label">${attempts.length > 1 ? `Attempt ${n + 1} · ` : ""}${badge(a.status)}
          ${a.startedAt ? " · started " + esc(new Date(a.startedAt).toLocaleTimeString()) : ""}
          ${a.duration != null ? " · " + dur(a.duration) : ""}</div>
        <div class="out">${a.outputID ? '<span class="muted">…</span>' : '<span class="muted">no output</span>'}</div></div>`).join("")}</div>
    </details></li>`;
  }).join("");
  const handlers = (r.triggeredRuns || []).map((h) => `<tr class="clickable run-row" data-run="${esc(h.id)}">
      <td>${badge(h.status)}</td><td>${esc(h.function.name)}</td><td class="mono">${esc(h.eventName)}</td>
      <td>${dur(between(h.startedAt, h.endedAt))}</td></tr>`).join("");
  let failure = null;
  if (r.status === "FAILED" && r.output) { try { failure = JSON.parse(r.output); } catch (_) { failure = null; } }
  const outputBox = r.output == null ? `<p class="muted">${r.status === "RUNNING" ? "Still running…" : "No output."}</p>`
    : failure && failure.message ? `<div id="run-output">${errorBox(failure)}</div>`
    : `<pre class="json ${r.status === "FAILED" ? "error" : ""}" id="run-output">${esc(pretty(r.output))}</pre>`;
  view.innerHTML = `
    <p><a href="#/runs">← Runs</a></p>
    <div class="head"><h1>${esc(r.function.name)}</h1>${badge(r.status)}<span class="spacer"></span>
      <button class="danger" id="cancel-run" ${r.status === "RUNNING" ? "" : "disabled"}>Cancel run</button>
      <button id="rerun">Rerun</button></div>
    <div id="notice"></div>
    <div class="facts">
      <div><div class="k">Run</div><div class="v mono">${esc(r.id)}</div></div>
      <div><div class="k">Function</div><div class="v mono">${esc(r.function.slug)}</div></div>
      <div><div class="k">Trigger</div><div class="v mono">${trig.cron ? "cron " + esc(trig.cron) :
        `<a href="#/events/${esc(trig.IDs[0] || "")}">${esc(trig.eventName)}</a>`}</div></div>
      <div><div class="k">Started</div><div class="v">${esc(new Date(r.startedAt).toLocaleString())}</div></div>
      <div><div class="k">Duration</div><div class="v">${dur(between(r.startedAt, r.endedAt))}${r.endedAt ? "" : " so far"}</div></div>
    </div>
    ${r.sourceID ? `<p class="muted">Started because of run <a href="#/runs/${esc(r.sourceID)}" class="mono">${esc(r.sourceID)}</a>.</p>` : ""}
    <h2>Steps</h2>
    <div class="panel"><ul class="steps" id="steps">${stepRows || `<li class="empty">No steps reported yet.</li>`}</ul></div>
    <h2>${r.status === "FAILED" ? "Error" : "Output"}</h2>${outputBox}
    ${handlers ? `<h2>Runs this run started</h2><div class="panel"><table id="handlers"><thead><tr><th>Status</th>
      <th>Function</th><th>Trigger</th><th>Duration</th></tr></thead><tbody>${handlers}</tbody></table></div>` : ""}
    <h2>Event</h2>${trig.payloads.map((p) => `<pre class="json">${esc(pretty(p))}</pre>`).join("")}`;
  view.querySelectorAll(".run-row").forEach((tr) => tr.onclick = () => { location.hash = `#/runs/${tr.dataset.run}`; });
  view.querySelectorAll("details.step").forEach((d) => {
    d.addEventListener("toggle", () => { if (d.open) loadOutputs(d); });
    if (d.open) loadOutputs(d);
  });
  document.getElementById("cancel-run").onclick = async () => {
    try { await gql(`mutation($id: ULID!) { cancelRun(runID: $id) { id } }`, { id }); refresh(); }
    catch (e) { notice(e.message, true); }
  };
  document.getElementById("rerun").onclick = async () => {
    try {
      const res = await gql(`mutation($id: ULID!) { rerun(runID: $id) }`, { id });
      location.hash = `#/runs/${res.rerun}`;
    } catch (e) { notice(e.message, true); }
  };
}

function kind(s) {
  return { RUN: "step.run", SLEEP: "sleep", WAIT_FOR_EVENT: "wait for event", INVOKE: "invoke" }[s.stepOp] || "";
}
function info(s) {
  const i = s.stepInfo;
  if (!i) return "";
  if (i.sleepUntil) return `<p class="muted">Sleeps until ${esc(new Date(i.sleepUntil).toLocaleString())}</p>`;
  if (i.eventName) return `<p class="muted">Waits for <span class="mono">${esc(i.eventName)}</span>${i.expression ?
    ` where <span class="mono">${esc(i.expression)}</span>` : ""}${i.timedOut ? " (timed out)" : ""}</p>`;
  if (i.functionID) return `<p class="muted">Invokes <span class="mono">${esc(i.functionID)}</span></p>`;
  return "";
}
async function loadOutputs(details) {
  for (const a of details.querySelectorAll(".attempt[data-output]")) {
    const id = a.dataset.output;
    if (!id || a.dataset.loaded) continue;
    a.dataset.loaded = "1";
    try {
      const d = await gql(`query($id: String!) { runTraceSpanOutputByID(outputID: $id) { data error { name message stack } } }`, { id });
      const o = d.runTraceSpanOutputByID;
      a.querySelector(".out").innerHTML = o.error ? errorBox(o.error) : `<pre class="json">${esc(pretty(o.data))}</pre>`;
    } catch (e) { a.querySelector(".out").textContent = e.message; }
  }
}
function errorBox(e) {
  const head = `<pre class="json error">${esc((e.name ? e.name + ": " : "") + (e.message || ""))}</pre>`;
  return e.stack ? head + `<details class="stack"><summary>Stack trace</summary><pre class="json error">${esc(e.stack)}</pre></details>` : head;
}
function notice(text, bad) {
  const n = document.getElementById("notice");
  if (n) n.innerHTML = `<div class="notice ${bad ? "err" : "ok"}">${esc(text)}</div>`;
}

async function eventsView() {
  setNav("events");
  const data = await gql(`query { eventsV2(first: 100, filter: {from: "1970-01-01T00:00:00Z", includeInternalEvents: true}) {
      totalCount edges { node { id name receivedAt runs { id status function { name } } } } } }`);
  const rows = data.eventsV2.edges.map(({ node: e }) => `
    <tr class="clickable event-row" data-event="${esc(e.id)}">
      <td class="mono">${esc(e.name)}</td><td>${when(e.receivedAt)}</td>
      <td>${e.runs.length ? e.runs.map((r) => badge(r.status) + " " + esc(r.function.name)).join("<br>") : '<span class="muted">no runs</span>'}</td>
      <td class="mono muted">${esc(short(e.id))}</td></tr>`).join("");
  view.innerHTML = `<div class="head"><h1>Events</h1><span class="muted">${data.eventsV2.totalCount} event(s)</span>
      <span class="spacer"></span><a href="#/send"><button class="primary">Send event</button></a></div>
    <div class="panel">${rows ? `<table><thead><tr><th>Name</th><th>Received</th><th>Runs</th><th>Id</th></tr></thead>
      <tbody>${rows}</tbody></table>` : `<div class="empty">No events yet.</div>`}</div>`;
  view.querySelectorAll(".event-row").forEach((tr) => tr.onclick = () => { location.hash = `#/events/${tr.dataset.event}`; });
}

async function eventView(id) {
  setNav("events");
  const data = await gql(`query($id: ULID!) { eventV2(id: $id) { id name raw receivedAt runs { ${RUN_FIELDS} } } }`, { id });
  const e = data.eventV2;
  const rows = e.runs.map((r) => `<tr class="clickable run-row" data-run="${esc(r.id)}"><td>${badge(r.status)}</td>
      <td>${esc(r.function.name)}</td><td>${when(r.startedAt)}</td><td>${dur(between(r.startedAt, r.endedAt))}</td></tr>`).join("");
  view.innerHTML = `<p><a href="#/events">← Events</a></p>
    <div class="head"><h1 class="mono">${esc(e.name)}</h1><span class="muted">received ${when(e.receivedAt)}</span></div>
    <div class="grid2"><div><h2>Payload</h2><pre class="json">${esc(pretty(e.raw))}</pre></div>
    <div><h2>Runs it started</h2><div class="panel">${rows ? `<table><tbody>${rows}</tbody></table>` :
      `<div class="empty">This event started no run.</div>`}</div></div></div>`;
  view.querySelectorAll(".run-row").forEach((tr) => tr.onclick = () => { location.hash = `#/runs/${tr.dataset.run}`; });
}

async function appsView() {
  setNav("apps");
  const data = await gql(`query { apps { id name url sdkLanguage sdkVersion functionCount
      functions { slug name config retries triggers { type value condition } } } }`);
  const options = (config) => {
    const c = JSON.parse(config || "{}");
    const out = [];
    for (const [k, label] of [["concurrency", "concurrency"], ["throttle", "throttle"], ["rateLimit", "rate limit"],
      ["debounce", "debounce"], ["batchEvents", "batch"], ["idempotency", "idempotency"], ["cancel", "cancel on"],
      ["priority", "priority"], ["singleton", "singleton"], ["timeouts", "timeouts"]]) {
      const v = c[k];
      if (v == null || (Array.isArray(v) && !v.length)) continue;
      out.push(`<span class="tag" title="${esc(JSON.stringify(v))}">${label}: ${esc(summary(v))}</span>`);
    }
    return out.join("");
  };
  const apps = data.apps.map((a) => `<h2>${esc(a.name)} <span class="muted">· ${esc(a.sdkLanguage)} ${esc(a.sdkVersion)}
      · <span class="mono">${esc(a.url)}</span></span></h2>
    <div class="panel">${a.functions.map((f) => `<div class="fn"><div class="row"><strong>${esc(f.name)}</strong>
      <span class="mono muted">${esc(f.slug)}</span><span class="spacer"></span>
      <a href="#/runs" data-fn="${esc(f.slug)}" class="fn-runs">runs →</a></div>
      <div class="tags">${(f.triggers || []).map((t) => `<span class="tag trigger">${t.type === "CRON" ? "cron " : ""}${esc(t.value)}${t.condition ?
        " if " + esc(t.condition) : ""}</span>`).join("")}<span class="tag">retries: ${f.retries}</span>${options(f.config)}</div></div>`).join("")
      || '<div class="empty">No functions.</div>'}</div>`).join("");
  view.innerHTML = `<div class="head"><h1>Apps</h1></div>${apps || `<div class="panel empty">No app is synced.
    Point an app at this engine (for the JS and Python SDKs: <span class="mono">INNGEST_DEV=${esc(location.origin)}</span>)
    and sync it, or start the engine with <span class="mono">-u &lt;app URL&gt;</span>.</div>`}`;
  view.querySelectorAll(".fn-runs").forEach((a) => a.onclick = () => { state.fn = a.dataset.fn; state.status = ""; });
}
function summary(v) {
  if (typeof v !== "object") return String(v);
  if (Array.isArray(v)) return v.map(summary).join(", ");
  return Object.entries(v).map(([k, x]) => `${k}=${typeof x === "object" ? JSON.stringify(x) : x}`).join(" ");
}

async function sendView() {
  setNav("send");
  const data = await gql(`query { functions { triggers { type value } } }`);
  const names = [...new Set((data.functions || []).flatMap((f) => (f.triggers || [])
    .filter((t) => t.type === "EVENT" && !t.value.startsWith("inngest/")).map((t) => t.value)))];
  view.innerHTML = `<div class="head"><h1>Send an event</h1></div>
    <div class="panel pad" style="max-width:720px">
      <label class="field" for="event-name">Name</label>
      <input id="event-name" list="event-names" style="width:100%" placeholder="app/user.signup" value="${esc(names[0] || "")}">
      <datalist id="event-names">${names.map((n) => `<option value="${esc(n)}">`).join("")}</datalist>
      <label class="field" for="event-data">Data (JSON)</label>
      <textarea id="event-data">{\n  \n}</textarea>
      <div class="row" style="margin-top:12px"><button class="primary" id="send-event">Send event</button>
        <span id="send-result" class="muted"></span></div></div>`;
  document.getElementById("send-event").onclick = async () => {
    const out = document.getElementById("send-result");
    let data;
    try { data = JSON.parse(document.getElementById("event-data").value || "{}"); }
    catch (e) { out.innerHTML = `<span style="color:var(--red)">The data is not JSON: ${esc(e.message)}</span>`; return; }
    const name = document.getElementById("event-name").value.trim();
    if (!name) { out.innerHTML = `<span style="color:var(--red)">The event needs a name.</span>`; return; }
    try {
      const res = await gql(`mutation($e: Map!) { sendEvent(events: $e) }`, { e: { name, data } });
      const id = res.sendEvent[0];
      out.innerHTML = `Sent: <a id="sent-event" href="#/events/${esc(id)}" class="mono">${esc(id)}</a>`;
    } catch (e) { out.innerHTML = `<span style="color:var(--red)">${esc(e.message)}</span>`; }
  };
}

function route() {
  const parts = (location.hash || "#/runs").slice(2).split("/");
  switch (parts[0]) {
    case "runs": return parts[1] ? runView(decodeURIComponent(parts[1])) : runsView();
    case "events": return parts[1] ? eventView(decodeURIComponent(parts[1])) : eventsView();
    case "apps": return appsView();
    case "send": return sendView();
    default: return runsView();
  }
}

async function refresh(fromTimeline) {
  // The send form keeps what the user typed: it is not redrawn by the timeline.
  if (fromTimeline && (location.hash || "").startsWith("#/send")) return;
  if (state.refreshing) { state.again = true; return; }
  state.refreshing = true;
  try { await route(); }
  catch (e) { view.innerHTML = `<div class="notice err">${esc(e.message)}</div>`; }
  finally {
    state.refreshing = false;
    if (state.again) { state.again = false; refresh(fromTimeline); }
  }
}

async function follow() {
  const box = document.getElementById("timeline");
  const live = document.getElementById("live");
  for (;;) {
    try {
      const res = await fetch(`/ui/timeline?after=${state.seq}`);
      const body = await res.json();
      live.classList.remove("off");
      if (body.lines.length) {
        const first = state.seq === 0;
        state.seq = body.seq;
        box.textContent += body.lines.map((l) => l[1]).join("\n") + "\n";
        const lines = box.textContent.split("\n");
        if (lines.length > 400) box.textContent = lines.slice(-400).join("\n");
        box.scrollTop = box.scrollHeight;
        document.getElementById("timeline-count").textContent = `· ${body.seq} entries`;
        if (!first) refresh(true);
      } else {
        state.seq = Math.max(state.seq, body.seq);
      }
    } catch (_) {
      live.classList.add("off");
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

window.addEventListener("hashchange", () => refresh());
refresh();
follow();
setInterval(() => { if (!document.hidden && (location.hash || "#/runs").startsWith("#/runs")) refresh(true); }, 15000);
