//! OpenTelemetry (feature `opentelemetry`): the W3C trace context goes from `inngest::send`
//! (here `Client::send`) through the engine into the run's calls, and from a step's
//! `step.send_event` into the run it starts, so that one trace spans the producer and the
//! runs; spans exported through `tracing-opentelemetry` to an in-memory exporter.

use std::time::Duration;

use inngest::engine::{Engine, EngineConfig, Happening};
use inngest::{Context, Error, Event};
use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use tracing::Instrument;
use tracing_subscriber::prelude::*;

#[inngest::function(id = "first", event = "otel/first")]
async fn first(ctx: Context) -> Result<(), Error> {
    ctx.step
        .send_event("fan-out", vec![Event::new("otel/second", json!({}))])
        .await?;
    Ok(())
}

#[inngest::function(id = "second", event = "otel/second")]
async fn second(_ctx: Context) -> Result<(), Error> {
    tracing::info!("second ran");
    Ok(())
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

// One thread: the engine's driver and the app's calls run where the subscriber is set.
#[tokio::test]
async fn one_trace_spans_the_producer_and_the_runs_it_starts() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let engine = Engine::start(EngineConfig::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let engine_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(inngest::engine::serve(
        engine.clone(),
        listener,
        std::future::pending(),
    ));
    let service = inngest::App::new("otel")
        .dev(engine_url.clone())
        .register::<first>()
        .register::<second>()
        .into_service()
        .unwrap();
    service.register_with(&engine).unwrap();
    let mut happenings = engine.subscribe();

    let producer = tracing::info_span!("producer");
    let client = inngest::Client::dev(engine_url);
    client
        .send(&Event::new("otel/first", json!({})))
        .instrument(producer.clone())
        .await
        .unwrap();
    drop(producer);
    let mut ended = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while ended < 2 {
        match tokio::time::timeout_at(deadline, happenings.recv()).await {
            Ok(Ok(Happening::RunEnded { .. })) => ended += 1,
            Ok(_) => {}
            Err(_) => panic!("both runs end within 30 s"),
        }
    }
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let named =
        |name: &str| -> Vec<&SpanData> { spans.iter().filter(|s| s.name == name).collect() };

    let producer = named("producer");
    assert_eq!(producer.len(), 1, "{spans:#?}");
    let trace: TraceId = producer[0].span_context.trace_id();
    let producer_id: SpanId = producer[0].span_context.span_id();

    let calls = named("inngest.call");
    let of = |function: &str| -> Vec<&&SpanData> {
        calls
            .iter()
            .filter(|s| attribute(s, "function").as_deref() == Some(function))
            .collect()
    };
    let first_calls = of("otel-first");
    assert!(!first_calls.is_empty(), "{calls:#?}");
    for call in &first_calls {
        assert_eq!(call.span_context.trace_id(), trace, "{call:#?}");
        assert_eq!(
            call.parent_span_id, producer_id,
            "the producer is the parent"
        );
    }
    let fan_out = named("inngest.step");
    let fan_out: Vec<&&SpanData> = fan_out
        .iter()
        .filter(|s| attribute(s, "id").as_deref() == Some("fan-out"))
        .collect();
    assert_eq!(fan_out.len(), 1, "{spans:#?}");
    assert_eq!(fan_out[0].span_context.trace_id(), trace);
    let second_calls = of("otel-second");
    assert!(!second_calls.is_empty(), "{calls:#?}");
    for call in &second_calls {
        assert_eq!(call.span_context.trace_id(), trace, "{call:#?}");
        assert_eq!(
            call.parent_span_id,
            fan_out[0].span_context.span_id(),
            "the step that sent the event is the parent"
        );
    }
}
