use inngest::Context;

#[inngest::function(id = "send-welcome", event = "user/signup")]
async fn send_welcome(_ctx: Context) -> String {
    String::new()
}

fn main() {}
