// Protocol peer: the official `inngest` JS SDK served with Node's own http
// server at http://127.0.0.1:$PORT/api/inngest, app id `peer-app`, dev mode.
//
// Environment:
//   PORT                 port to listen on (default 3939); 0 = pick a free one
//   INNGEST_DEV          defaults to "1" (dev mode, no signing). May also be a
//                        URL (e.g. http://127.0.0.1:8288), which then is the
//                        dev server / API origin used for register (PUT).
//   INNGEST_BASE_URL     optional API/event origin override.
//   PEER_APP_ID          the app id (default "peer-app").
//   PEER_TEN_EVENT       the event of `ten-steps` (default "test/ten-steps").
//   PEER_CHECKPOINTING   "0" turns checkpointing off. Default: inngest v4's
//                        own default, on (protocol-2.md §1): a discovery call
//                        with ctx.fn_id runs its steps one after another and
//                        posts them to <api>/v1/checkpoint/<run_id>/async.
//
// Prints one line `LISTENING <port>` on stdout once ready.
import http from "node:http";

if (!process.env.INNGEST_DEV) process.env.INNGEST_DEV = "1";

const { Inngest, NonRetriableError, RetryAfterError } = await import("inngest");
const { serve } = await import("inngest/node");

const inngest = new Inngest({
  id: process.env.PEER_APP_ID || "peer-app",
  ...(process.env.PEER_CHECKPOINTING === "0" ? { checkpointing: false } : {}),
  // Keep the peer quiet unless asked.
  logger:
    process.env.PEER_LOG === "1"
      ? console
      : { info() {}, warn() {}, error() {}, debug() {} },
});

const hello = inngest.createFunction(
  { id: "hello", retries: 3, triggers: [{ event: "test/hello" }] },
  async ({ event }) => ({ greeting: "hi " + event.data.name }),
);

const twoSteps = inngest.createFunction(
  { id: "two-steps", retries: 3, triggers: [{ event: "test/steps" }] },
  async ({ step }) => {
    const a = await step.run("first", () => "one");
    const b = await step.run("second", () => a + "-two");
    return { a, b };
  },
);

const parallel = inngest.createFunction(
  { id: "parallel", triggers: [{ event: "test/parallel" }] },
  async ({ step }) => {
    const [x, y] = await Promise.all([
      step.run("left", () => 1),
      step.run("right", () => 2),
    ]);
    return x + y;
  },
);

const stepThrows = inngest.createFunction(
  { id: "step-throws", retries: 2, triggers: [{ event: "test/step-throws" }] },
  async ({ step }) => {
    await step.run("flaky", () => {
      throw new Error("flaky failed");
    });
    return "unreachable";
  },
);

const stepNonRetriable = inngest.createFunction(
  { id: "step-nonretriable", triggers: [{ event: "test/step-nonretriable" }] },
  async ({ step }) => {
    await step.run("fatal", () => {
      throw new NonRetriableError("fatal step");
    });
  },
);

const fnThrows = inngest.createFunction(
  { id: "fn-throws", triggers: [{ event: "test/fn-throws" }] },
  async () => {
    throw new Error("function failed");
  },
);

const fnNonRetriable = inngest.createFunction(
  { id: "fn-nonretriable", triggers: [{ event: "test/fn-nonretriable" }] },
  async () => {
    throw new NonRetriableError("no retry please");
  },
);

const fnRetryAfter = inngest.createFunction(
  { id: "fn-retry-after", triggers: [{ event: "test/fn-retry-after" }] },
  async () => {
    throw new RetryAfterError("later", 30000);
  },
);

const repeatIds = inngest.createFunction(
  { id: "repeat-ids", triggers: [{ event: "test/repeat-ids" }] },
  async ({ step }) => {
    const out = [];
    for (let i = 0; i < 3; i++) {
      out.push(await step.run("same", () => i));
    }
    return out;
  },
);

const withFailure = inngest.createFunction(
  {
    id: "with-failure",
    triggers: [{ event: "test/fails" }],
    onFailure: async ({ event, error, step }) => {
      const r = await step.run(
        "notify",
        () => "notified " + event.data.function_id,
      );
      // The same sentence as the Rust twin (tests/support/functions.rs).
      return `${event.data.function_id} failed: ${event.data.error.message} (${r})`;
    },
  },
  async () => {
    throw new NonRetriableError("boom");
  },
);

