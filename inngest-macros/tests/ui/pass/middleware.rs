//! `middleware = [..]`: paths to middleware types (any path form), and `description`.
use inngest::middleware::{Middleware, RunInfo};
use inngest::{Context, Error};

#[derive(Default)]
struct Metrics;

impl Middleware for Metrics {
    async fn on_run_start(&self, _run: &RunInfo) {}
}

mod auth {
    #[derive(Default)]
    pub struct Auth;
    impl inngest::middleware::Middleware for Auth {}
}

#[inngest::function(
    id = "guarded",
    event = "app/guarded",
    description = "Runs behind two middleware",
    middleware = [Metrics, crate::auth::Auth],
)]
async fn guarded(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[inngest::function(id = "none", event = "app/none", middleware = [])]
async fn none(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {
    use inngest::Function;
    assert_eq!(guarded::DEFINITION.middleware.len(), 2);
    assert_eq!(
        guarded::DEFINITION.description,
        Some("Runs behind two middleware")
    );
    assert!(none::DEFINITION.middleware.is_empty());
    inngest::App::new("app")
        .register::<guarded>()
        .into_service()
        .unwrap();
}
