//! `step.fetch` and `step.ai().infer`: Inngest makes the HTTP call and the model call, so the
//! app spends no time waiting on them, and their answers are memoized like any step's.
//!
//! Run it with `OPENAI_API_KEY=sk-... cargo run --example fetch_and_ai` (the embedded engine
//! makes the calls), then:
//!
//! ```sh
//! curl -X POST localhost:3000/e/key -d '{"name":"docs/summarize","data":{"url":"https://example.com"}}'
//! ```
//!
//! Any OpenAI-compatible server works: `Model::openai("llama3").base_url("http://localhost:11434/v1")`.

use inngest::step::ai::{openai, Model};
use inngest::step::FetchRequest;
use inngest::{Context, Error};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Page {
    url: String,
}

#[inngest::function(id = "summarize-page", event = "docs/summarize", retries = 2)]
async fn summarize_page(ctx: Context<Page>) -> Result<String, Error> {
    // Any status is an answer: a 404 comes back as a response, not an error.
    let page = ctx
        .step
        .fetch("download", FetchRequest::get(&ctx.event.data.url))
        .await?;
    if !page.is_success() {
        return Ok(format!("{} answered {}", page.url, page.status));
    }
    let text: String = page.body.chars().take(4000).collect();
    let answer: openai::ChatResponse = ctx
        .step
        .ai()
        .infer(
            "summarize",
            &Model::openai("gpt-4o-mini"),
            openai::ChatRequest::new(vec![
                openai::Message::system("Summarize the page in one sentence."),
                openai::Message::user(text),
            ]),
        )
        .await?;
    Ok(answer.text().to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    inngest::App::new("fetch-example")
        .register::<summarize_page>()
        .serve()
        .await
}
