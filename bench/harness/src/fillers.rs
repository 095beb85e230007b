//! The 99 other functions of the Rust bench server (so that it registers 100, as the peers
//! do): each answers with a small object at once. Written out one by one: `#[inngest::function]`
//! cannot be expanded from a `macro_rules!` macro that passes the function's name as
//! `$name:ident` (the generated call names its argument with the name's hygiene).

use inngest::{App, Context, Error};
use serde_json::{json, Value};

#[inngest::function(id = "fn-00", event = "bench/fn-00")]
async fn filler_00(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-00", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-01", event = "bench/fn-01")]
async fn filler_01(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-01", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-02", event = "bench/fn-02")]
async fn filler_02(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-02", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-03", event = "bench/fn-03")]
async fn filler_03(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-03", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-04", event = "bench/fn-04")]
async fn filler_04(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-04", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-05", event = "bench/fn-05")]
async fn filler_05(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-05", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-06", event = "bench/fn-06")]
async fn filler_06(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-06", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-07", event = "bench/fn-07")]
async fn filler_07(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-07", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-08", event = "bench/fn-08")]
async fn filler_08(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-08", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-09", event = "bench/fn-09")]
async fn filler_09(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-09", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-10", event = "bench/fn-10")]
async fn filler_10(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-10", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-11", event = "bench/fn-11")]
async fn filler_11(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-11", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-12", event = "bench/fn-12")]
async fn filler_12(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-12", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-13", event = "bench/fn-13")]
async fn filler_13(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-13", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-14", event = "bench/fn-14")]
async fn filler_14(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-14", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-15", event = "bench/fn-15")]
async fn filler_15(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-15", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-16", event = "bench/fn-16")]
async fn filler_16(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-16", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-17", event = "bench/fn-17")]
async fn filler_17(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-17", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-18", event = "bench/fn-18")]
async fn filler_18(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-18", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-19", event = "bench/fn-19")]
async fn filler_19(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-19", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-20", event = "bench/fn-20")]
async fn filler_20(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-20", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-21", event = "bench/fn-21")]
async fn filler_21(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-21", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-22", event = "bench/fn-22")]
async fn filler_22(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-22", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-23", event = "bench/fn-23")]
async fn filler_23(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-23", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-24", event = "bench/fn-24")]
async fn filler_24(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-24", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-25", event = "bench/fn-25")]
async fn filler_25(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-25", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-26", event = "bench/fn-26")]
async fn filler_26(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-26", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-27", event = "bench/fn-27")]
async fn filler_27(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-27", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-28", event = "bench/fn-28")]
async fn filler_28(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-28", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-29", event = "bench/fn-29")]
async fn filler_29(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-29", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-30", event = "bench/fn-30")]
async fn filler_30(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-30", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-31", event = "bench/fn-31")]
async fn filler_31(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-31", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-32", event = "bench/fn-32")]
async fn filler_32(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-32", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-33", event = "bench/fn-33")]
async fn filler_33(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-33", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-34", event = "bench/fn-34")]
async fn filler_34(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-34", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-35", event = "bench/fn-35")]
async fn filler_35(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-35", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-36", event = "bench/fn-36")]
async fn filler_36(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-36", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-37", event = "bench/fn-37")]
async fn filler_37(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-37", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-38", event = "bench/fn-38")]
async fn filler_38(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-38", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-39", event = "bench/fn-39")]
async fn filler_39(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-39", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-40", event = "bench/fn-40")]
async fn filler_40(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-40", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-41", event = "bench/fn-41")]
async fn filler_41(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-41", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-42", event = "bench/fn-42")]
async fn filler_42(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-42", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-43", event = "bench/fn-43")]
async fn filler_43(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-43", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-44", event = "bench/fn-44")]
async fn filler_44(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-44", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-45", event = "bench/fn-45")]
async fn filler_45(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-45", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-46", event = "bench/fn-46")]
async fn filler_46(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-46", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-47", event = "bench/fn-47")]
async fn filler_47(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-47", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-48", event = "bench/fn-48")]
async fn filler_48(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-48", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-49", event = "bench/fn-49")]
async fn filler_49(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-49", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-50", event = "bench/fn-50")]
async fn filler_50(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-50", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-51", event = "bench/fn-51")]
async fn filler_51(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-51", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-52", event = "bench/fn-52")]
async fn filler_52(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-52", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-53", event = "bench/fn-53")]
async fn filler_53(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-53", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-54", event = "bench/fn-54")]
async fn filler_54(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-54", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-55", event = "bench/fn-55")]
async fn filler_55(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-55", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-56", event = "bench/fn-56")]
async fn filler_56(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-56", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-57", event = "bench/fn-57")]
async fn filler_57(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-57", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-58", event = "bench/fn-58")]
async fn filler_58(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-58", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-59", event = "bench/fn-59")]
async fn filler_59(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-59", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-60", event = "bench/fn-60")]
async fn filler_60(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-60", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-61", event = "bench/fn-61")]
async fn filler_61(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-61", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-62", event = "bench/fn-62")]
async fn filler_62(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-62", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-63", event = "bench/fn-63")]
async fn filler_63(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-63", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-64", event = "bench/fn-64")]
async fn filler_64(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-64", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-65", event = "bench/fn-65")]
async fn filler_65(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-65", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-66", event = "bench/fn-66")]
async fn filler_66(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-66", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-67", event = "bench/fn-67")]
async fn filler_67(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-67", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-68", event = "bench/fn-68")]
async fn filler_68(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-68", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-69", event = "bench/fn-69")]
async fn filler_69(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-69", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-70", event = "bench/fn-70")]
async fn filler_70(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-70", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-71", event = "bench/fn-71")]
async fn filler_71(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-71", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-72", event = "bench/fn-72")]
async fn filler_72(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-72", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-73", event = "bench/fn-73")]
async fn filler_73(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-73", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-74", event = "bench/fn-74")]
async fn filler_74(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-74", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-75", event = "bench/fn-75")]
async fn filler_75(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-75", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-76", event = "bench/fn-76")]
async fn filler_76(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-76", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-77", event = "bench/fn-77")]
async fn filler_77(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-77", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-78", event = "bench/fn-78")]
async fn filler_78(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-78", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-79", event = "bench/fn-79")]
async fn filler_79(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-79", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-80", event = "bench/fn-80")]
async fn filler_80(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-80", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-81", event = "bench/fn-81")]
async fn filler_81(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-81", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-82", event = "bench/fn-82")]
async fn filler_82(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-82", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-83", event = "bench/fn-83")]
async fn filler_83(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-83", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-84", event = "bench/fn-84")]
async fn filler_84(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-84", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-85", event = "bench/fn-85")]
async fn filler_85(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-85", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-86", event = "bench/fn-86")]
async fn filler_86(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-86", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-87", event = "bench/fn-87")]
async fn filler_87(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-87", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-88", event = "bench/fn-88")]
async fn filler_88(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-88", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-89", event = "bench/fn-89")]
async fn filler_89(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-89", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-90", event = "bench/fn-90")]
async fn filler_90(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-90", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-91", event = "bench/fn-91")]
async fn filler_91(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-91", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-92", event = "bench/fn-92")]
async fn filler_92(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-92", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-93", event = "bench/fn-93")]
async fn filler_93(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-93", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-94", event = "bench/fn-94")]
async fn filler_94(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-94", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-95", event = "bench/fn-95")]
async fn filler_95(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-95", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-96", event = "bench/fn-96")]
async fn filler_96(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-96", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-97", event = "bench/fn-97")]
async fn filler_97(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-97", "event": ctx.event.name }))
}

