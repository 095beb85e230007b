// `checkpointing` in the attribute: off, on, or its settings, each read into the definition.
#![deny(warnings)]
use std::time::Duration;

use inngest::{Checkpointing, Context, Error, Function};

#[inngest::function(id = "classic", event = "app/a", checkpointing = false)]
async fn classic(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[inngest::function(id = "default", event = "app/b", checkpointing = true)]
async fn default(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[inngest::function(
    id = "tuned",
    event = "app/c",
    checkpointing(buffered_steps = 5, max_interval = "1s", max_runtime = "0s"),
)]
async fn tuned(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[inngest::function(id = "unset", event = "app/d")]
async fn unset(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {
    assert_eq!(<classic as Function>::DEFINITION.options.checkpointing, Some(Checkpointing::OFF));
    assert_eq!(<default as Function>::DEFINITION.options.checkpointing, Some(Checkpointing::ON));
    let tuned = <tuned as Function>::DEFINITION.options.checkpointing.unwrap();
    assert_eq!(
        tuned,
        Checkpointing::ON
            .buffered_steps(5)
            .max_interval(Duration::from_secs(1))
            .max_runtime(Duration::ZERO)
    );
    assert_eq!(tuned.runtime(), None);
    assert_eq!(tuned.interval(), Some(Duration::from_secs(1)));
    assert_eq!(<unset as Function>::DEFINITION.options.checkpointing, None);
}
