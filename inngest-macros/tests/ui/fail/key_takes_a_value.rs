use inngest::{Context, Error};

#[inngest::function(id("f"), event = "app/e")]
async fn f(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