// Twins of the step kinds in tests/support/functions.rs (peer-*).
const peerSleep = inngest.createFunction(
  { id: "peer-sleep", triggers: [{ event: "test/peer-sleep" }] },
  async ({ step }) => {
    await step.sleep("nap", 90_000); // "1m30s" as a string is sent with an empty name by inngest@4.24.0
    await step.sleep("long-nap", 9_900_000);
    return "rested";
  },
);

const peerWait = inngest.createFunction(
  { id: "peer-wait", triggers: [{ event: "test/peer-wait" }] },
  async ({ step }) => {
    const paid = await step.waitForEvent("wait-for-payment", {
      event: "app/invoice.paid",
      timeout: "1h",
      if: "event.data.invoice_id == async.data.invoice_id",
    });
    return paid ? "paid " + paid.data.invoice_id : "timed out";
  },
);

const peerChild = inngest.createFunction(
  { id: "peer-child", triggers: [{ event: "test/peer-child" }] },
  async ({ event }) => event.data.qty * 2,
);

const peerInvoke = inngest.createFunction(
  { id: "peer-invoke", triggers: [{ event: "test/peer-invoke" }] },
  async ({ step }) => {
    return await step.invoke("call-child", { function: peerChild, data: { qty: 21 } });
  },
);

const peerSend = inngest.createFunction(
  { id: "peer-send", triggers: [{ event: "test/peer-send" }] },
  async ({ step }) => {
    const sent = await step.sendEvent("fan-out", [
      { name: "app/one", data: { n: 1 } },
      { name: "app/two", data: { n: 2 } },
    ]);
    return sent.ids;
  },
);

const peerThree = inngest.createFunction(
  { id: "peer-three", triggers: [{ event: "test/peer-three" }] },
  async ({ step }) => {
    const [a, b, c] = await Promise.all([
      step.run("a", () => 1),
      step.run("b", () => 2),
      step.run("c", () => 3),
    ]);
    return a + b + c;
  },
);

// Twins for the engine compatibility test (tests/engine_peers.rs).
const engineSleep = inngest.createFunction(
  { id: "engine-sleep", triggers: [{ event: "test/engine-sleep" }] },
  async ({ step }) => {
    await step.sleep("nap", 1000);
    return "rested";
  },
);

let flakyCalls = 0;
const engineFlaky = inngest.createFunction(
  { id: "engine-flaky", retries: 2, triggers: [{ event: "test/engine-flaky" }] },
  async ({ step }) => {
    return await step.run("call-api", () => {
      flakyCalls += 1;
      if (flakyCalls === 1) throw new Error("flaky once");
      return "recovered";
    });
  },
);

// Flow control, checked against the engine (tests/flow/peers.rs): short periods, real time.
const flowConcurrency = inngest.createFunction(
  { id: "flow-concurrency", concurrency: { limit: 1 }, triggers: [{ event: "flow/js-concurrency" }] },
  async ({ step }) => {
    return await step.run("work", async () => {
      const start = Date.now();
      await new Promise((r) => setTimeout(r, 150));
      return { start, end: Date.now() };
    });
  },
);

const flowThrottle = inngest.createFunction(
  { id: "flow-throttle", throttle: { limit: 1, period: "1s" }, triggers: [{ event: "flow/js-throttle" }] },
  async () => Date.now(),
);

const flowDebounce = inngest.createFunction(
  { id: "flow-debounce", debounce: { period: "1s", key: "event.data.user" }, triggers: [{ event: "flow/js-debounce" }] },
  async ({ event }) => event.data.n,
);

const flowBatch = inngest.createFunction(
  { id: "flow-batch", batchEvents: { maxSize: 3, timeout: "1s" }, triggers: [{ event: "flow/js-batch" }] },
  async ({ events }) => events.map((e) => e.data.n),
);

const flowRateLimit = inngest.createFunction(
  { id: "flow-rate-limit", rateLimit: { limit: 1, period: "1h", key: "event.data.user" }, triggers: [{ event: "flow/js-rate-limit" }] },
  async ({ event }) => event.data.n,
);

