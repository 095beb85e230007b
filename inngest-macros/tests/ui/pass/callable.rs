// The annotated fn stays as written: callable directly, with its signature, beside the hidden
// type of the same name.
use std::future::Future;

use inngest::{Context, Error, FunctionFailed};

#[inngest::function(id = "double", event = "math/double")]
pub async fn double(ctx: Context<u64>) -> Result<u64, Error> {
    Ok(ctx.event.data * 2)
}

#[inngest::on_failure(double)]
pub async fn double_failed(ctx: Context<FunctionFailed<u64>>) -> Result<u64, Error> {
    Ok(ctx.event.data.event.data)
}

fn is_handler<E, T, F, Fut>(_: F)
where
    F: Fn(Context<E>) -> Fut,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
{
}

fn is_function<F: inngest::Function>() {}

fn main() {
    // The value namespace holds the user's fn...
    is_handler::<u64, u64, _, _>(double);
    is_handler::<FunctionFailed<u64>, u64, _, _>(double_failed);
    let as_fn_pointer: fn(Context<u64>) -> _ = double;
    let _ = as_fn_pointer;
    // ...and the type namespace the hidden type, usable for explicit registration.
    is_function::<double>();
    is_function::<double_failed>();
    let _app = inngest::App::new("app").register::<double>().register::<double_failed>();
}