#[inngest::function(id = "fn-98", event = "bench/fn-98")]
async fn filler_98(ctx: Context) -> Result<Value, Error> {
    Ok(json!({ "fn": "fn-98", "event": ctx.event.name }))
}

/// Registers the 99 functions with `app`.
pub fn register(app: App) -> App {
    app.register::<filler_00>()
        .register::<filler_01>()
        .register::<filler_02>()
        .register::<filler_03>()
        .register::<filler_04>()
        .register::<filler_05>()
        .register::<filler_06>()
        .register::<filler_07>()
        .register::<filler_08>()
        .register::<filler_09>()
        .register::<filler_10>()
        .register::<filler_11>()
        .register::<filler_12>()
        .register::<filler_13>()
        .register::<filler_14>()
        .register::<filler_15>()
        .register::<filler_16>()
        .register::<filler_17>()
        .register::<filler_18>()
        .register::<filler_19>()
        .register::<filler_20>()
        .register::<filler_21>()
        .register::<filler_22>()
        .register::<filler_23>()
        .register::<filler_24>()
        .register::<filler_25>()
        .register::<filler_26>()
        .register::<filler_27>()
        .register::<filler_28>()
        .register::<filler_29>()
        .register::<filler_30>()
        .register::<filler_31>()
        .register::<filler_32>()
        .register::<filler_33>()
        .register::<filler_34>()
        .register::<filler_35>()
        .register::<filler_36>()
        .register::<filler_37>()
        .register::<filler_38>()
        .register::<filler_39>()
        .register::<filler_40>()
        .register::<filler_41>()
        .register::<filler_42>()
        .register::<filler_43>()
        .register::<filler_44>()
        .register::<filler_45>()
        .register::<filler_46>()
        .register::<filler_47>()
        .register::<filler_48>()
        .register::<filler_49>()
        .register::<filler_50>()
        .register::<filler_51>()
        .register::<filler_52>()
        .register::<filler_53>()
        .register::<filler_54>()
        .register::<filler_55>()
        .register::<filler_56>()
        .register::<filler_57>()
        .register::<filler_58>()
        .register::<filler_59>()
        .register::<filler_60>()
        .register::<filler_61>()
        .register::<filler_62>()
        .register::<filler_63>()
        .register::<filler_64>()
        .register::<filler_65>()
        .register::<filler_66>()
        .register::<filler_67>()
        .register::<filler_68>()
        .register::<filler_69>()
        .register::<filler_70>()
        .register::<filler_71>()
        .register::<filler_72>()
        .register::<filler_73>()
        .register::<filler_74>()
        .register::<filler_75>()
        .register::<filler_76>()
        .register::<filler_77>()
        .register::<filler_78>()
        .register::<filler_79>()
        .register::<filler_80>()
        .register::<filler_81>()
        .register::<filler_82>()
        .register::<filler_83>()
        .register::<filler_84>()
        .register::<filler_85>()
        .register::<filler_86>()
        .register::<filler_87>()
        .register::<filler_88>()
        .register::<filler_89>()
        .register::<filler_90>()
        .register::<filler_91>()
        .register::<filler_92>()
        .register::<filler_93>()
        .register::<filler_94>()
        .register::<filler_95>()
        .register::<filler_96>()
        .register::<filler_97>()
        .register::<filler_98>()
}
