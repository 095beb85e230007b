use inngest::{Context, Error};

#[inngest::function(id = "a", event = "app/a", checkpointing = "yes")]
async fn not_a_bool(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[inngest::function(id = "b", event = "app/b", checkpointing(buffered = 5))]
async fn unknown_setting(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[inngest::function(id = "c", event = "app/c", checkpointing(buffered_steps = 0, max_interval = "soon"))]
async fn bad_values(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {}
