// The fn keeps its attributes; a `#[cfg]` after the attribute removes the generated items too;
// raw identifiers and functions declared inside a fn body work.
use inngest::{Context, Error, Function};

#[inngest::function(id = "only-in-tests", event = "app/test")]
#[cfg(any())]
async fn compiled_out(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[inngest::function(id = "kept", event = "app/kept")]
#[cfg(all())]
#[must_use = "a future does nothing unless awaited"]
#[inline]
async fn kept(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

#[inngest::function(id = "raw-ident", event = "app/raw")]
async fn r#move(_ctx: Context) -> Result<(), Error> {
    Ok(())
}

fn main() {
    #[inngest::function(id = "local", event = "app/local")]
    async fn local(_ctx: Context) -> Result<(), Error> {
        Ok(())
    }

    assert_eq!(<kept as Function>::DEFINITION.id, "kept");
    assert!(<r#move as Function>::DEFINITION.rust_name.ends_with("::move"));
    assert!(<local as Function>::DEFINITION.rust_name.ends_with("::local"));

    let mut ids: Vec<&str> = inngest::__private::inventory::iter::<inngest::__private::Registration>
        .into_iter()
        .map(|registration| registration.definition.id)
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["kept", "local", "raw-ident"], "no registration for the fn compiled out");
}
