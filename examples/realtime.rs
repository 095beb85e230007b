//! `step.realtime_publish`: a run tells a browser how far it got, as it goes.
//!
//! Run it with `cargo run --example realtime` (the embedded engine), subscribe, then start a
//! run:
//!
//! ```sh
//! curl -N 'localhost:3000/v1/realtime/sse?channel=import-7'     # in one terminal
//! curl -X POST localhost:3000/e/key -d '{"name":"data/import","data":{"id":"7","rows":3}}'
//! ```
//!
//! Each message arrives as a server-sent event: `data: {"kind":"data","data":{...},
//! "channel":"import-7","topic":"progress","run_id":...}`. A browser gets a token for its
//! topics with `POST /v1/realtime/token` and opens `EventSource("/v1/realtime/sse?token=...")`.

use inngest::{Context, Error};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
struct Import {
    id: String,
    rows: u32,
}

#[inngest::function(id = "import", event = "data/import")]
async fn import(ctx: Context<Import>) -> Result<String, Error> {
    let channel = format!("import-{}", ctx.event.data.id);
    for row in 1..=ctx.event.data.rows {
        ctx.step
            .run(&format!("row-{row}"), || async { Ok(row) })
            .await?;
        ctx.step
            .realtime_publish(
                &format!("progress-{row}"),
                &channel,
                "progress",
                json!({"done": row, "of": ctx.event.data.rows}),
            )
            .await?;
    }
    Ok(format!("imported {} rows", ctx.event.data.rows))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    inngest::App::new("realtime-example")
        .register::<import>()
        .serve()
        .await
}
