//! The limits the Inngest server enforces on a function's configuration and steps
//! (protocol.md section 9). Each names the server constant or check it mirrors, in the
//! repository inngest/inngest.

use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

/// The most retries a function or step may have (`consts.MaxRetries`).
pub const MAX_RETRIES: u32 = 20;

/// The retries of a function that declares none (`consts.DefaultRetryCount`).
pub const DEFAULT_RETRIES: u32 = 4;

/// The longest sleep, and the longest `wait_for_event` timeout (`consts.MaxSleepDuration`,
/// `consts.MaxWaitForEventTimeout`).
pub const MAX_SLEEP: Duration = Duration::from_secs(366 * 86_400);

/// The most triggers a function may have (`consts.MaxTriggers`).
pub const MAX_TRIGGERS: usize = 10;

/// The longest event name a trigger may name (`pkg/inngest/trigger.go` `MaxEventNameLength`).
pub const MAX_TRIGGER_EVENT_NAME_LENGTH: usize = 255;

/// The longest cron expression (`pkg/inngest/trigger.go` `MaxCronLength`).
pub const MAX_CRON_LENGTH: usize = 255;

/// The shortest non-zero cron jitter (`pkg/inngest/trigger.go` `MinCronJitter`).
pub const MIN_CRON_JITTER: Duration = SECOND;

/// The longest cron jitter (`pkg/inngest/trigger.go` `MaxCronJitter`).
pub const MAX_CRON_JITTER: Duration = Duration::from_secs(5 * 60);

/// The most concurrency limits a function may have (`consts.MaxConcurrencyLimits`).
pub const MAX_CONCURRENCY_LIMITS: usize = 2;

/// The shortest throttle period: the server counts throttle periods in whole seconds
/// (`pkg/execution/queue/item.go`).
pub const MIN_THROTTLE_PERIOD: Duration = SECOND;

/// The longest rate-limit period, which is also how long an idempotency key holds
/// (`consts.FunctionIdempotencyPeriod`, checked by `RateLimit.IsValid`).
pub const MAX_RATE_LIMIT_PERIOD: Duration = Duration::from_secs(24 * 3600);

/// The shortest debounce period (`consts.MinDebouncePeriod`).
pub const MIN_DEBOUNCE_PERIOD: Duration = SECOND;

/// The longest debounce period (`consts.MaxDebouncePeriod`).
pub const MAX_DEBOUNCE_PERIOD: Duration = Duration::from_secs(7 * 86_400);

/// The smallest batch: a batch of one is no batch (`EventBatchConfig.IsValid`).
pub const MIN_BATCH_SIZE: u32 = 2;

/// The largest batch (`consts.DefaultBatchSizeLimit`).
pub const MAX_BATCH_SIZE: u32 = 100;

/// The shortest batch timeout (`EventBatchConfig.IsValid`).
pub const MIN_BATCH_TIMEOUT: Duration = SECOND;

/// The most cancellation events a function may have (`consts.MaxCancellations`).
pub const MAX_CANCELLATIONS: usize = 5;

/// How long a cancellation listens when its timeout is not given (`consts.CancelTimeout`).
/// The server sets no maximum; this SDK accepts no longer timeout, so that a typo such as
/// `"700d"` for `"7d"` is caught.
pub const CANCEL_TIMEOUT: Duration = Duration::from_secs(365 * 86_400);

/// The prefix of the event names Inngest reserves for itself (`consts.InternalNamePrefix`);
/// the server refuses events sent with it.
pub const INTERNAL_EVENT_PREFIX: &str = "inngest/";

/// The events Inngest itself sends, the only `inngest/` events a trigger can name
/// (`pkg/consts/events.go`).
pub const SYSTEM_EVENTS: &[&str] = &[
    "inngest/function.failed",
    "inngest/function.finished",
    "inngest/function.cancelled",
    "inngest/function.invoked",
    "inngest/scheduled.timer",
    "inngest/deferred.schedule",
    "inngest/http.request",
];

/// Whether `name` uses the reserved prefix without being one of the [`SYSTEM_EVENTS`]: no
/// event of that name ever reaches a function. The prefix is matched without regard to case,
/// as the server matches it.
pub fn is_reserved_event_name(name: &str) -> bool {
    let prefixed = name
        .get(..INTERNAL_EVENT_PREFIX.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(INTERNAL_EVENT_PREFIX));
    prefixed && !SYSTEM_EVENTS.contains(&name)
}

/// The most steps a run may have (`consts.DefaultMaxStepLimit`); past it the run fails with
/// `InngestErrFunctionOverflowed`.
pub const MAX_STEPS_PER_RUN: usize = 1000;

/// The largest output (or input) of one step (`consts.MaxStepOutputSize`, 4 MiB).
pub const MAX_STEP_OUTPUT_BYTES: usize = 4 * 1024 * 1024;

/// The largest answer an SDK may give to a call request (`consts.MaxSDKResponseBodySize`).
pub const MAX_SDK_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// The largest call request body before the server sends `use_api` instead
/// (`consts.MaxSDKRequestBodySize`).
pub const MAX_SDK_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The most state (step outputs) a run may hold (`consts.DefaultMaxStateSizeLimit`, 32 MiB).
pub const MAX_STATE_BYTES: usize = 32 * 1024 * 1024;

/// The largest event an SDK sends by default (`consts.DefaultMaxEventSize`, 512 KiB).
pub const MAX_EVENT_BYTES: usize = 512 * 1024;

/// The largest event the open-source event API accepts (`consts.AbsoluteMaxEventSize`).
pub const ABSOLUTE_MAX_EVENT_BYTES: usize = 3 * 1024 * 1024;

/// The most events one request to the event API may carry.
pub const MAX_EVENTS_PER_REQUEST: usize = 5000;

/// The longest event name.
pub const MAX_EVENT_NAME_LENGTH: usize = 512;

/// How long the server waits for an SDK to answer one call request over HTTP.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2 * 3600);

/// How long an invoke waits for its function when no timeout is given.
pub const DEFAULT_INVOKE_TIMEOUT: Duration = Duration::from_secs(365 * 86_400);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_are_the_unknown_inngest_ones() {
        assert!(is_reserved_event_name("inngest/user.signup"));
        assert!(is_reserved_event_name("Inngest/function.failed"));
        assert!(!is_reserved_event_name("inngest/function.failed"));
        assert!(!is_reserved_event_name("inngest/scheduled.timer"));
        assert!(!is_reserved_event_name("user/inngest/signup"));
        assert!(!is_reserved_event_name("inngest"));
        assert!(!is_reserved_event_name("ingest/x"));
    }
}
