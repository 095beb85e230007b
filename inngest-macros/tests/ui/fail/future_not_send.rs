use std::rc::Rc;

use inngest::{Context, Error};

async fn load() {}

#[inngest::function(id = "send-welcome", event = "user/signup")]
async fn send_welcome(_ctx: Context) -> Result<usize, Error> {
    let counter = Rc::new(1);
    load().await;
    Ok(*counter)
}

fn main() {}
