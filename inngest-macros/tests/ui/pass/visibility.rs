// Each hidden type takes its fn's visibility; a private failure handler may handle a public
// function, and a public function may be registered or handled from another module.
pub mod jobs {
    use inngest::{Context, Error};
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    pub struct Signup {
        pub user_id: String,
    }

    #[inngest::function(id = "send-welcome", event = "user/signup")]
    pub async fn send_welcome(ctx: Context<Signup>) -> Result<String, Error> {
        Ok(ctx.event.data.user_id)
    }

    pub(crate) mod inner {
        use inngest::{Context, Error};

        #[inngest::function(id = "inner", event = "app/inner")]
        pub(in crate::jobs) async fn inner(_ctx: Context) -> Result<(), Error> {
            Ok(())
        }

        #[inngest::function(id = "inner-crate", event = "app/inner")]
        pub(crate) async fn inner_crate(_ctx: Context) -> Result<(), Error> {
            Ok(())
        }
    }

    pub fn app() -> inngest::App {
        inngest::App::new("app").register::<inner::inner>()
    }
}

#[inngest::on_failure(jobs::send_welcome)]
async fn send_welcome_failed(
    ctx: inngest::Context<inngest::FunctionFailed<jobs::Signup>>,
) -> Result<String, inngest::Error> {
    Ok(ctx.event.data.event.data.user_id)
}

#[inngest::on_failure(jobs::inner::inner_crate)]
async fn inner_crate_failed(
    _ctx: inngest::Context<inngest::FunctionFailed>,
) -> Result<(), inngest::Error> {
    Ok(())
}

fn main() {
    let _app = jobs::app()
        .register::<jobs::send_welcome>()
        .register::<send_welcome_failed>()
        .register::<jobs::inner::inner_crate>()
        .register::<inner_crate_failed>();
}
