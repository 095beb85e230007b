//! Answers the bench function's call request `rounds` times in-process, with one variant of
//! middleware: made to be counted by `valgrind --tool=callgrind` (instructions per call
//! request = the difference between two round counts, divided by the difference; see
//! BENCHMARKS.md).
//!
//! `bench-calls <none|noop|encryption> <memoized steps> <rounds>`

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use inngest_bench::Variant;
use tower_service::Service;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "bench-calls <none|noop|encryption> <memoized steps> <rounds>";
    let variant = args.get(1).and_then(|v| Variant::parse(v)).ok_or(usage)?;
    let n: u64 = args.get(2).ok_or(usage)?.parse()?;
    let rounds: u64 = args.get(3).ok_or(usage)?.parse()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut service = inngest_bench::service(variant);
    let body = Bytes::from(inngest_bench::call_bytes_for(n, variant));
    let mut call = || {
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
    let answer = call();
    assert_eq!(
        inngest_bench::read_answer(&answer, variant),
        inngest_bench::expected(n)
    );
    for _ in 0..rounds {
        std::hint::black_box(call());
    }
    Ok(())
}
