//! Heap allocations per call request: the SDK's handler (as a `tower::Service`, in-process,
//! no sockets) answers the bench function's call request with 10, 100 and 1,000 memoized
//! steps, and the allocator of `dhat` counts what each answer cost (BENCHMARKS.md).
//!
//! `cargo run --release -p inngest-bench --bin bench-allocs`

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tower_service::Service;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Allocations and bytes allocated so far.
fn allocated() -> (u64, u64) {
    let stats = dhat::HeapStats::get();
    (stats.total_blocks, stats.total_bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _profiler = dhat::Profiler::builder().testing().build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut service = inngest_bench::service(inngest_bench::Variant::None);
    println!("| memoized steps | allocations per request | bytes allocated per request |");
    println!("|---:|---:|---:|");
    for n in [10_u64, 100, 1_000] {
        let body = Bytes::from(inngest_bench::call_bytes(n));
        let call = |service: &mut inngest::InngestService| {
            let req = http::Request::post(inngest_bench::CALL_PATH)
                .header("content-type", "application/json")
                .body(Full::new(body.clone()))
                .expect("a valid request");
            rt.block_on(async {
                let res = service.call(req).await.expect("infallible");
                assert_eq!(res.status(), 200);
                res.into_body().collect().await.expect("a body").to_bytes()
            })
        };
        let answer: serde_json::Value = serde_json::from_slice(&call(&mut service))?;
        assert_eq!(
            answer,
            inngest_bench::expected(n),
            "the bench function's answer"
        );
        const ROUNDS: u64 = 100;
        let (a0, b0) = allocated();
        for _ in 0..ROUNDS {
            call(&mut service);
        }
        let (a1, b1) = allocated();
        println!("| {n} | {} | {} |", (a1 - a0) / ROUNDS, (b1 - b0) / ROUNDS);
    }
    Ok(())
}
