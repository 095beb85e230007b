// Probe the JS peer (server.mjs) with hand-built call requests and record its
// exact answers. Everything runs on loopback and is bounded in time.
//
//   node probe.mjs                 # prints a JSON report on stdout
//   node probe.mjs --out FILE.json # also writes the JSON report to FILE.json
//   node probe.mjs --md FILE.md    # also writes per-request markdown sections
//
// It starts:
//   * a fake Inngest dev server/API (node http) on a free loopback port, which
//     records every request it receives (register, checkpoints, ...);
//   * server.mjs twice as child processes with INNGEST_DEV pointing at the fake:
//     once with checkpointing off (the classic protocol, main reference) and
//     once with inngest v4's default (checkpointing on), for a supplement.
import http from "node:http";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const sha1 = (s) => createHash("sha1").update(s, "utf8").digest("hex");
const APP = "peer-app";
const RUN_ID = "01JPEERRUN0000000000000000";
const FN_UUID = "6d1f1e5e-0000-4000-8000-000000000001";
const TS = 1700000000000;

// ---------------------------------------------------------------- fake server
const fake = { requests: [], registerStatus: 200, registerBody: { ok: true, modified: true } };
const fakeServer = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const raw = Buffer.concat(chunks).toString("utf8");
    let body = raw;
    try { body = raw ? JSON.parse(raw) : null; } catch {}
    fake.requests.push({ method: req.method, url: req.url, headers: req.headers, body });
    const path = req.url.split("?")[0];
    if (path === "/fn/register") {
      res.writeHead(fake.registerStatus, { "content-type": "application/json", "x-inngest-server-kind": "dev" });
      res.end(typeof fake.registerBody === "string" ? fake.registerBody : JSON.stringify(fake.registerBody));
      return;
    }
    if (path.startsWith("/v1/checkpoint")) {
      res.writeHead(200, { "content-type": "application/json", "x-inngest-server-kind": "dev" });
      res.end(JSON.stringify({ data: {} }));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "not found" }));
  });
});
await new Promise((r) => fakeServer.listen(0, "127.0.0.1", r));
const fakePort = fakeServer.address().port;
const fakeUrl = `http://127.0.0.1:${fakePort}`;

// ----------------------------------------------------------------- the peers
const children = [];
async function startPeer(extraEnv) {
  const child = spawn(process.execPath, [join(here, "server.mjs")], {
    cwd: here,
    env: { ...process.env, PORT: "0", INNGEST_DEV: fakeUrl, ...extraEnv },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("peer did not start in 20s")), 20000);
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const m = buf.match(/LISTENING (\d+)/);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    child.on("exit", (code) => { clearTimeout(t); reject(new Error("peer exited " + code)); });
  });
  return `http://127.0.0.1:${port}/api/inngest`;
}
const killAll = () => { for (const c of children) if (c.exitCode === null) c.kill("SIGTERM"); };
const hardStop = setTimeout(() => { console.error("probe: global timeout"); killAll(); process.exit(2); }, 120000);

// ------------------------------------------------------------------- helpers
const ev = (name, data) => ({ id: "01JPEEREVENT00000000000000", name, data, user: {}, ts: TS });

function callBody({ event, steps = {}, stepId = "step", attempt = 0, maxAttempts = 4,
  stack, die = false, version = 2, extraCtx = {} }) {
  return {
    event,
    events: [event],
    steps,
    version,
    use_api: false,
    ctx: {
      fn_id: FN_UUID,
      run_id: RUN_ID,
      env: "",
      step_id: stepId,
      attempt,
      max_attempts: maxAttempts,
      stack: { stack: stack ?? Object.keys(steps), current: (stack ?? Object.keys(steps)).length },
      disable_immediate_execution: die,
      use_api: false,
      ...extraCtx,
    },
  };
}

