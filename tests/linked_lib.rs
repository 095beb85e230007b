//! Functions declared in a library crate are found by a binary that only links it, and the
//! app id falls back to the package name the macros captured.

// The binary names nothing from the library; linking it is enough.
use linked_lib as _;

#[test]
fn functions_of_a_linked_library_are_found() {
    let service = inngest::App::new("bin").into_service().unwrap();
    assert_eq!(service.function_ids(), vec!["bin-from-lib"]);
}

#[test]
fn the_app_id_defaults_to_the_package_name_of_the_functions() {
    if std::env::var_os("INNGEST_APP_ID").is_some() {
        return; // the environment chose the id; nothing to check here
    }
    let service = inngest::App::from_env().into_service().unwrap();
    assert_eq!(service.app_id(), "linked-lib");
    assert_eq!(service.function_ids(), vec!["linked-lib-from-lib"]);
}
