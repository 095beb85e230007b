//! Replay cost of the serve handler, in-process: the time `InngestService` (as a
//! `tower::Service`) takes to answer a call request of the bench function whose 10, 100 or
//! 1,000 steps are all memoized (`inngest-bench`'s `call_body`): parse the body, replay every
//! step, serialize the answer. No sockets. Each size with no middleware, with one middleware
//! that implements no hook, and with the encryption middleware (whose memos are encrypted).
//!
//! `cargo bench --bench replay` (a measurement, not a test: see BENCHMARKS.md, which also has
//! the same requests end to end over loopback HTTP, against the JS and Python SDKs).
//! `cargo test --benches` runs each case once, as a smoke test.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use http::Request;
use http_body_util::{BodyExt, Full};
use inngest::InngestService;
use inngest_bench::Variant;
use tower::Service;

/// Answers one call request; returns the answer's body.
async fn call(service: &mut InngestService, body: Bytes) -> Bytes {
    let req = Request::post(inngest_bench::CALL_PATH)
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("a valid request");
    let res = service.call(req).await.expect("infallible");
    assert_eq!(res.status(), 200);
    res.into_body()
        .collect()
        .await
        .expect("a full body")
        .to_bytes()
}

fn replay(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut group = c.benchmark_group("replay");
    for n in [10_u64, 100, 1_000] {
        for variant in Variant::ALL {
            let mut service = inngest_bench::service(variant);
            let body = Bytes::from(inngest_bench::call_bytes_for(n, variant));
            // The answer is right before anything is timed.
            let answer = rt.block_on(call(&mut service, body.clone()));
            assert_eq!(
                inngest_bench::read_answer(&answer, variant),
                inngest_bench::expected(n)
            );
            group.throughput(Throughput::Elements(n));
            let id = BenchmarkId::new(format!("memoized_steps/{}", variant.name()), n);
            group.bench_with_input(id, &body, |b, body| {
                b.iter(|| black_box(rt.block_on(call(&mut service, body.clone()))))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