const DROP = new Set(["date", "connection", "keep-alive", "transfer-encoding", "content-length"]);
async function send(base, { method = "POST", query = "", body, rawBody, headers = {} }) {
  const url = base + query;
  const init = { method, headers: { ...headers } };
  if (rawBody !== undefined) {
    init.body = rawBody;
    init.headers["content-type"] ??= "application/json";
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] ??= "application/json";
  }
  let res;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(15000) });
  } catch (err) {
    return { status: null, headers: {}, body: `<no HTTP response: ${err.cause?.code ?? err.cause?.message ?? err.message}>` };
  }
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  const hdrs = {};
  for (const [k, v] of res.headers) {
    if (DROP.has(k)) continue;
    hdrs[k] = k === "server-timing" ? "<varies>" : v;
  }
  return { status: res.status, headers: hdrs, body: json === undefined ? text : json };
}

const results = [];
async function probe(base, name, req, describe) {
  const before = fake.requests.length;
  const t0 = Date.now();
  const answer = await send(base, req);
  answer.elapsedMs = Date.now() - t0;
  // Give any background request (register, checkpoint) a moment to land.
  await new Promise((r) => setTimeout(r, 150));
  const sideRequests = fake.requests.slice(before);
  const entry = {
    name,
    describe,
    request: {
      method: req.method ?? "POST",
      query: req.query ?? "",
      headers: req.headers ?? {},
      body: req.rawBody !== undefined ? req.rawBody : req.body,
    },
    response: answer,
  };
  if (sideRequests.length) entry.sideRequests = sideRequests;
  results.push(entry);
  return entry;
}
const q = (fn, stepId = "step") => `?fnId=${APP}-${fn}&stepId=${stepId}`;

