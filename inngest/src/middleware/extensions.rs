//! [`Extensions`]: values middleware put into a run's context, read by type.

use std::any::{Any, TypeId};
use std::collections::HashMap;

use crate::error::Error;

/// Values middleware put into a run's context, one per type: a database pool, the user a
/// request acts for, a metrics handle. Read in the function with
/// [`Context::get`](crate::Context::get), in later hooks with [`Extensions::get`].
#[derive(Default)]
pub struct Extensions {
    values: HashMap<TypeId, (&'static str, Box<dyn Any + Send + Sync>)>,
}

impl Extensions {
    /// Puts `value` in, replacing the value of its type; returns the one it replaced.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) -> Option<T> {
        self.values
            .insert(
                TypeId::of::<T>(),
                (std::any::type_name::<T>(), Box::new(value)),
            )
            .and_then(|(_, old)| old.downcast::<T>().ok().map(|b| *b))
    }

    /// The value of type `T`, if one was put in.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|(_, v)| v.downcast_ref::<T>())
    }

    /// The value of type `T`, or an error that names the type (for a function that needs it).
    pub fn require<T: Send + Sync + 'static>(&self) -> Result<&T, Error> {
        self.get::<T>().ok_or_else(|| self.missing::<T>())
    }

    /// The error of a `T` that is not there.
    pub(crate) fn missing<T: 'static>(&self) -> Error {
        {
            let mut there: Vec<&str> = self.values.values().map(|(name, _)| *name).collect();
            there.sort_unstable();
            Error::msg(format!(
                "no `{}` in the context: a middleware puts it there with `FunctionInput::insert` in `transform_function_input`; register that middleware on the app (`App::middleware`) or on this function (`middleware = [..]`){}",
                std::any::type_name::<T>(),
                if there.is_empty() {
                    " (the context holds no values)".to_owned()
                } else {
                    format!(" (the context holds: {})", there.join(", "))
                }
            ))
        }
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.values.values().map(|(name, _)| *name).collect();
        names.sort_unstable();
        f.debug_struct("Extensions").field("types", &names).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Pool(u32);

    #[test]
    fn values_by_type_and_a_clear_error_when_missing() {
        let mut ext = Extensions::default();
        assert!(ext.is_empty());
        assert_eq!(ext.insert(Pool(1)), None);
        assert_eq!(ext.insert(Pool(2)), Some(Pool(1)));
        assert_eq!(ext.get::<Pool>(), Some(&Pool(2)));
        assert_eq!(ext.require::<Pool>().unwrap(), &Pool(2));
        let error = ext.require::<String>().unwrap_err().to_string();
        assert!(
            error.starts_with(
                "no `alloc::string::String` in the context: a middleware puts it there"
            ),
            "{error}"
        );
        assert!(
            error.ends_with("(the context holds: inngest::middleware::extensions::tests::Pool)"),
            "{error}"
        );
    }
}
