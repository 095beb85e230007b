//! OpenTelemetry (feature `opentelemetry`): the W3C trace context in and out.
//!
//! In: a call request's `traceparent` and `tracestate` headers (the server's, or with the
//! local engine the sender's) become the parent of the call's span, so that with a
//! `tracing-opentelemetry` layer the run's spans join the trace. Out: events sent with
//! `inngest::send`, `Client::send` and `step.send_event` carry the current span's context as
//! those headers, as the official SDKs' HTTP instrumentation sends them; the Inngest server
//! links the runs they start to it, and the local engine passes it on to their calls.

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::client::TraceHeaders;

/// Makes the trace context of `headers`, if they carry a valid one, the parent of `span`.
pub(crate) fn set_parent(span: &tracing::Span, headers: &http::HeaderMap) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(context) = header("traceparent").and_then(|tp| parse(tp, header("tracestate"))) else {
        return;
    };
    let parent = opentelemetry::Context::new().with_remote_span_context(context);
    let _ = span.set_parent(parent);
}

/// The current span's trace context, if it has a valid one.
pub(crate) fn current() -> Option<TraceHeaders> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return None;
    }
    let state = sc.trace_state().header();
    Some(TraceHeaders {
        traceparent: format!(
            "00-{}-{}-{:02x}",
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().to_u8()
        ),
        tracestate: (!state.is_empty()).then_some(state),
    })
}

/// A `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`) and its `tracestate`, as W3C reads them.
fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<SpanContext> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version.len() != 2 || version == "ff" || trace.len() != 32 || span.len() != 16 {
        return None;
    }
    if version == "00" && parts.next().is_some() {
        return None;
    }
    let trace = TraceId::from_hex(trace).ok()?;
    let span = SpanId::from_hex(span).ok()?;
    let flags = u8::from_str_radix(flags, 16).ok()?;
    let state = tracestate
        .and_then(|s| s.parse::<TraceState>().ok())
        .unwrap_or_default();
    let context = SpanContext::new(trace, span, TraceFlags::new(flags), true, state);
    context.is_valid().then_some(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparents_as_w3c_reads_them() {
        let sc = parse(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            Some("vendor=value"),
        )
        .unwrap();
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
        assert!(sc.is_sampled() && sc.is_remote());
        assert_eq!(sc.trace_state().header(), "vendor=value");
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "garbage",
        ] {
            assert!(parse(bad, None).is_none(), "{bad}");
        }
    }
}
