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

/// Numbers uses of each user id in one call, so repeats get distinct hashed ids. As the JS SDK
/// does, an index whose hash is already taken is skipped: a step literally named `a:1` and
/// the second use of `a` never share a memo.
#[derive(Debug, Default)]
pub(crate) struct IdCounter {
    next: HashMap<String, u32>,
    used: std::collections::HashSet<String>,
}

impl IdCounter {
    /// The id for the next use of `user`.
    pub(crate) fn next(&mut self, user: &str) -> StepId {
        let mut index = self.next.get(user).copied().unwrap_or(0);
        loop {
            let hashed = if index == 0 {
                hash(user)
            } else {
                hash(&format!("{user}:{index}"))
            };
            if self.used.insert(hashed.clone()) {
                self.next.insert(user.to_owned(), index + 1);
                return StepId {
                    user: user.to_owned(),
                    index,
                    hashed,
                };
            }
            index += 1;
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
    fn an_id_that_looks_like_a_repeat_does_not_collide() {
        let mut ids = IdCounter::default();
        let a = ids.next("a");
        let literal = ids.next("a:1");
        let second_a = ids.next("a");
        assert_eq!(literal.hashed, hash("a:1"));
        assert_eq!(
            second_a.hashed,
            hash("a:2"),
            "index 1 is taken, so the next free one"
        );
        assert_eq!(second_a.index, 2);
        assert_ne!(a.hashed, second_a.hashed);
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
