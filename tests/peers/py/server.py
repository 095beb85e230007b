"""Protocol peer: the official `inngest` Python SDK served by FastAPI on uvicorn (uvloop,
httptools) at http://127.0.0.1:$PORT/api/inngest, app id `py-app`, dev mode.

Environment:
  PORT         port to listen on (default 3940); 0 = pick a free one
  INNGEST_DEV  defaults to "1" (dev mode, no signing). May also be a URL (e.g.
               http://127.0.0.1:8288), which then is the dev server / API origin used for
               register (PUT).
  PEER_LOG     "1" lets the SDK and uvicorn log; quiet otherwise.

Prints one line `LISTENING <port>` on stdout once ready.

Run it with the venv that install.sh makes: `.venv/bin/python server.py`.
"""

from __future__ import annotations

import logging
import os
import sys

os.environ.setdefault("INNGEST_DEV", "1")

import fastapi  # noqa: E402
import inngest  # noqa: E402
import inngest.fast_api  # noqa: E402
import uvicorn  # noqa: E402

verbose = os.environ.get("PEER_LOG") == "1"

logger = logging.getLogger("py-peer")
logger.addHandler(logging.StreamHandler(sys.stderr))
logger.setLevel(logging.DEBUG if verbose else logging.CRITICAL + 1)

client = inngest.Inngest(app_id="py-app", logger=logger)


# Twins for the engine compatibility test (tests/engine_peers.rs), of the JS peer
# (tests/peers/js/server.mjs) and the Rust functions (tests/support/functions.rs).


@client.create_function(
    fn_id="two-steps", retries=3, trigger=inngest.TriggerEvent(event="test/steps")
)
async def two_steps(ctx: inngest.Context) -> dict[str, str]:
    async def first() -> str:
        return "one"

    a = await ctx.step.run("first", first)

    async def second() -> str:
        return a + "-two"

    b = await ctx.step.run("second", second)
    return {"a": a, "b": b}


@client.create_function(
    fn_id="engine-sleep", trigger=inngest.TriggerEvent(event="test/engine-sleep")
)
async def engine_sleep(ctx: inngest.Context) -> str:
    await ctx.step.sleep("nap", 1000)
    return "rested"


flaky_calls = 0


@client.create_function(
    fn_id="engine-flaky",
    retries=2,
    trigger=inngest.TriggerEvent(event="test/engine-flaky"),
)
async def engine_flaky(ctx: inngest.Context) -> str:
    async def call_api() -> str:
        global flaky_calls
        flaky_calls += 1
        if flaky_calls == 1:
            raise Exception("flaky once")
        return "recovered"

    return await ctx.step.run("call-api", call_api)


async def with_failure_failed(ctx: inngest.Context) -> str:
    failed = ctx.event.data
    function_id = failed["function_id"]

    async def notify() -> str:
        return f"notified {function_id}"

    note = await ctx.step.run("notify", notify)
    # The same sentence as the JS and Rust twins.
    return f"{function_id} failed: {failed['error']['message']} ({note})"


@client.create_function(
    fn_id="with-failure",
    trigger=inngest.TriggerEvent(event="test/fails"),
    on_failure=with_failure_failed,
)
async def with_failure(ctx: inngest.Context) -> str:
    raise inngest.NonRetriableError("boom")


@client.create_function(
    fn_id="peer-child", trigger=inngest.TriggerEvent(event="test/peer-child")
)
async def peer_child(ctx: inngest.Context) -> int:
    return ctx.event.data["qty"] * 2


@client.create_function(
    fn_id="peer-invoke", trigger=inngest.TriggerEvent(event="test/peer-invoke")
)
async def peer_invoke(ctx: inngest.Context) -> int:
    return await ctx.step.invoke("call-child", function=peer_child, data={"qty": 21})


app = fastapi.FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
inngest.fast_api.serve(
    app,
    client,
    [two_steps, engine_sleep, engine_flaky, with_failure, peer_child, peer_invoke],
)


class Server(uvicorn.Server):
    """Prints `LISTENING <port>` once the socket accepts connections."""

    async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        await super().startup(sockets=sockets)
        if self.started:
            port = self.servers[0].sockets[0].getsockname()[1]
            print(f"LISTENING {port}", flush=True)


def main() -> None:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=int(os.environ.get("PORT", "3940")),
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=verbose,
        log_level="info" if verbose else "warning",
    )
    Server(config).run()


if __name__ == "__main__":
    main()
