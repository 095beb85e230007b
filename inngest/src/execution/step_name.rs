//! A step's id as the user wrote it, kept inline when it is short (most are): claiming a
//! step, which every step of every replay does, allocates nothing for its id.

use std::fmt;
use std::ops::Deref;

/// Ids up to this many bytes are kept inline.
const INLINE: usize = 38;

/// A step's id as the user wrote it (`"load-user"`).
#[derive(Clone)]
pub(crate) enum StepName {
    /// The id's bytes, the first `len` of them.
    Inline { len: u8, bytes: [u8; INLINE] },
    /// A longer id.
    Heap(Box<str>),
}

impl StepName {
    #[inline]
    pub(crate) fn new(id: &str) -> StepName {
        match u8::try_from(id.len()) {
            Ok(len) if id.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..id.len()].copy_from_slice(id.as_bytes());
                StepName::Inline { len, bytes }
            }
            _ => StepName::Heap(id.into()),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // The bytes of a `str`, whole: always UTF-8.
            StepName::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            StepName::Heap(id) => id,
        }
    }
}

impl Deref for StepName {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for StepName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_ids_read_back_as_written() {
        for id in [
            "",
            "a",
            "step-0",
            "é–ü",
            &"x".repeat(INLINE),
            &"y".repeat(INLINE + 1),
        ] {
            let name = StepName::new(id);
            assert_eq!(name.as_str(), id);
            assert_eq!(name.to_string(), id);
            assert_eq!(
                matches!(name, StepName::Inline { .. }),
                id.len() <= INLINE,
                "{id}"
            );
        }
    }
}
