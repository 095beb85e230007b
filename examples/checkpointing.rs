//! Checkpointing and streaming: an import of ten batches, each a `step.run`. With
//! checkpointing (on by default) the SDK runs the ten steps one after another in one call
//! request, saving each with Inngest as it goes, instead of one round trip per step; this
//! example runs the import twice under the embedded engine, with and without it, and prints
//! how many call requests each run took. Streaming keeps the connection busy during a long
//! step (`App::streaming(true)` or `INNGEST_STREAMING=true`), for platforms that cut idle
//! connections.
//!
//! Run it with `cargo run --example checkpointing`.

use std::time::Duration;

use inngest::engine::{Happening, RunStatus};
use inngest::{Checkpointing, Context, Error};
use serde_json::json;

/// Checkpointing as set for the app (on, each step saved as it runs).
#[inngest::function(id = "import", event = "import/started")]
async fn import(ctx: Context) -> Result<u32, Error> {
    import_batches(&ctx).await
}

/// The same import, one call request per step (`checkpointing = false`); the attribute
/// also takes `checkpointing(buffered_steps = 5, max_interval = "1s", max_runtime = "30s")`.
#[inngest::function(id = "import-classic", event = "import/started", checkpointing = false)]
async fn import_classic(ctx: Context) -> Result<u32, Error> {
    import_batches(&ctx).await
}

/// Both functions' work: ten steps, one batch of rows each.
async fn import_batches(ctx: &Context) -> Result<u32, Error> {
    let mut rows = 0;
    for batch in 0..10_u32 {
        rows += ctx
            .step
            .run("import-batch", move || async move { Ok(batch * 100) })
            .await?;
    }
    Ok(rows)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let service = inngest::App::new("checkpointing-example")
        .embedded()
        // The app's default for its functions: save steps two at a time, and run no new
        // step in a call after 10 s.
        .checkpointing(
            Checkpointing::ON
                .buffered_steps(2)
                .max_runtime(Duration::from_secs(10)),
        )
        .streaming(true)
        .into_service()?;
    let engine = service.engine().expect("embedded mode runs the engine");
    let mut happenings = engine.subscribe();
    engine.send(vec![json!({"name": "import/started", "data": {}})])?;
    let mut ended = 0;
    while ended < 2 {
        let Ok(Happening::RunEnded {
            run_id,
            function_id,
            status,
            output,
        }) = happenings.recv().await
        else {
            continue;
        };
        ended += 1;
        assert_eq!(status, RunStatus::Completed);
        let calls = engine.run_calls(&run_id).unwrap_or_default();
        println!("{function_id}: {output} rows in {calls} call request(s)");
    }
    Ok(())
}
