// Interop peer for end-to-end encryption: the official `@inngest/middleware-encryption`
// with the official `inngest` SDK.
//
//   node encryption.mjs serve            serves app `js-enc` (dev mode, INNGEST_DEV = the
//                                        engine's URL) with the encryption middleware; prints
//                                        `LISTENING <port>`
//   node encryption.mjs send <json>      sends the event <json> with the middleware on the
//                                        client (INNGEST_DEV = the engine's URL); prints its id
//   node encryption.mjs encrypt <json>   prints the envelope the middleware writes for <json>
//   node encryption.mjs decrypt <json>   prints the value inside the envelope <json>
//
// The key is ENCRYPTION_KEY (default "interop-key").
import http from "node:http";

if (!process.env.INNGEST_DEV) process.env.INNGEST_DEV = "1";
const key = process.env.ENCRYPTION_KEY ?? "interop-key";

const { Inngest } = await import("inngest");
const { encryptionMiddleware } = await import("@inngest/middleware-encryption");
const { LibSodiumEncryptionService } = await import(
  "@inngest/middleware-encryption/strategies/libSodium"
);

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const inngest = new Inngest({
  id: "js-enc",
  checkpointing: false,
  logger: process.env.PEER_LOG === "1" ? console : quiet,
  middleware: [encryptionMiddleware({ key })],
});

// Reads the encrypted field of its event in a step (whose output the middleware
// encrypts) and returns what it read (encrypted too).
const reader = inngest.createFunction(
  { id: "enc-reader", retries: 0, triggers: [{ event: "enc/for-js" }] },
  async ({ event, step }) => {
    const read = await step.run("read", () => ({
      secret: event.data.encrypted.secret,
    }));
    return { secret: read.secret, user: event.data.user };
  },
);

const [mode, arg] = process.argv.slice(2);
const service = new LibSodiumEncryptionService(key);

if (mode === "encrypt") {
  const data = await service.encrypt(JSON.parse(arg));
  console.log(
    JSON.stringify({
      __ENCRYPTED__: true,
      __STRATEGY__: service.identifier,
      data,
    }),
  );
} else if (mode === "decrypt") {
  console.log(JSON.stringify(await service.decrypt(JSON.parse(arg).data)));
} else if (mode === "send") {
  const { ids } = await inngest.send(JSON.parse(arg));
  console.log(ids[0]);
} else {
  const { serve } = await import("inngest/node");
  const handler = serve({ client: inngest, functions: [reader] });
  const server = http.createServer((req, res) => {
    if ((req.url || "").split("?")[0] === "/api/inngest") {
      return Promise.resolve(handler(req, res)).catch(() => {
        if (!res.headersSent) res.destroy();
      });
    }
    res.writeHead(404);
    res.end();
  });
  server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
    console.log(`LISTENING ${server.address().port}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