const flowIdempotency = inngest.createFunction(
  { id: "flow-idempotency", idempotency: "event.data.user", triggers: [{ event: "flow/js-idempotency" }] },
  async ({ event }) => event.data.n,
);

const flowSingleton = inngest.createFunction(
  { id: "flow-singleton", singleton: { key: "event.data.user", mode: "skip" }, triggers: [{ event: "flow/js-singleton" }] },
  async ({ event, step }) => {
    await step.sleep("hold", 1000);
    return event.data.n;
  },
);

// Twins of the step toolkit the engine speaks (tests/toolkit.rs): signals, step.fetch and
// step.ai.infer, each run by the engine.
const peerSignal = inngest.createFunction(
  { id: "peer-signal", retries: 0, triggers: [{ event: "test/peer-signal" }] },
  async ({ step, runId }) => {
    const got = await step.waitForSignal("wait-for-signal", {
      signal: `peer-signal-${runId}`,
      timeout: "1h",
      onConflict: "replace",
    });
    return got ? `got ${got.data.value}` : "timed out";
  },
);

const peerFetch = inngest.createFunction(
  { id: "peer-fetch", retries: 1, triggers: [{ event: "test/peer-fetch" }] },
  async ({ event, step }) => {
    const res = await step.fetch(event.data.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ n: 1 }),
    });
    return { status: res.status, body: await res.json() };
  },
);

const peerAi = inngest.createFunction(
  { id: "peer-ai", retries: 1, triggers: [{ event: "test/peer-ai" }] },
  async ({ event, step }) => {
    const answer = await step.ai.infer("ask", {
      model: step.ai.models.openai({
        model: event.data.model,
        baseUrl: event.data.base_url,
        apiKey: "sk-peer",
      }),
      body: { messages: [{ role: "user", content: "hi" }] },
    });
    return answer.choices[0].message.content;
  },
);

// Ten steps one after another: one call request with checkpointing, eleven without.
const tenSteps = inngest.createFunction(
  {
    id: "ten-steps",
    retries: 3,
    triggers: [{ event: process.env.PEER_TEN_EVENT || "test/ten-steps" }],
  },
  async ({ step }) => {
    let total = 0;
    for (let i = 0; i < 10; i++) {
      total += await step.run("add", () => i);
    }
    return total;
  },
);

const handler = serve({
  client: inngest,
  functions: [
    hello,
    tenSteps,
    twoSteps,
    parallel,
    stepThrows,
    stepNonRetriable,
    fnThrows,
    fnNonRetriable,
    fnRetryAfter,
    repeatIds,
    withFailure,
    peerSleep,
    peerWait,
    peerChild,
    peerInvoke,
    peerSend,
    peerThree,
    engineSleep,
    engineFlaky,
    flowConcurrency,
    flowThrottle,
    flowDebounce,
    flowBatch,
    flowRateLimit,
    flowIdempotency,
    flowSingleton,
    peerSignal,
    peerFetch,
    peerAi,
  ],
});

// How many call requests (POSTs to the endpoint) were made: GET /stats.
let calls = 0;

const server = http.createServer((req, res) => {
  const path = (req.url || "").split("?")[0];
  if (path === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify({ calls }));
  }
  if (path === "/api/inngest") {
    if (req.method === "POST") calls++;
    // inngest/node's listener returns a promise. It rejects (uncaught) when
    // the body is not valid JSON: JSON.parse runs outside the SDK's error
    // handling, and an unhandled rejection would kill this process. The SDK
    // itself sends no response in that case; we keep that observable
    // behaviour (the connection is closed without an HTTP answer) but keep
    // the peer alive. See BEHAVIOUR.md "malformed JSON body".
    return Promise.resolve(handler(req, res)).catch((err) => {
      if (process.env.PEER_LOG === "1") console.error("peer: handler rejected:", err);
      if (!res.headersSent) res.destroy();
    });
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found");
});

const port = Number(process.env.PORT ?? 3939);
server.listen(port, "127.0.0.1", () => {
  console.log(`LISTENING ${server.address().port}`);
});

const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
