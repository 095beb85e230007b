//! Step ids (protocol.md section 4.1): the lowercase hex SHA-1 of the user's id, with repeats
//! in one run hashed as `id:1`, `id:2`, ... The counter covers every kind of step.

use std::collections::HashMap;

use sha1::{Digest, Sha1};

/// The lowercase hex SHA-1 of `s`.
pub fn hash(s: &str) -> String {
    format!("{:x}", Sha1::digest(s.as_bytes()))
}

/// A step id as the user wrote it and as it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepId {
    /// The user's id, e.g. `"load-user"`.
    pub user: String,
    /// How many times the id was used before in this run (`0` the first time).
    pub index: u32,
    /// The hashed id sent to Inngest.
    pub hashed: String,
}

/// Counts uses of each user id in one call, so repeats get distinct hashed ids.
#[derive(Debug, Default)]
pub(crate) struct IdCounter {
    seen: HashMap<String, u32>,
}

impl IdCounter {
    /// The id for the next use of `user`.
    pub(crate) fn next(&mut self, user: &str) -> StepId {
        let index = match self.seen.get_mut(user) {
            Some(n) => {
                *n += 1;
                *n
            }
            None => {
                self.seen.insert(user.to_owned(), 0);
                0
            }
        };
        let hashed = if index == 0 {
            hash(user)
        } else {
            hash(&format!("{user}:{index}"))
        };
        StepId {
            user: user.to_owned(),
            index,
            hashed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_vectors() {
        assert_eq!(
            hash("my-step-id"),
            "e7d8a2f140845095749d60246ff1110c9d01d76a"
        );
        assert_eq!(
            hash("my-step-id:1"),
            "f47c6228c581af870aa285200cf95ec3ac59bb6a"
        );
    }

    #[test]
    fn repeats_are_suffixed_and_counted_per_id() {
        let mut ids = IdCounter::default();
        let a0 = ids.next("my-step-id");
        let b0 = ids.next("other");
        let a1 = ids.next("my-step-id");
        let a2 = ids.next("my-step-id");
        assert_eq!(a0.hashed, "e7d8a2f140845095749d60246ff1110c9d01d76a");
        assert_eq!(a0.index, 0);
        assert_eq!(a1.hashed, "f47c6228c581af870aa285200cf95ec3ac59bb6a");
        assert_eq!(a1.index, 1);
        assert_eq!(a2.hashed, hash("my-step-id:2"));
        assert_eq!(b0.hashed, hash("other"));
    }
}
