//! The page of runs, in a real browser (headless Chromium through WebDriver), served by the
//! embedded engine on the app's port: an event sent from the form starts a run that retries a
//! step and fails, its failure handler runs, both finish on the page as they happen; the
//! run's steps open with their attempts and outputs; a sleeping run is cancelled with its
//! button. With `INNGEST_SCREENSHOTS=<dir>`, the main pages are saved there as PNG.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use inngest::{Context, Error, FunctionFailed, NonRetriableError};
use serde_json::Value;
use support::browser::Browser;
use support::Served;

static CHARGES: AtomicU32 = AtomicU32::new(0);

#[derive(Debug, thiserror::Error)]
#[error("the card network timed out")]
struct CardTimeout;

#[inngest::function(id = "checkout", event = "shop/checkout", retries = 2)]
async fn checkout(ctx: Context) -> Result<String, Error> {
    let receipt: String = ctx
        .step
        .run("charge-card", || async {
            if CHARGES.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(CardTimeout.into());
            }
            Ok("receipt-42".to_owned())
        })
        .await?;
    let _ = ctx.step.run("reserve-stock", || async { Ok(3) }).await?;
    Err(NonRetriableError::new(format!("shipping is closed ({receipt})")).into())
}

#[inngest::on_failure(checkout)]
async fn checkout_failed(ctx: Context<FunctionFailed>) -> Result<String, Error> {
    let message = ctx.event.data.error.message.clone();
    ctx.step
        .run("refund", || async {
            Ok(format!("refunded after: {message}"))
        })
        .await
}

#[inngest::function(id = "reminder", event = "shop/reminder")]
async fn reminder(ctx: Context) -> Result<String, Error> {
    ctx.step
        .sleep("wait-a-day", Duration::from_secs(86_400))
        .await?;
    Ok("reminded".to_owned())
}

const WITHIN: Duration = Duration::from_secs(30);

/// A script: the rows of the runs page whose function's slug is `slug`.
fn rows_of(slug: &str) -> String {
    format!(
        "[...document.querySelectorAll('#runs-table tbody tr')].filter(tr => tr.querySelector('td:nth-child(2) .mono').innerText === {slug:?})"
    )
}

/// A script: the statuses of those rows, joined by commas.
fn statuses_of(slug: &str) -> String {
    format!(
        "{}.map(tr => tr.children[0].innerText.trim()).join(',')",
        rows_of(slug)
    )
}

async fn send_from_form(browser: &Browser, origin: &str, name: &str, data: &str) -> String {
    browser.goto(&format!("{origin}/#/send")).await;
    browser
        .wait_for(
            "the send form",
            "return !!document.querySelector('#send-event')",
            WITHIN,
        )
        .await;
    browser.fill("#event-name", name).await;
    browser.fill("#event-data", data).await;
    browser.click("#send-event").await;
    let id = browser
        .wait_for(
            "the id of the sent event",
            "const a = document.querySelector('#sent-event'); return a && a.innerText",
            WITHIN,
        )
        .await;
    id.as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_follows_runs_as_they_happen_and_cancels_one() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = inngest::App::new("shop")
        .register::<checkout>()
        .register::<checkout_failed>()
        .register::<reminder>()
        .embedded()
        .retry_interval(Duration::from_secs(1));
    let served = Served::start(app).await;
    let origin = format!("http://{}", served.addr);
    let shots = std::env::var_os("INNGEST_SCREENSHOTS").map(std::path::PathBuf::from);

    // An event from the form starts a run that retries a step, fails, and runs its handler.
    let event_id = send_from_form(&browser, &origin, "shop/checkout", r#"{"order": 7}"#).await;
    assert_eq!(event_id.len(), 26, "a ULID: {event_id}");
    browser.goto(&format!("{origin}/#/runs")).await;
    browser
        .wait_for(
            "the checkout run failed",
            &format!("return ({}) === 'Failed'", statuses_of("shop-checkout")),
            WITHIN,
        )
        .await;
    browser
        .wait_for(
            "the failure handler completed",
            &format!(
                "return ({}) === 'Completed'",
                statuses_of("shop-checkout-failure")
            ),
            WITHIN,
        )
        .await;
    if let Some(dir) = &shots {
        browser.screenshot(&dir.join("runs.png")).await;
    }

    // The run's page: its steps in order, the retried one with both attempts and outputs.
    browser
        .eval(&format!(
            "{}[0].click(); return true",
            rows_of("shop-checkout")
        ))
        .await;
    let steps = browser
        .wait_for(
            "the steps of the run",
            "const s = [...document.querySelectorAll('#steps details.step .name')].map(e => e.innerText); return s.length >= 2 && s.join(',')",
            WITHIN,
        )
        .await;
    assert_eq!(steps, Value::from("charge-card,reserve-stock"));
    browser.click("#steps details.step summary").await;
    let attempts = browser
        .wait_for(
            "both attempts of charge-card with their outputs",
            "const d = document.querySelector('#steps details.step'); const outs = [...d.querySelectorAll('.attempt .out > pre')].map(p => p.innerText); return outs.length === 2 && d.innerText",
            WITHIN,
        )
        .await;
    let attempts = attempts.as_str().unwrap();
    assert!(
        attempts.contains("Attempt 1") && attempts.contains("Attempt 2"),
        "{attempts}"
    );
    assert!(
        attempts.contains("the card network timed out"),
        "{attempts}"
    );
    assert!(attempts.contains("\"receipt-42\""), "{attempts}");
    let page = browser
        .eval("return document.querySelector('main').innerText")
        .await;
    let page = page.as_str().unwrap();
    assert!(
        page.contains("shipping is closed (receipt-42)"),
        "the run's error: {page}"
    );
    assert!(
        page.contains("Runs this run started"),
        "its failure handler: {page}"
    );
    let handler = browser
        .eval("return document.querySelector('#handlers tbody tr').innerText")
        .await;
    assert!(
        handler.as_str().unwrap().contains("Completed"),
        "the failure handler's run: {handler}"
    );
    if let Some(dir) = &shots {
        browser.screenshot(&dir.join("run.png")).await;
    }

    // A sleeping run, cancelled with its button.
    send_from_form(&browser, &origin, "shop/reminder", "{}").await;
    browser.goto(&format!("{origin}/#/runs")).await;
    browser
        .wait_for(
            "the reminder run sleeping",
            &format!("return ({}) === 'Running'", statuses_of("shop-reminder")),
            WITHIN,
        )
        .await;
    browser
        .eval(&format!(
            "{}[0].click(); return true",
            rows_of("shop-reminder")
        ))
        .await;
    browser
        .wait_for(
            "the sleep step waiting",
            "return [...document.querySelectorAll('#steps .badge')].some(b => b.innerText.trim() === 'Waiting')",
            WITHIN,
        )
        .await;
    browser.click("#cancel-run").await;
    browser
        .wait_for(
            "the run cancelled",
            "const b = document.querySelector('.head .badge'); return b && b.innerText.trim() === 'Cancelled'",
            WITHIN,
        )
        .await;

    if let Some(dir) = &shots {
        for (page, file) in [
            ("#/events", "events.png"),
            ("#/apps", "apps.png"),
            ("#/send", "send.png"),
        ] {
            browser.goto(&format!("{origin}/{page}")).await;
            browser
                .wait_for(
                    "the page",
                    "return !!document.querySelector('.head h1')",
                    WITHIN,
                )
                .await;
            browser.screenshot(&dir.join(file)).await;
        }
    }
    browser.close().await;
    served.stop().await.unwrap();
}
