use inngest::{Context, Error};

// `inngest/` is reserved; only the events Inngest sends can be named.
#[inngest::function(id = "f", event = "inngest/user.created")]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
