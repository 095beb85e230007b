//! Step ids (protocol.md section 4.1): the lowercase hex SHA-1 of the user's id, with repeats
//! in one run hashed as `id:1`, `id:2`, ... The counter covers every kind of step.

use std::collections::HashMap;

use sha1::{Digest, Sha1};

/// The lowercase hex SHA-1 of `s`.
pub fn hash(s: &str) -> String {
    HashedId::of(s).as_str().to_owned()
}

/// A hashed step id as Inngest keys memos by it: the lowercase hex of a SHA-1 digest, held in
/// place as its 40 bytes of text. A call request's memo keys and stack are compared with it as
/// text, so no key is ever decoded: a key that is not 40 lowercase hex digits equals no hashed
/// id. Hashed ids sort as their digests do.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HashedId([u8; 40]);

impl HashedId {
    /// The hashed id of the step id `id` (not cached: see [`hashed_cached`]).
    pub fn of(id: &str) -> HashedId {
        HashedId::of_bytes(id.as_bytes())
    }

    fn of_bytes(id: &[u8]) -> HashedId {
        HashedId::of_digest(&Sha1::digest(id).into())
    }

    /// The hashed id that spells `digest`.
    pub fn of_digest(digest: &[u8; 20]) -> HashedId {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0_u8; 40];
        for (pair, b) in text.chunks_exact_mut(2).zip(digest) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 0xf)];
        }
        HashedId(text)
    }

    /// Its text.
    pub fn as_bytes(&self) -> &[u8; 40] {
        &self.0
    }

    /// Its text (always ASCII).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Whether `text` is this hashed id's text: compared a word at a time, without a call to
    /// `memcmp` (a call request's memo keys are found so, one per step).
    #[inline]
    pub fn is_spelled_by(&self, text: &[u8; 40]) -> bool {
        same_bytes(&self.0, text)
    }
}

impl std::fmt::Debug for HashedId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for HashedId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::hash::Hash for HashedId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Sixteen digits, folded and mixed into one number whose low and high bits both
        // vary (hash tables index by the low ones): a digest is uniformly spread already.
        let w = word_at(&self.0, 0) ^ word_at(&self.0, 8).rotate_left(32);
        state.write_u64(w.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(32));
    }
}

/// How many ids each thread keeps the hashed id of ([`hashed_cached`]); a power of two.
const CACHE_SLOTS: usize = 256;
/// Longer ids are hashed each time (what fills a slot's two cache lines).
const CACHE_MAX_LEN: usize = 87;
/// The length of an empty slot's id: longer than any id kept.
const EMPTY: u8 = u8::MAX;

/// A slot of the cache: an id's hashed id, the id's length, and the id (held in place, so a
/// miss allocates nothing). Two cache lines, aligned: the hashed id, the length and the first
/// 23 bytes of the id (all of most ids) share the first, so most look-ups read one line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Slot {
    hashed: HashedId,
    len: u8,
    id: [u8; CACHE_MAX_LEN],
}

/// A slot that holds no id.
const EMPTY_SLOT: Slot = Slot {
    hashed: HashedId([0; 40]),
    len: EMPTY,
    id: [0; CACHE_MAX_LEN],
};

std::thread_local! {
    /// Ids hashed lately on this thread and their hashed ids, one per slot.
    static HASHED_IDS: std::cell::RefCell<Vec<Slot>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The hashed id of `id`, from this thread's cache when it was hashed lately: each call
/// request of a run replays the ids of the calls before it, and a look-up costs a fraction of
/// the hash. The cache is direct-mapped and bounded (an id that misses is hashed and takes
/// its slot); a slot holds the whole id, so a hashed id is only ever the one of its own id.
pub fn hashed_cached(id: &str) -> HashedId {
    let id = id.as_bytes();
    if id.len() > CACHE_MAX_LEN {
        return HashedId::of_bytes(id);
    }
    let slot = slot_of(id);
    HASHED_IDS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.is_empty() {
            cache.resize(CACHE_SLOTS, EMPTY_SLOT);
        }
        let cached = &cache[slot];
        // An empty slot's length is no id's.
        if usize::from(cached.len) == id.len() && same_bytes(&cached.id[..id.len()], id) {
            return cached.hashed;
        }
        let hashed = HashedId::of_bytes(id);
        let mut held = [0_u8; CACHE_MAX_LEN];
        held[..id.len()].copy_from_slice(id);
        cache[slot] = Slot {
            hashed,
            // At most `CACHE_MAX_LEN`, under `EMPTY`.
            len: u8::try_from(id.len()).unwrap_or(EMPTY),
            id: held,
        };
        hashed
    })
}

/// The cache slot of an id: a multiplicative hash of its bytes.
fn slot_of(id: &[u8]) -> usize {
    let h = word_hash(id.len() as u64, id);
    // The top bits: a product's low bits do not depend on the factors' high ones.
    (h >> (64 - CACHE_SLOTS.trailing_zeros())) as usize
}

