// The public contract of design.md section 2, with a `main` that checks what the macros
// declared instead of serving.
use inngest::{Context, Error, FunctionFailed, NonRetriableError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signup { pub user_id: String, pub plan: String }

// Registers "<app-id>-send-welcome", triggered by the event "user/signup".
#[inngest::function(id = "send-welcome", event = "user/signup", retries = 3)]
async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
    // Memoized: runs once per run, its JSON result is replayed on later calls.
    let name: String = ctx
        .step
        .run("load-user", || async { Ok(format!("user-{}", ctx.event.data.user_id)) })
        .await?;
    if ctx.event.data.plan == "banned" {
        // Fails the run at once: no retries; Inngest then emits inngest/function.failed.
        return Err(NonRetriableError::new("banned users get no welcome").into());
    }
    Ok(format!("welcomed {name}"))
}

// Registers "<app-id>-send-welcome-failure", triggered by inngest/function.failed
// with the expression event.data.function_id == '<app-id>-send-welcome'.
#[inngest::on_failure(send_welcome)]
async fn send_welcome_failed(ctx: Context<FunctionFailed<Signup>>) -> Result<String, Error> {
    let failed = &ctx.event.data;          // function_id, run_id, error, event
    Ok(format!("{} failed: {}", failed.function_id, failed.error.message))
}

#[inngest::function(id = "named_1", event = "app/named", name = "A named function")]
async fn named(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[allow(dead_code)]
async fn never_run() -> Result<(), Error> {
    inngest::serve().await // serves every annotated function
}

fn main() {
    use inngest::__private::{Kind, Trigger};
    use inngest::Function;

    let function = <send_welcome as Function>::DEFINITION;
    assert_eq!(function.id, "send-welcome");
    assert_eq!(function.name, None);
    assert_eq!(function.retries, Some(3));
    assert!(matches!(function.kind, Kind::Function));
    assert!(matches!(
        function.triggers,
        [Trigger::Event { name: "user/signup", expression: None }]
    ));
    assert!(function.rust_name.ends_with("::send_welcome"), "{}", function.rust_name);
    assert!(function.file.ends_with("basic.rs"), "{}", function.file);
    assert_eq!(function.line, 10, "the line of the attribute");
    assert_eq!(function.package, env!("CARGO_PKG_NAME"));

    let handler = <send_welcome_failed as Function>::DEFINITION;
    assert_eq!(handler.id, "send-welcome");
    assert_eq!(handler.retries, Some(1), "a failure handler retries once by default");
    assert!(
        matches!(handler.kind, Kind::FailureHandler { target } if std::ptr::eq(target, function))
    );
    assert!(handler.triggers.is_empty());
    assert!(handler.rust_name.ends_with("::send_welcome_failed"), "{}", handler.rust_name);
    assert_eq!(handler.line, 26);
    assert_eq!(
        std::any::TypeId::of::<<send_welcome_failed as Function>::Event>(),
        std::any::TypeId::of::<FunctionFailed<Signup>>()
    );
    assert_eq!(
        std::any::TypeId::of::<<send_welcome as Function>::Output>(),
        std::any::TypeId::of::<String>()
    );

    let named = <named as Function>::DEFINITION;
    assert_eq!(named.id, "named_1");
    assert_eq!(named.name, Some("A named function"));
    assert_eq!(named.retries, None);

    // All three are registered for `serve()`.
    let mut ids: Vec<(&str, bool)> = inngest::__private::inventory::iter::<inngest::__private::Registration>
        .into_iter()
        .map(|r| (r.definition.id, matches!(r.definition.kind, Kind::FailureHandler { .. })))
        .collect();
    ids.sort();
    assert_eq!(ids, [("named_1", false), ("send-welcome", false), ("send-welcome", true)]);
}
