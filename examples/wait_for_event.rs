//! `step.wait_for_event`: wait up to a day for a matching payment, and remind the customer if
//! it never comes.
//!
//! Run it with `INNGEST_DEV=1 cargo run --example wait_for_event`.

use std::time::Duration;

use inngest::step::WaitForEvent;
use inngest::{Context, Error};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Invoice {
    invoice_id: String,
}

#[derive(Debug, Deserialize)]
struct Payment {
    amount_cents: u64,
}

#[inngest::function(id = "chase-invoice", event = "billing/invoice.sent")]
async fn chase_invoice(ctx: Context<Invoice>) -> Result<String, Error> {
    // `event` is the triggering invoice, `async` the candidate payment.
    let paid = ctx
        .step
        .wait_for_event::<Payment>(
            "wait-for-payment",
            WaitForEvent::new("billing/invoice.paid", Duration::from_secs(24 * 3600))
                .matching("event.data.invoice_id == async.data.invoice_id"),
        )
        .await?;
    match paid {
        Some(payment) => Ok(format!(
            "invoice {} paid: {} cents",
            ctx.event.data.invoice_id, payment.data.amount_cents
        )),
        None => {
            ctx.step
                .run("send-reminder", || async {
                    Ok(format!("reminded about {}", ctx.event.data.invoice_id))
                })
                .await
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    inngest::App::new("wait-example").serve().await
}
