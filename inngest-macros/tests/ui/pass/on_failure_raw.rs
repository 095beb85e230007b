// A failure handler may take the failed event as raw JSON, `FunctionFailed` without `<E>`,
// name its types with any path prefix, and name its function by a path into a module.
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Order {
    pub order_id: String,
}

pub mod jobs {
    use inngest::{Context, Error};

    #[inngest::function(id = "ship-order", event = "shop/order.paid")]
    pub async fn ship_order(ctx: Context<crate::Order>) -> Result<String, Error> {
        Ok(ctx.event.data.order_id)
    }
}

#[inngest::on_failure(crate::jobs::ship_order, retries = 0)]
async fn ship_order_failed(
    ctx: inngest::Context<inngest::FunctionFailed>,
) -> Result<Option<String>, inngest::Error> {
    Ok(ctx.event.data.event.data["order_id"].as_str().map(str::to_owned))
}

// And typed, through a path prefix on both `Context` and `FunctionFailed`.
pub mod typed {
    #[inngest::function(id = "pack-order", event = "shop/order.paid")]
    pub async fn pack_order(
        ctx: inngest::Context<super::Order>,
    ) -> Result<String, inngest::Error> {
        Ok(ctx.event.data.order_id)
    }

    #[inngest::on_failure(pack_order)]
    pub async fn pack_order_failed(
        ctx: inngest::Context<inngest::FunctionFailed<super::Order>>,
    ) -> Result<String, inngest::Error> {
        Ok(ctx.event.data.event.data.order_id)
    }
}

fn main() {
    use inngest::__private::Kind;
    use inngest::Function;
    let handler = <ship_order_failed as Function>::DEFINITION;
    assert_eq!(handler.retries, Some(0));
    assert!(matches!(handler.kind, Kind::FailureHandler { target } if target.id == "ship-order"));
    let typed = <typed::pack_order_failed as Function>::DEFINITION;
    assert!(matches!(typed.kind, Kind::FailureHandler { target } if target.id == "pack-order"));
}
