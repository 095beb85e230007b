//! Header names of the protocol (protocol.md section 6.1), lowercase as HTTP/2 sends them.

/// Set by every SDK response and request: `inngest-rs:v0.1.0`, `inngest-js:v4.2.0`, ...
pub const X_INNGEST_SDK: &str = "x-inngest-sdk";
/// `t=<unix seconds>&s=<hex HMAC-SHA256>`: on calls from Inngest and on signed SDK answers.
pub const X_INNGEST_SIGNATURE: &str = "x-inngest-signature";
/// `true`: the error must not be retried; any other value: it may be.
pub const X_INNGEST_NO_RETRY: &str = "x-inngest-no-retry";
/// The request version the SDK speaks (`2`), stored for the run.
pub const X_INNGEST_REQ_VERSION: &str = "x-inngest-req-version";
/// When to retry: seconds (7 characters or fewer) or a date.
pub const RETRY_AFTER: &str = "retry-after";
/// `dev` or `cloud`: who sends a sync `PUT`.
pub const X_INNGEST_SERVER_KIND: &str = "x-inngest-server-kind";
/// The server kind the SDK expects, sent with the register request.
pub const X_INNGEST_EXPECTED_SERVER_KIND: &str = "x-inngest-expected-server-kind";
/// `in_band` or `out_of_band`.
pub const X_INNGEST_SYNC_KIND: &str = "x-inngest-sync-kind";
/// The branch environment.
pub const X_INNGEST_ENV: &str = "x-inngest-env";
/// The step a call targets: `step` or a hashed id (the same as the `stepId` query).
pub const X_INNGEST_STEP_ID: &str = "x-inngest-step-id";
/// The run a call belongs to.
pub const X_RUN_ID: &str = "x-run-id";
/// The dispatch generation of a call's queue item; an SDK sends it back in its async
/// checkpoints (`generation_id`), and a checkpoint from a superseded call is refused (409).
pub const X_INNGEST_GENERATION_ID: &str = "x-inngest-generation-id";
/// The id of a call's dispatch, new for each; an SDK sends it back in its async checkpoints
/// (`request_id`).
pub const X_REQUEST_ID: &str = "x-request-id";
/// The id of a call's queue item (the server's job id), the same for every attempt.
pub const X_INNGEST_JOB_ID: &str = "x-inngest-job-id";
/// Seeds the ids of the events of one send, so retried sends are deduplicated.
pub const X_INNGEST_EVENT_ID_SEED: &str = "x-inngest-event-id-seed";
/// The SDK's HTTP framework.
pub const X_INNGEST_FRAMEWORK: &str = "x-inngest-framework";
/// The SDK's hosting platform.
pub const X_INNGEST_PLATFORM: &str = "x-inngest-platform";
/// Sent by the server's sync driver: plan every step, execute none in discovery.
pub const X_INNGEST_FORCE_STEP_PLAN: &str = "x-inngest-force-step-plan";