// ===================================================================== probes
try {
  const base = await startPeer({ PEER_CHECKPOINTING: "0" });

  await probe(base, "GET", { method: "GET" }, "GET introspection, dev mode, no signature");

  // hello
  const helloEv = ev("test/hello", { name: "bob" });
  await probe(base, "hello: discovery", { query: q("hello"), body: callBody({ event: helloEv }) },
    "first call, no memo, version 2");
  await probe(base, "hello: discovery, version -1", { query: q("hello"), body: callBody({ event: helloEv, version: -1 }) },
    "first call of a new run, version -1 (undecided)");

  // two-steps
  const stepsEv = ev("test/steps", {});
  const hFirst = sha1("first"), hSecond = sha1("second");
  await probe(base, "two-steps: discovery", { query: q("two-steps"), body: callBody({ event: stepsEv }) },
    "no memo, immediate execution allowed");
  await probe(base, "two-steps: first memoized", {
    query: q("two-steps"),
    body: callBody({ event: stepsEv, steps: { [hFirst]: { data: "one" } } }),
  }, "steps = {sha1(first): {data: \"one\"}}");
  await probe(base, "two-steps: both memoized", {
    query: q("two-steps"),
    body: callBody({ event: stepsEv, steps: { [hFirst]: { data: "one" }, [hSecond]: { data: "one-two" } } }),
  }, "both steps memoized → function completes");
  await probe(base, "two-steps: discovery, disable_immediate_execution", {
    query: q("two-steps"),
    body: callBody({ event: stepsEv, die: true }),
  }, "no memo, ctx.disable_immediate_execution = true");
  await probe(base, "two-steps: targeted first", {
    query: q("two-steps", hFirst),
    body: callBody({ event: stepsEv, stepId: hFirst, die: true }),
  }, "stepId = sha1(first), no memo");
  await probe(base, "two-steps: targeted second, first memoized", {
    query: q("two-steps", hSecond),
    body: callBody({ event: stepsEv, stepId: hSecond, die: true, steps: { [hFirst]: { data: "one" } } }),
  }, "stepId = sha1(second), first memoized");
  await probe(base, "two-steps: targeted step that does not exist", {
    query: q("two-steps", sha1("nope")),
    body: callBody({ event: stepsEv, stepId: sha1("nope"), die: true }),
  }, "stepId = sha1(\"nope\") which the function never reaches");
  await probe(base, "two-steps: raw (unwrapped) memo value", {
    query: q("two-steps"),
    body: callBody({ event: stepsEv, steps: { [hFirst]: "one" } }),
  }, "steps = {sha1(first): \"one\"} (legacy unwrapped value)");

  // parallel
  const parEv = ev("test/parallel", {});
  const hLeft = sha1("left"), hRight = sha1("right");
  await probe(base, "parallel: discovery", { query: q("parallel"), body: callBody({ event: parEv }) },
    "no memo; two steps found together");
  await probe(base, "parallel: targeted left", {
    query: q("parallel", hLeft),
    body: callBody({ event: parEv, stepId: hLeft, die: true }),
  }, "stepId = sha1(left), disable_immediate_execution = true");
  await probe(base, "parallel: targeted right", {
    query: q("parallel", hRight),
    body: callBody({ event: parEv, stepId: hRight, die: true }),
  }, "stepId = sha1(right), disable_immediate_execution = true");
  await probe(base, "parallel: left memoized, discovery", {
    query: q("parallel"),
    body: callBody({ event: parEv, die: true, steps: { [hLeft]: { data: 1 } } }),
  }, "only left memoized (v1-style intermediate discovery)");
  await probe(base, "parallel: both memoized", {
    query: q("parallel"),
    body: callBody({ event: parEv, die: false, steps: { [hLeft]: { data: 1 }, [hRight]: { data: 2 } } }),
  }, "both memoized, stack [left, right]");

  // step-throws (retries 2 → max_attempts 3)
  const stEv = ev("test/step-throws", {});
  const hFlaky = sha1("flaky");
  await probe(base, "step-throws: discovery attempt 0/3", {
    query: q("step-throws"),
    body: callBody({ event: stEv, attempt: 0, maxAttempts: 3 }),
  }, "attempt 0, max_attempts 3 (not last)");
  await probe(base, "step-throws: discovery attempt 2/3 (last)", {
    query: q("step-throws"),
    body: callBody({ event: stEv, attempt: 2, maxAttempts: 3 }),
  }, "attempt 2, max_attempts 3 (last attempt)");
  await probe(base, "step-throws: targeted flaky attempt 0/3", {
    query: q("step-throws", hFlaky),
    body: callBody({ event: stEv, stepId: hFlaky, die: true, attempt: 0, maxAttempts: 3 }),
  }, "stepId = sha1(flaky), attempt 0");
  await probe(base, "step-throws: targeted flaky attempt 2/3 (last)", {
    query: q("step-throws", hFlaky),
    body: callBody({ event: stEv, stepId: hFlaky, die: true, attempt: 2, maxAttempts: 3 }),
  }, "stepId = sha1(flaky), attempt 2 (last)");
  await probe(base, "step-throws: flaky memoized as error", {
    query: q("step-throws"),
    body: callBody({
      event: stEv,
      attempt: 0,
      maxAttempts: 3,
      steps: { [hFlaky]: { error: { name: "Error", message: "flaky failed", stack: "Error: flaky failed\n    at <memo>" } } },
    }),
  }, "steps = {sha1(flaky): {error: {...}}}: uncaught step error in the function");

  // step-nonretriable (default retries → max_attempts 5)
  const snEv = ev("test/step-nonretriable", {});
  await probe(base, "step-nonretriable: discovery attempt 0/5", {
    query: q("step-nonretriable"),
    body: callBody({ event: snEv, attempt: 0, maxAttempts: 5 }),
  }, "NonRetriableError thrown inside step.run, attempt 0");

  // fn-throws
  const ftEv = ev("test/fn-throws", {});
  await probe(base, "fn-throws: attempt 0/5", {
    query: q("fn-throws"), body: callBody({ event: ftEv, attempt: 0, maxAttempts: 5 }),
  }, "Error thrown outside any step, attempt 0");
  await probe(base, "fn-throws: attempt 4/5 (last)", {
    query: q("fn-throws"), body: callBody({ event: ftEv, attempt: 4, maxAttempts: 5 }),
  }, "Error thrown outside any step, last attempt");

  await probe(base, "fn-nonretriable", {
    query: q("fn-nonretriable"), body: callBody({ event: ev("test/fn-nonretriable", {}), maxAttempts: 5 }),
  }, "NonRetriableError thrown outside any step");
  await probe(base, "fn-retry-after", {
    query: q("fn-retry-after"), body: callBody({ event: ev("test/fn-retry-after", {}), maxAttempts: 5 }),
  }, "RetryAfterError(\"later\", 30000) thrown outside any step");

  // repeat-ids
  const rEv = ev("test/repeat-ids", {});
  const hSame0 = sha1("same"), hSame1 = sha1("same:1"), hSame2 = sha1("same:2");
  await probe(base, "repeat-ids: discovery", { query: q("repeat-ids"), body: callBody({ event: rEv }) },
    "no memo");
  await probe(base, "repeat-ids: first two memoized", {
    query: q("repeat-ids"),
    body: callBody({ event: rEv, steps: { [hSame0]: { data: 0 }, [hSame1]: { data: 1 } } }),
  }, "steps = {sha1(same): {data:0}, sha1(same:1): {data:1}}");
  await probe(base, "repeat-ids: all memoized", {
    query: q("repeat-ids"),
    body: callBody({ event: rEv, steps: { [hSame0]: { data: 0 }, [hSame1]: { data: 1 }, [hSame2]: { data: 2 } } }),
  }, "all three memoized");

  // with-failure
  const fEv = ev("test/fails", { x: 1 });
  await probe(base, "with-failure: body", {
    query: q("with-failure"), body: callBody({ event: fEv, maxAttempts: 5 }),
  }, "body throws NonRetriableError(\"boom\")");
  const failedEv = {
    id: "01JPEERFAILED0000000000000",
    name: "inngest/function.failed",
    data: {
      function_id: `${APP}-with-failure`,
      run_id: RUN_ID,
      error: { error: "NonRetriableError", name: "NonRetriableError", message: "boom", stack: "NonRetriableError: boom\n    at <original>" },
      event: fEv,
    },
    user: {},
    ts: TS + 1000,
  };
  const hNotify = sha1("notify");
  await probe(base, "with-failure-failure: discovery", {
    query: q("with-failure-failure"), body: callBody({ event: failedEv, maxAttempts: 5 }),
  }, "failure handler, inngest/function.failed event, no memo");
  await probe(base, "with-failure-failure: notify memoized", {
    query: q("with-failure-failure"),
    body: callBody({ event: failedEv, maxAttempts: 5, steps: { [hNotify]: { data: `notified ${APP}-with-failure` } } }),
  }, "failure handler, notify memoized");

  // errors at the handler level
  await probe(base, "unknown fnId", {
    query: q("does-not-exist"), body: callBody({ event: helloEv }),
  }, "fnId=peer-app-does-not-exist");
  await probe(base, "bare fn id (no app prefix)", {
    query: "?fnId=hello&stepId=step", body: callBody({ event: helloEv }),
  }, "fnId=hello (not composite)");
  await probe(base, "missing fnId", { query: "", body: callBody({ event: helloEv }) },
    "POST with no query string");
  await probe(base, "malformed JSON body", { query: q("hello"), rawBody: "{not json" },
    "body = `{not json`");
  await probe(base, "empty body", { query: q("hello"), rawBody: "" },
    "body = empty string");
  await probe(base, "JSON body missing ctx/steps", {
    query: q("hello"), body: { event: helloEv },
  }, "body = {event} only");
  await probe(base, "DELETE", { method: "DELETE", query: "" }, "unsupported method");

  // PUT / register
  await probe(base, "PUT (sync)", {
    method: "PUT", query: "", headers: { "x-inngest-server-kind": "dev" }, body: { url: "http://ignored.example/api/inngest" },
  }, "PUT with X-Inngest-Server-Kind: dev; fake dev server answers 200 {ok:true, modified:true}");
  await probe(base, "PUT with deployId", {
    method: "PUT", query: "?deployId=dep-123", headers: { "x-inngest-server-kind": "dev" },
  }, "PUT ?deployId=dep-123");
  fake.registerStatus = 400;
  fake.registerBody = { error: "Expected server kind cloud, got dev" };
  await probe(base, "PUT, register fails", {
    method: "PUT", query: "", headers: { "x-inngest-server-kind": "dev" },
  }, "fake dev server answers 400 {error: ...}");
  fake.registerStatus = 502;
  fake.registerBody = "<html>bad gateway</html>";
  await probe(base, "PUT, register answers non-JSON", {
    method: "PUT", query: "", headers: { "x-inngest-server-kind": "dev" },
  }, "fake dev server answers 502 with an HTML body");
  fake.registerStatus = 200;
  fake.registerBody = { ok: true, modified: true };

  // --------------------------------------------- supplement: checkpointing on
  const baseCp = await startPeer({ PEER_CHECKPOINTING: "1" });
  await probe(baseCp, "CHECKPOINTING two-steps: discovery without qi_id", {
    query: q("two-steps"), body: callBody({ event: stepsEv }),
  }, "v4 default checkpointing; ctx has no qi_id");
  await probe(baseCp, "CHECKPOINTING two-steps: discovery with qi_id", {
    query: q("two-steps"), body: callBody({ event: stepsEv, extraCtx: { qi_id: "qi-123" } }),
  }, "v4 default checkpointing; ctx.qi_id set");
  await probe(baseCp, "CHECKPOINTING step-throws: discovery with qi_id attempt 0/3", {
    query: q("step-throws"), body: callBody({ event: stEv, maxAttempts: 3, extraCtx: { qi_id: "qi-124" } }),
  }, "v4 default checkpointing; step throws");
} finally {
  clearTimeout(hardStop);
  killAll();
  fakeServer.close();
}

