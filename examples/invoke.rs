//! `step.invoke`: call another function and use its result, typed by that function: the
//! compiler checks the data you send and the type you get back.
//!
//! Run it with `INNGEST_DEV=1 cargo run --example invoke`.

use std::time::Duration;

use inngest::step::Invoke;
use inngest::{Context, Error};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Resize {
    url: String,
    width: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Resized {
    url: String,
}

#[inngest::function(id = "resize-image", event = "images/resize")]
async fn resize_image(ctx: Context<Resize>) -> Result<Resized, Error> {
    let Resize { url, width } = &ctx.event.data;
    Ok(Resized {
        url: format!("{url}?w={width}"),
    })
}

#[derive(Debug, Deserialize)]
struct Upload {
    url: String,
}

#[inngest::function(id = "process-upload", event = "images/uploaded")]
async fn process_upload(ctx: Context<Upload>) -> Result<Vec<String>, Error> {
    let url = ctx.event.data.url.clone();
    // Typed by `resize_image`: the data must be a `Resize`, the result is a `Resized`.
    let thumb = ctx
        .step
        .invoke::<resize_image>(
            "thumbnail",
            Resize {
                url: url.clone(),
                width: 128,
            },
        )
        .await?;
    // With a timeout: fails the step if the child has not finished in ten minutes.
    let large = ctx
        .step
        .invoke_with(
            "large",
            Invoke::<resize_image>::new(Resize { url, width: 2048 })
                .timeout(Duration::from_secs(600)),
        )
        .await?;
    // A function of another app, by its composite id.
    let scanned: serde_json::Value = ctx
        .step
        .invoke_by_id(
            "virus-scan",
            "security-app-scan-file",
            serde_json::json!({ "url": ctx.event.data.url }),
            None,
        )
        .await?;
    Ok(vec![thumb.url, large.url, scanned.to_string()])
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    inngest::App::new("invoke-example").serve().await
}
