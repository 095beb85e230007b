use inngest::{Context, Error};

#[inngest::function(id = "f", event(if = "event.data.plan == 'pro'"))]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
