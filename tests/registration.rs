//! Registration: duplicate ids are refused at start-up with both source locations, an app id
//! cannot be guessed from functions of several packages, and explicit registration serves
//! exactly what was registered.

use inngest::{Context, Error};
use linked_lib as _;

mod billing {
    use super::*;
    #[inngest::function(id = "charge", event = "billing/charge")]
    pub async fn charge(_ctx: Context) -> Result<(), Error> {
        Ok(())
    }
}

mod payments {
    use super::*;
    #[inngest::function(id = "charge", event = "payments/charge")]
    pub async fn charge(_ctx: Context) -> Result<(), Error> {
        Ok(())
    }
}

#[inngest::function(id = "other", event = "other/event")]
async fn other(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[test]
fn duplicate_ids_are_refused_naming_both_locations() {
    let err = inngest::App::new("app").into_service().unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("cannot serve the Inngest app `app`: two Inngest functions with one id: `app-charge` is declared by"),
        "{message}"
    );
    assert!(
        message.contains("registration::billing::charge"),
        "{message}"
    );
    assert!(
        message.contains("registration::payments::charge"),
        "{message}"
    );
    assert!(message.contains("tests/registration.rs:10"), "{message}");
    assert!(message.contains("tests/registration.rs:18"), "{message}");
}

#[test]
fn serve_refuses_to_start_on_a_duplicate_id() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let result = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        inngest::App::new("app")
            .dev("http://127.0.0.1:9")
            .serve()
            .listener(listener)
            .await
    });
    assert!(result
        .unwrap_err()
        .to_string()
        .contains("`app-charge` is declared by"));
}

#[test]
fn no_app_id_from_several_packages() {
    if std::env::var_os("INNGEST_APP_ID").is_some() {
        return;
    }
    let err = inngest::App::from_env().into_service().unwrap_err();
    assert_eq!(
        err.to_string(),
        "no Inngest app id: the functions come from several packages (inngest-suite, linked-lib); set INNGEST_APP_ID or use inngest::App::new(\"my-app\")"
    );
}

#[test]
fn explicit_registration_serves_exactly_what_was_registered() {
    let service = inngest::App::new("app")
        .register::<billing::charge>()
        .register::<other>()
        .into_service()
        .unwrap();
    assert_eq!(service.function_ids(), vec!["app-charge", "app-other"]);
}

#[test]
fn registering_one_function_twice_is_a_duplicate() {
    let err = inngest::App::new("app")
        .register::<other>()
        .register::<other>()
        .into_service()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`app-other` is declared by `registration::other`"),
        "{err}"
    );
}

#[test]
fn cloud_mode_without_a_key_is_refused_with_a_clear_message() {
    let err = inngest::App::new("app")
        .dev("0")
        .into_service()
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Inngest Cloud mode (INNGEST_DEV=0) needs INNGEST_SIGNING_KEY"),
        "{err}"
    );
}
