// Bench peer: the official `inngest` JS SDK serving the bench function and 99 others (100 in
// all, as the Rust bench server does) at http://127.0.0.1:$PORT/api/inngest, app id `bench`,
// dev mode, checkpointing off (call requests get the classic 200/206 answers).
//
// The bench function `steps` (bench/harness/src/lib.rs has the Rust twin) runs
// `event.data.n` steps `step-0`, `step-1`, ... with step.run, step k returning k, and returns
// {n, sum}. The bench's call requests memoize every step, so it replays them all and answers
// 200 {"n":n,"sum":n(n-1)/2}.
//
// Environment:
//   PORT            port to listen on (default 0: pick a free one)
//   BENCH_ADAPTER   "node" (default): Node's own http server with `inngest/node`;
//                   "express": Express 5 with express.json() and `inngest/express`.
//
// Prints one line `LISTENING <port>` on stdout once ready. Used by bench/bench.sh.
import http from "node:http";

if (!process.env.INNGEST_DEV) process.env.INNGEST_DEV = "1";

const { Inngest } = await import("inngest");

const adapter = process.env.BENCH_ADAPTER ?? "node";
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const inngest = new Inngest({ id: "bench", checkpointing: false, logger: quiet });

const steps = inngest.createFunction(
  { id: "steps", triggers: [{ event: "bench/steps" }] },
  async ({ event, step }) => {
    const n = event.data.n;
    let sum = 0;
    for (let k = 0; k < n; k++) {
      sum += await step.run(`step-${k}`, () => k);
    }
    return { n, sum };
  },
);

const fillers = Array.from({ length: 99 }, (_, i) => {
  const id = `fn-${String(i).padStart(2, "0")}`;
  return inngest.createFunction(
    { id, triggers: [{ event: `bench/${id}` }] },
    async ({ event }) => ({ fn: id, event: event.name }),
  );
});

const functions = [steps, ...fillers];
const port = Number(process.env.PORT ?? 0);
let server;

if (adapter === "express") {
  const { default: express } = await import("express");
  const { serve } = await import("inngest/express");
  const app = express();
  // inngest/express needs the body parsed; 1,000 memoized steps are about 70 kB (the default
  // limit is 100 kB), and Inngest sends up to 4 MB.
  app.use(express.json({ limit: "10mb" }));
  app.use("/api/inngest", serve({ client: inngest, functions }));
  server = http.createServer(app);
} else if (adapter === "node") {
  const { serve } = await import("inngest/node");
  const handler = serve({ client: inngest, functions });
  server = http.createServer((req, res) => {
    const path = (req.url || "").split("?")[0];
    if (path === "/api/inngest") return handler(req, res);
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  });
} else {
  console.error(`bench-server: unknown BENCH_ADAPTER ${adapter}`);
  process.exit(2);
}

server.listen(port, "127.0.0.1", () => {
  console.log(`LISTENING ${server.address().port}`);
});

const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