const report = { sdk: "inngest@4.24.0", fakeDevServer: fakeUrl, results };
const args = process.argv.slice(2);
const outIdx = args.indexOf("--out");
if (outIdx >= 0) writeFileSync(args[outIdx + 1], JSON.stringify(report, null, 2) + "\n");
const mdIdx = args.indexOf("--md");
if (mdIdx >= 0) writeFileSync(args[mdIdx + 1], toMarkdown(report));
process.stdout.write(JSON.stringify(report, null, 2) + "\n");

function toMarkdown({ results }) {
  const pj = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));
  const fence = (lang, v) => "```" + lang + "\n" + v + "\n```\n\n";
  let md = "";
  let registerShown = false;
  for (const r of results) {
    md += `### ${r.name}\n\n${r.describe}\n\n`;
    md += `**Request** \`${r.request.method} /api/inngest${r.request.query}\``;
    if (Object.keys(r.request.headers).length) md += ` headers \`${JSON.stringify(r.request.headers)}\``;
    md += "\n\n";
    const b = r.request.body;
    if (b && typeof b === "object" && b.ctx) {
      const c = b.ctx;
      const extra = Object.keys(c).filter((k) => !["fn_id", "run_id", "env", "step_id", "attempt", "max_attempts", "stack", "disable_immediate_execution", "use_api"].includes(k));
      md += `- event: \`${b.event.name}\` data \`${JSON.stringify(b.event.data)}\`\n`;
      md += `- version \`${b.version}\`, ctx.step_id \`${c.step_id}\`, attempt \`${c.attempt}\`, max_attempts \`${c.max_attempts}\`, disable_immediate_execution \`${c.disable_immediate_execution}\`, stack \`${JSON.stringify(c.stack)}\``;
      if (extra.length) md += `, ${extra.map((k) => `${k} \`${JSON.stringify(c[k])}\``).join(", ")}`;
      md += "\n";
      md += `- steps: \`${JSON.stringify(b.steps)}\`\n\n`;
    } else if (b !== undefined) {
      md += fence("json", pj(b));
    }
    md += r.response.status === null
      ? `**Response**: none (after ${r.response.elapsedMs} ms)\n\n`
      : `**Response** status **${r.response.status}** (after ${r.response.elapsedMs} ms)\n\n`;
    if (r.response.status !== null) {
      md += fence("", Object.entries(r.response.headers).map(([k, v]) => `${k}: ${v}`).join("\n"));
      md += fence("json", pj(r.response.body));
    } else {
      md += fence("", String(r.response.body));
    }
    for (const s of r.sideRequests ?? []) {
      md += `**Request the SDK made to the fake dev server:** \`${s.method} ${s.url}\`\n\n`;
      md += fence("", Object.entries(s.headers).map(([k, v]) => `${k}: ${v}`).join("\n"));
      let body = s.body;
      if (s.url.startsWith("/fn/register") && body && typeof body === "object") {
        if (registerShown) body = { ...body, functions: `<${body.functions.length} functions, as in the first register payload above>` };
        registerShown = true;
      }
      md += fence("json", pj(body));
    }
  }
  return md;
}
