//! The keys of an attribute or of a list such as `throttle(..)`: each valid key is accepted once
//! (a few, such as `event`, may repeat), an unknown key is reported with the valid ones and a
//! likely typo, a duplicate on its second occurrence.

use proc_macro2::Ident;
use syn::ext::IdentExt;

use crate::errors::Errors;

/// The keys given so far, in the order they were given.
pub struct Keys {
    /// Where the keys are written, for messages: "#[inngest::function]", "`throttle(..)`".
    context: &'static str,
    valid: &'static [&'static str],
    repeatable: &'static [&'static str],
    given: Vec<(&'static str, Ident)>,
}

impl Keys {
    /// The keys of `context`: `valid` ones, of which `repeatable` ones may be given again.
    pub fn new(
        context: &'static str,
        valid: &'static [&'static str],
        repeatable: &'static [&'static str],
    ) -> Keys {
        Keys {
            context,
            valid,
            repeatable,
            given: Vec::new(),
        }
    }

    /// The key's name when it is valid and may be given here; otherwise the error is recorded,
    /// on the key: unknown, or a duplicate (the second occurrence).
    pub fn accept(&mut self, key: &Ident, errors: &mut Errors) -> Option<&'static str> {
        let name = key.unraw().to_string();
        let Some(valid) = self.valid.iter().find(|valid| **valid == name) else {
            errors.at(key.span(), self.unknown(&name));
            return None;
        };
        let again = self.given.iter().any(|(given, _)| given == valid);
        if again && !self.repeatable.contains(valid) {
            errors.at(
                key.span(),
                format_args!("duplicate key `{name}`: it is already given above"),
            );
            return None;
        }
        self.given.push((valid, key.clone()));
        Some(valid)
    }

    /// The accepted keys, in the order they were given.
    pub fn given(&self) -> &[(&'static str, Ident)] {
        &self.given
    }

    /// How many times `key` was accepted.
    pub fn count(&self, key: &str) -> usize {
        self.given.iter().filter(|(given, _)| *given == key).count()
    }

    /// The valid keys, separated by commas.
    pub fn list(&self) -> String {
        self.valid.join(", ")
    }

    fn unknown(&self, name: &str) -> String {
        let mut message = format!("unknown key `{name}` in {}", self.context);
        if let Some(close) = self.valid.iter().find(|valid| similar(name, valid)) {
            message.push_str(&format!("; did you mean `{close}`?"));
        }
        message.push_str(&format!("\nexpected one of: {}", self.list()));
        message
    }
}

/// A likely typo: at most a third of the characters edited (`evnt`, `evnet`, `ID`), or the
/// same first four characters (`retry`).
fn similar(given: &str, valid: &str) -> bool {
    let (given, valid) = (given.to_ascii_lowercase(), valid.to_ascii_lowercase());
    let longest = given.len().max(valid.len());
    let shared_prefix = given
        .chars()
        .zip(valid.chars())
        .take_while(|(a, b)| a == b)
        .count();
    edit_distance(&given, &valid) * 3 <= longest || shared_prefix >= 4
}

/// The optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// two neighbours each count one.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FUNCTION_KEYS;

    fn unknown(name: &str) -> String {
        Keys::new("#[inngest::function]", FUNCTION_KEYS, &[]).unknown(name)
    }

    #[test]
    fn a_near_miss_is_suggested() {
        assert!(unknown("retry").contains("did you mean `retries`?"));
        assert!(unknown("evnt").contains("did you mean `event`?"));
        assert!(unknown("evnet").contains("did you mean `event`?"));
        assert!(unknown("ID").contains("did you mean `id`?"));
        assert!(unknown("timeout").contains("did you mean `timeouts`?"));
        assert!(unknown("ratelimit").contains("did you mean `rate_limit`?"));
        assert!(unknown("cancel").contains("did you mean `cancel_on`?"));
        assert!(!unknown("na").contains("did you mean"));
        assert!(!unknown("schedule").contains("did you mean"));
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("retry", "retries"), 3);
        assert_eq!(edit_distance("", "id"), 2);
        assert_eq!(edit_distance("evnet", "event"), 1);
        assert_eq!(edit_distance("evnt", "event"), 1);
        assert_eq!(edit_distance("name", "name"), 0);
    }
}
