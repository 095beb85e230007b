// A function with both handlers: a failure handler and a cancellation handler, typed or raw,
// each registered beside it with its own definition.
use inngest::__private::Kind;
use inngest::{Context, Error, Function, FunctionCancelled, FunctionFailed};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Signup {
    pub user_id: String,
}

#[inngest::function(
    id = "onboarding",
    event = "user/signup",
    cancel_on(event = "user/deleted", if = "event.data.user_id == async.data.user_id"),
)]
async fn onboarding(ctx: Context<Signup>) -> Result<String, Error> {
    Ok(ctx.event.data.user_id)
}

#[inngest::on_failure(onboarding)]
async fn onboarding_failed(ctx: Context<FunctionFailed<Signup>>) -> Result<String, Error> {
    Ok(ctx.event.data.event.data.user_id)
}

#[inngest::on_cancel(onboarding, retries = 3)]
async fn onboarding_cancelled(ctx: Context<FunctionCancelled<Signup>>) -> Result<String, Error> {
    let cancelled = ctx.event.data;
    Ok(format!("{} {}", cancelled.run_id, cancelled.event.data.user_id))
}

pub mod raw {
    #[inngest::function(id = "raw", event = "app/raw")]
    pub async fn raw(_ctx: inngest::Context) -> Result<(), inngest::Error> {
        Ok(())
    }
}

#[inngest::on_cancel(raw::raw)]
async fn raw_cancelled(
    ctx: inngest::Context<inngest::FunctionCancelled>,
) -> Result<serde_json::Value, inngest::Error> {
    Ok(ctx.event.data.event.data)
}

fn main() {
    let function = <onboarding as Function>::DEFINITION;
    let cancel = <onboarding_cancelled as Function>::DEFINITION;
    assert!(matches!(cancel.kind, Kind::CancelHandler { target } if std::ptr::eq(target, function)));
    assert_eq!(cancel.retries, Some(3));
    assert!(cancel.triggers.is_empty());
    assert_eq!(cancel.options, inngest::__private::Options::NONE);
    assert!(matches!(
        <onboarding_failed as Function>::DEFINITION.kind,
        Kind::FailureHandler { target } if std::ptr::eq(target, function)
    ));
    let raw = <raw_cancelled as Function>::DEFINITION;
    assert_eq!(raw.retries, Some(1));
    assert!(matches!(raw.kind, Kind::CancelHandler { target } if target.id == "raw"));
}
