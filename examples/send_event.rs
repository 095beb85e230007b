//! Sending events: `step.send_event` inside a function (sent once per run, whatever the
//! retries), and `inngest::send` from anywhere else.
//!
//! Run it with `INNGEST_DEV=1 cargo run --example send_event`.

use std::future::IntoFuture;

use inngest::{Context, Error, Event};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Order {
    order_id: String,
    items: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Pick {
    order_id: String,
    item: String,
}

#[inngest::function(id = "fan-out-order", event = "shop/order.placed")]
async fn fan_out_order(ctx: Context<Order>) -> Result<Vec<String>, Error> {
    let picks = ctx
        .event
        .data
        .items
        .iter()
        .map(|item| {
            Event::new(
                "warehouse/pick",
                Pick {
                    order_id: ctx.event.data.order_id.clone(),
                    item: item.clone(),
                },
            )
        })
        .collect();
    // Returns the ids of the sent events.
    ctx.step.send_event("send-picks", picks).await
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = tokio::spawn(inngest::App::new("send-example").serve().into_future());
    // From outside a function: the event client configured from the environment.
    let order = Event::new(
        "shop/order.placed",
        Order {
            order_id: "o-1".into(),
            items: vec!["mug".into(), "tee".into()],
        },
    );
    match inngest::send(&order).await {
        Ok(id) => println!("sent shop/order.placed as {id}"),
        Err(e) => eprintln!("could not send the demo event (is the dev server running?): {e}"),
    }
    server.await.map_err(inngest::Error::new)?
}