/// A fast multiplicative hash of `bytes`, eight at a time, from `seed`: for tables of ids that
/// no one else can fill (no defence against chosen collisions). Its high bits are the
/// well-mixed ones. The last word read overlaps the one before it (or, under eight bytes, one
/// word is made of the bytes): no padded copy.
#[inline]
pub fn word_hash(seed: u64, bytes: &[u8]) -> u64 {
    let mix = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    if bytes.len() < 8 {
        return mix(seed, small_word(bytes));
    }
    fold_word_starts(bytes.len(), seed, |h, at| mix(h, word_at(bytes, at)))
}

/// Whether `a` and `b` hold the same bytes: compared a word at a time as [`word_hash`] reads
/// them (of one length, every byte is in some word), without a call to `memcmp`.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return small_word(a) == small_word(b);
    }
    fold_word_starts(n, 0, |differ, at| {
        differ | (word_at(a, at) ^ word_at(b, at))
    }) == 0
}

/// Folds `f` over where the words of `n` bytes (at least eight) start: every eighth byte, and
/// the last word ends at the end (overlapping the one before it).
#[inline]
fn fold_word_starts<A>(n: usize, init: A, mut f: impl FnMut(A, usize) -> A) -> A {
    let mut acc = init;
    let mut at = 0;
    while at + 8 < n {
        acc = f(acc, at);
        at += 8;
    }
    f(acc, n - 8)
}

/// The eight bytes of `bytes` from `at` (which has eight bytes from it) as a word.
#[inline]
fn word_at(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|w| w.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// Fewer than eight bytes as one word that holds every one of them (for a given length, two
/// different byte strings give two different words): the first and last four bytes from four
/// on, else the first, middle and last.
#[inline]
fn small_word(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    let four = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|w| w.try_into().ok())
            .map_or(0, u32::from_le_bytes)
    };
    match n {
        0 => 0,
        1..=3 => u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8 | u64::from(bytes[n - 1]) << 16,
        _ => u64::from(four(0)) | u64::from(four(n - 4)) << 32,
    }
}

/// A step id as the user wrote it and as it is sent. `U` holds the user's id: a `String`, or
/// any text type the caller keeps it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepId<U = String> {
    /// The user's id, e.g. `"load-user"`.
    pub user: U,
    /// How many times the id was used before in this run (`0` the first time).
    pub index: u32,
    /// The hashed id: of the id (with its index, for a repeat).
    pub hashed_id: HashedId,
}

impl<U> StepId<U> {
    /// The hashed id sent to Inngest, as text.
    pub fn hashed(&self) -> String {
        self.hashed_id.as_str().to_owned()
    }
}

/// Numbers uses of each user id in one call, so repeats get distinct hashed ids. As the JS SDK
/// does, an index whose hash is already taken is skipped: a step literally named `a:1` and
/// the second use of `a` never share a memo.
#[derive(Debug, Default)]
pub struct IdCounter {
    /// The next index to try for an id used more than once.
    next: HashMap<String, u32>,
    /// The hashed ids handed out.
    used: std::collections::HashSet<HashedId, BuildHashedIdHasher>,
}

/// Takes a [`HashedId`]'s own hash (one mixed number): SipHash (the default, several times
/// dearer) adds nothing to a SHA-1 digest; one is looked up per step.
type BuildHashedIdHasher = std::hash::BuildHasherDefault<HashedIdHasher>;

/// See [`BuildHashedIdHasher`].
#[derive(Debug, Default)]
struct HashedIdHasher(u64);

impl std::hash::Hasher for HashedIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `HashedId`s are hashed here, and they write one `u64`.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

impl IdCounter {
    /// The id for the next use of `user` (a `String`, a `&str`, or any text the caller keeps
    /// its ids in: the counter copies an id only when it is used more than once).
    pub fn next<U: AsRef<str>>(&mut self, user: U) -> StepId<U> {
        let first = hashed_cached(user.as_ref());
        self.next_with_first(user, first)
    }

    /// [`IdCounter::next`] for a caller that has the hashed id of `user`'s first use already
    /// (`first`, as [`hashed_cached`] gives it): `user`'s text is read only if the id was
    /// used before in this call.
    pub fn next_with_first<U: AsRef<str>>(&mut self, user: U, first: HashedId) -> StepId<U> {
        self.next_with_first_unless(user, first, |_| false)
    }

