use inngest::{Context, Error};

// Five mistakes in the attribute and three in the signature: all eight are reported at once.
#[inngest::function(id = "send welcome", retries = 99, timeout = "1m", retries = 2)]
fn send_welcome<T>(_ctx: Context, _extra: T) -> Result<(), Error> {
    Ok(())
}

fn main() {}
