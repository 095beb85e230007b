// Functions declared by the user's own `macro_rules!`, with the fn's name (and with it the
// generated code's local names) coming from the macro's caller: the generated code must
// resolve its locals whichever hygiene context each token comes from.
use inngest::{Context, Error, FunctionFailed};

macro_rules! echo_function {
    ($name:ident, $id:literal, $event:literal) => {
        #[inngest::function(id = $id, event = $event)]
        async fn $name(ctx: Context) -> Result<String, Error> {
            Ok(ctx.event.name.clone())
        }
    };
}

macro_rules! failure_handler {
    ($name:ident for $target:ident) => {
        #[inngest::on_failure($target)]
        async fn $name(ctx: Context<FunctionFailed>) -> Result<(), Error> {
            let _ = &ctx.event.data.function_id;
            Ok(())
        }
    };
}

macro_rules! whole_function {
    () => {
        #[inngest::function(id = "whole", event = "demo/whole")]
        async fn whole(ctx: Context) -> Result<u32, Error> {
            ctx.step.run("one", || async { Ok(1_u32) }).await
        }
    };
}

echo_function!(echo_a, "echo-a", "demo/a");
echo_function!(echo_b, "echo-b", "demo/b");
failure_handler!(echo_a_failed for echo_a);
whole_function!();

fn main() {
    use inngest::Function;
    assert_eq!(<echo_a as Function>::DEFINITION.id, "echo-a");
    assert_eq!(<echo_b as Function>::DEFINITION.triggers.len(), 1);
    assert!(<echo_a_failed as Function>::DEFINITION.rust_name.ends_with("::echo_a_failed"));
    assert_eq!(<whole as Function>::DEFINITION.id, "whole");
}
