// Several triggers, in each form: events with and without `if`, crons with a time zone and a
// jitter, and the events Inngest itself sends. The definition keeps them in the order written.
use inngest::__private::Trigger;
use inngest::{Context, Error, Function};

#[inngest::function(
    id = "many-triggers",
    event = "user/signup",
    event(name = "user/upgraded", if = "event.data.plan == 'pro'"),
    cron = "0 9 * * MON-FRI",
    cron(schedule = "TZ=Europe/Paris 0 9 * * *", jitter = "5m"),
    cron(schedule = " */15 * * * * "),
    event = "inngest/function.finished",
    event(name = "user/signup", if = "event.data.source == 'ads'"),
)]
async fn many_triggers(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[inngest::function(id = "cron-only", cron = "CRON_TZ=America/New_York 30 2 1-15/2 jan,jul sun")]
async fn cron_only(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {
    let triggers: Vec<String> = <many_triggers as Function>::DEFINITION
        .triggers
        .iter()
        .map(|trigger| match trigger {
            Trigger::Event { name, expression } => format!("event {name} {expression:?}"),
            Trigger::Cron { schedule, jitter } => format!("cron {schedule} {jitter:?}"),
        })
        .collect();
    assert_eq!(
        triggers,
        [
            "event user/signup None",
            "event user/upgraded Some(\"event.data.plan == 'pro'\")",
            "cron 0 9 * * MON-FRI None",
            "cron TZ=Europe/Paris 0 9 * * * Some(\"5m\")",
            "cron */15 * * * * None",
            "event inngest/function.finished None",
            "event user/signup Some(\"event.data.source == 'ads'\")",
        ]
    );
    assert!(matches!(
        <cron_only as Function>::DEFINITION.triggers,
        [Trigger::Cron { schedule: "CRON_TZ=America/New_York 30 2 1-15/2 jan,jul sun", jitter: None }]
    ));
}