    /// [`IdCounter::next_with_first`] for a caller that hands out some ids without this
    /// counter: `taken` says whether a hashed id was handed out so, and such an id is
    /// skipped as one this counter handed out is. (The call's state hands out the first use
    /// of an id that has a memo by taking the memo, and asks its memos here.)
    pub fn next_with_first_unless<U: AsRef<str>>(
        &mut self,
        user: U,
        first: HashedId,
        taken: impl Fn(&HashedId) -> bool,
    ) -> StepId<U> {
        let free = |used: &mut std::collections::HashSet<_, _>, hashed: HashedId| {
            !taken(&hashed) && used.insert(hashed)
        };
        if self.next.is_empty() && free(&mut self.used, first) {
            // The first use of an id (most ids).
            return StepId {
                user,
                index: 0,
                hashed_id: first,
            };
        }
        let text = user.as_ref();
        // Every index below `next[user]` is taken, so starting at 0 when `user` has no entry
        // finds the same free index: an id used once needs no entry (most ids).
        let next = self.next.get_mut(text);
        let mut index = next.as_deref().copied().unwrap_or(0);
        loop {
            let hashed = if index == 0 {
                first
            } else {
                HashedId::of(&format!("{text}:{index}"))
            };
            if free(&mut self.used, hashed) {
                match next {
                    Some(n) => *n = index + 1,
                    None if index > 0 => {
                        self.next.insert(text.to_owned(), index + 1);
                    }
                    None => {}
                }
                return StepId {
                    user,
                    index,
                    hashed_id: hashed,
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
    fn cached_hashed_ids_are_the_hashed_ids_of_their_ids() {
        // More ids than slots, each hashed twice: every answer is its own id's digest.
        let ids: Vec<String> = (0..1_000).map(|k| format!("step-{k}")).collect();
        for _ in 0..2 {
            for id in &ids {
                assert_eq!(hashed_cached(id).as_str(), hash(id));
            }
        }
        // Ids that differ in one byte spread over the slots.
        let slots: std::collections::HashSet<usize> = ids
            .iter()
            .take(10)
            .map(|id| slot_of(id.as_bytes()))
            .collect();
        assert!(slots.len() >= 8, "{slots:?}");
        let long = "x".repeat(CACHE_MAX_LEN + 1);
        assert_eq!(hashed_cached(&long).as_str(), hash(&long));
        // The longest id kept, twice (the second from its slot).
        let longest = "y".repeat(CACHE_MAX_LEN);
        for _ in 0..2 {
            assert_eq!(hashed_cached(&longest).as_str(), hash(&longest));
        }
        assert_eq!(std::mem::size_of::<Slot>(), 128, "two cache lines");
        assert_eq!(hashed_cached("").as_str(), hash(""));
    }

    #[test]
    fn bytes_compare_by_words_as_slices_do() {
        // Every length up to 20, each byte changed in turn: equal exactly when equal; under
        // eight bytes, the one word holds every byte.
        for n in 0..=20_usize {
            let a: Vec<u8> = (0..n as u8).map(|b| b.wrapping_mul(37)).collect();
            assert!(same_bytes(&a, &a.clone()));
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x41;
                assert!(!same_bytes(&a, &b), "{n} {at}");
                if n < 8 {
                    assert_ne!(small_word(&a), small_word(&b), "{n} {at}");
                }
            }
        }
        assert!(!same_bytes(b"ab", b"abc"));
    }

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
    fn hashed_ids_spell_their_digests_and_sort_as_they_do() {
        let reference =
            |digest: &[u8; 20]| -> String { digest.iter().map(|b| format!("{b:02x}")).collect() };
        let mut digests: Vec<[u8; 20]> = (0..1_000_u32)
            .map(|k| Sha1::digest(format!("id-{k}").as_bytes()).into())
            .collect();
        digests.push([0; 20]);
        digests.push([0xff; 20]);
        digests.push(std::array::from_fn(|i| i as u8 * 13));
        for digest in &digests {
            assert_eq!(HashedId::of_digest(digest).as_str(), reference(digest));
        }
        let mut hashed: Vec<HashedId> = digests.iter().map(HashedId::of_digest).collect();
        digests.sort();
        hashed.sort();
        let texts: Vec<String> = hashed.iter().map(|h| h.as_str().to_owned()).collect();
        let want: Vec<String> = digests.iter().map(reference).collect();
        assert_eq!(texts, want);
        // Hash tables index by the low bits: ids that differ in one digit spread over them.
        let low = |h: &HashedId| {
            let mut hasher = HashedIdHasher::default();
            std::hash::Hash::hash(h, &mut hasher);
            std::hash::Hasher::finish(&hasher) & 0xff
        };
        let spread: std::collections::HashSet<u64> = hashed.iter().take(64).map(low).collect();
        assert!(spread.len() >= 32, "{}", spread.len());
    }

    #[test]
    fn an_id_that_looks_like_a_repeat_does_not_collide() {
        let mut ids = IdCounter::default();
        let a = ids.next("a");
        let literal = ids.next("a:1");
        let second_a = ids.next("a");
        assert_eq!(literal.hashed(), hash("a:1"));
        assert_eq!(
            second_a.hashed(),
            hash("a:2"),
            "index 1 is taken, so the next free one"
        );
        assert_eq!(second_a.index, 2);
        assert_ne!(a.hashed(), second_a.hashed());
    }

    #[test]
    fn repeats_are_suffixed_and_counted_per_id() {
        let mut ids = IdCounter::default();
        let a0 = ids.next("my-step-id");
        let b0 = ids.next("other");
        let a1 = ids.next("my-step-id");
        let a2 = ids.next("my-step-id");
        assert_eq!(a0.hashed(), "e7d8a2f140845095749d60246ff1110c9d01d76a");
        assert_eq!(a0.index, 0);
        assert_eq!(a1.hashed(), "f47c6228c581af870aa285200cf95ec3ac59bb6a");
        assert_eq!(a1.index, 1);
        assert_eq!(a2.hashed(), hash("my-step-id:2"));
        assert_eq!(b0.hashed(), hash("other"));
    }
}
