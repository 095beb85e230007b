use inngest::{Context, Error};

struct Mailer;

impl Mailer {
    #[inngest::function(id = "send-welcome", event = "user/signup")]
    async fn send_welcome(&self, _ctx: Context) -> Result<(), Error> {
        Ok(())
    }
}

fn main() {}
