#[inngest::function(id = "send-welcome", event = "user/signup")]
struct SendWelcome;

fn main() {}
