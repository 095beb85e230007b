"""Bench peer: the official `inngest` Python SDK serving the bench function and 99 others (100
in all, as the Rust bench server does) at http://127.0.0.1:$PORT/api/inngest, app id `bench`,
dev mode. Served by FastAPI on uvicorn with uvloop and httptools (uvicorn's fastest event loop
and HTTP parser), one process, as server.py is.

The bench function `steps` (bench/harness/src/lib.rs has the Rust twin) runs `event.data.n`
steps `step-0`, `step-1`, ... with step.run, step k returning k, and returns {n, sum}. The
bench's call requests memoize every step, so it replays them all and answers 200.

Environment:
  PORT  port to listen on (default 0: pick a free one)

Prints one line `LISTENING <port>` on stdout once ready. Used by bench/bench.sh; run it with
the venv that install.sh makes: `.venv/bin/python bench_server.py`.
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("INNGEST_DEV", "1")

import fastapi  # noqa: E402
import inngest  # noqa: E402
import inngest.fast_api  # noqa: E402
import uvicorn  # noqa: E402

logger = logging.getLogger("bench-peer")
logger.setLevel(logging.CRITICAL + 1)

client = inngest.Inngest(app_id="bench", logger=logger)


async def identity(k: int) -> int:
    return k


@client.create_function(fn_id="steps", trigger=inngest.TriggerEvent(event="bench/steps"))
async def steps(ctx: inngest.Context) -> dict[str, int]:
    n = ctx.event.data["n"]
    total = 0
    for k in range(n):
        total += await ctx.step.run(f"step-{k}", identity, k)
    return {"n": n, "sum": total}


def filler(fn_id: str) -> inngest.Function:  # type: ignore[type-arg]
    @client.create_function(fn_id=fn_id, trigger=inngest.TriggerEvent(event=f"bench/{fn_id}"))
    async def handler(ctx: inngest.Context) -> dict[str, str]:
        return {"fn": fn_id, "event": ctx.event.name}

    return handler


functions = [steps] + [filler(f"fn-{i:02}") for i in range(99)]

app = fastapi.FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
inngest.fast_api.serve(app, client, functions)


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
        port=int(os.environ.get("PORT", "0")),
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
    )
    Server(config).run()


if __name__ == "__main__":
    main()
