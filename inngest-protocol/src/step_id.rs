//! Step ids (protocol.md section 4.1): the lowercase hex SHA-1 of the user's id, with repeats
//! in one run hashed as `id:1`, `id:2`, ... The counter covers every kind of step.

use std::collections::HashMap;

use sha1::{Digest, Sha1};

/// The lowercase hex SHA-1 of `s`.
pub fn hash(s: &str) -> String {
    hex(&Sha1::digest(s.as_bytes()).into())
}

/// Lowercase hex of a SHA-1 digest (without `format!`'s machinery).
pub fn hex(digest: &[u8; 20]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(40);
    for b in digest {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The digest a hashed id spells: exactly 40 lowercase hex digits, as [`hash`] writes them.
/// Anything else (uppercase, another length) is not the hash of any step id.
pub fn parse_hashed(s: &str) -> Option<[u8; 20]> {
    parse_hashed_bytes(s.as_bytes())
}

/// [`parse_hashed`] of bytes (any that are not 40 lowercase hex digits give `None`).
pub fn parse_hashed_bytes(s: &[u8]) -> Option<[u8; 20]> {
    // A call request carries one hashed id per memoized step, its memo's key: this runs for
    // each of them in every replay, eight digits at a time, with one branch for the forty
    // bytes' high bits and none after it.
    let s: &[u8; 40] = s.try_into().ok()?;
    let mut words = [0_u64; 5];
    for (word, digits) in words.iter_mut().zip(s.chunks_exact(8)) {
        // Always eight bytes.
        *word = digits.try_into().map_or(u64::MAX, u64::from_le_bytes);
    }
    // A byte at or above 0x80 is no digit: one test for all forty.
    if words.iter().fold(0, |any, w| any | w) & HIGH != 0 {
        return None;
    }
    let mut digest = [0_u8; 20];
    let mut ok = HIGH;
    for (out, word) in digest.chunks_exact_mut(4).zip(words) {
        let (bytes, valid) = hex_word(word);
        ok &= valid;
        out.copy_from_slice(&bytes.to_le_bytes());
    }
    (ok == HIGH).then_some(digest)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The four bytes eight lowercase hex digits spell (the first digit in the lowest byte of
/// `w`, every byte below 0x80), and a word whose high bits are all set if every byte is one
/// (the bytes are meaningless otherwise).
fn hex_word(w: u64) -> (u32, u64) {
    // Below 0x80, adding up to 0x50 carries into no other byte, and a byte's high bit after
    // `+ (0x80 - lo)` says it is at least `lo`.
    let at_least = |lo: u8| w + ONES * u64::from(0x80 - lo);
    let digit = at_least(b'0') & !at_least(b'9' + 1);
    let letter = at_least(b'a') & !at_least(b'f' + 1);
    let valid = (digit | letter) & HIGH;
    // A digit's value is its low four bits; a letter's, those plus 9.
    let nibbles = (w & (ONES * 0x0f)) + ((letter & HIGH) >> 7) * 9;
    // Pairs of digits into bytes (the first digit is the high half), then the four bytes
    // (one in each 16-bit lane) packed together.
    const EVEN: u64 = 0x00ff_00ff_00ff_00ff;
    let pairs = ((nibbles & EVEN) << 4) | ((nibbles >> 8) & EVEN);
    let pairs = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    (((pairs | (pairs >> 16)) & 0xffff_ffff) as u32, valid)
}

/// How many ids each thread keeps the digest of ([`digest_cached`]); a power of two.
const CACHE_SLOTS: usize = 256;
/// Longer ids are hashed each time.
const CACHE_MAX_LEN: usize = 64;

/// A slot of the cache: an id (held in place, so a miss allocates nothing) and its digest.
#[derive(Clone, Copy)]
struct Slot {
    len: usize,
    id: [u8; CACHE_MAX_LEN],
    digest: [u8; 20],
}

std::thread_local! {
    /// Ids hashed lately on this thread and their digests, one per slot.
    static DIGESTS: std::cell::RefCell<Vec<Option<Slot>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The SHA-1 digest of `id`, from this thread's cache when it was hashed lately: each call
/// request of a run replays the ids of the calls before it, and a look-up costs a fraction of
/// the hash. The cache is direct-mapped and bounded (an id that misses is hashed and takes
/// its slot); a slot holds the whole id, so a digest is only ever the one of its own id.
pub fn digest_cached(id: &str) -> [u8; 20] {
    let id = id.as_bytes();
    if id.len() > CACHE_MAX_LEN {
        return Sha1::digest(id).into();
    }
    let slot = slot_of(id);
    DIGESTS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.is_empty() {
            cache.resize(CACHE_SLOTS, None);
        }
        match &cache[slot] {
            Some(cached) if same_bytes(&cached.id[..cached.len], id) => cached.digest,
            _ => {
                let digest: [u8; 20] = Sha1::digest(id).into();
                let mut held = [0_u8; CACHE_MAX_LEN];
                held[..id.len()].copy_from_slice(id);
                cache[slot] = Some(Slot {
                    len: id.len(),
                    id: held,
                    digest,
                });
                digest
            }
        }
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
    /// The SHA-1 digest of the id (with its index, for a repeat).
    pub digest: [u8; 20],
}

impl<U> StepId<U> {
    /// The hashed id sent to Inngest: the digest in lowercase hex.
    pub fn hashed(&self) -> String {
        hex(&self.digest)
    }
}

/// Numbers uses of each user id in one call, so repeats get distinct hashed ids. As the JS SDK
/// does, an index whose hash is already taken is skipped: a step literally named `a:1` and
/// the second use of `a` never share a memo.
#[derive(Debug, Default)]
pub struct IdCounter {
    /// The next index to try for an id used more than once.
    next: HashMap<String, u32>,
    /// The SHA-1 digests of the ids handed out.
    used: std::collections::HashSet<[u8; 20], BuildDigestHasher>,
}

/// Hashes a SHA-1 digest by its first eight bytes: a digest is already uniformly spread, so
/// SipHash (the default, several times dearer) adds nothing; one is looked up per step.
type BuildDigestHasher = std::hash::BuildHasherDefault<DigestHasher>;

/// See [`BuildDigestHasher`].
#[derive(Debug, Default)]
struct DigestHasher(u64);

impl std::hash::Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // A `[u8; 20]` hashes its length (`write_usize`) and then its bytes in one write; its
        // first eight bytes are as spread as all twenty.
        match bytes.first_chunk::<8>() {
            Some(word) => self.0 = self.0.rotate_left(23) ^ u64::from_le_bytes(*word),
            None => {
                for &b in bytes {
                    self.0 = self.0.rotate_left(8) ^ u64::from(b);
                }
            }
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = self.0.rotate_left(23) ^ n as u64;
    }
}

impl IdCounter {
    /// The id for the next use of `user` (a `String`, a `&str`, or any text the caller keeps
    /// its ids in: the counter copies an id only when it is used more than once).
    pub fn next<U: AsRef<str>>(&mut self, user: U) -> StepId<U> {
        let first = digest_cached(user.as_ref());
        self.next_with_digest(user, first)
    }

    /// [`IdCounter::next`] for a caller that has the digest of `user`'s first use already
    /// (`first`, as [`digest_cached`] gives it): `user`'s text is read only if the id was
    /// used before in this call.
    pub fn next_with_digest<U: AsRef<str>>(&mut self, user: U, first: [u8; 20]) -> StepId<U> {
        self.next_with_digest_unless(user, first, |_| false)
    }

    /// [`IdCounter::next_with_digest`] for a caller that hands out some ids without this
    /// counter: `taken` says whether a digest was handed out so, and such a digest is
    /// skipped as one this counter handed out is. (The call's state hands out the first use
    /// of an id that has a memo by taking the memo, and asks its memos here.)
    pub fn next_with_digest_unless<U: AsRef<str>>(
        &mut self,
        user: U,
        first: [u8; 20],
        taken: impl Fn(&[u8; 20]) -> bool,
    ) -> StepId<U> {
        let free = |used: &mut std::collections::HashSet<_, _>, digest: [u8; 20]| {
            !taken(&digest) && used.insert(digest)
        };
        if self.next.is_empty() && free(&mut self.used, first) {
            // The first use of an id (most ids).
            return StepId {
                user,
                index: 0,
                digest: first,
            };
        }
        let text = user.as_ref();
        // Every index below `next[user]` is taken, so starting at 0 when `user` has no entry
        // finds the same free index: an id used once needs no entry (most ids).
        let next = self.next.get_mut(text);
        let mut index = next.as_deref().copied().unwrap_or(0);
        loop {
            let digest: [u8; 20] = if index == 0 {
                first
            } else {
                Sha1::digest(format!("{text}:{index}").as_bytes()).into()
            };
            if free(&mut self.used, digest) {
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
                    digest,
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
    fn cached_digests_are_the_digests_of_their_ids() {
        // More ids than slots, each hashed twice: every answer is its own id's digest.
        let ids: Vec<String> = (0..1_000).map(|k| format!("step-{k}")).collect();
        for _ in 0..2 {
            for id in &ids {
                assert_eq!(hex(&digest_cached(id)), hash(id));
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
        assert_eq!(hex(&digest_cached(&long)), hash(&long));
        assert_eq!(hex(&digest_cached("")), hash(""));
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
    fn a_hashed_id_parses_back_to_its_digest() {
        let id = IdCounter::default().next("my-step-id");
        assert_eq!(parse_hashed(&id.hashed()), Some(id.digest));
        let upper = id.hashed().to_uppercase();
        assert_eq!(parse_hashed(&upper), None, "the SDK sends lowercase only");
        assert_eq!(parse_hashed(&id.hashed()[..39]), None);
        assert_eq!(parse_hashed(&format!("{}0", id.hashed())), None);
        assert_eq!(parse_hashed(&"g".repeat(40)), None);
        for bad in ['g', 'G', 'A', ' ', '/', ':', '`', 'é'] {
            for at in [0, 1, 38, 39] {
                let mut chars: Vec<char> = id.hashed().chars().collect();
                chars[at] = bad;
                let text: String = chars.into_iter().collect();
                assert_eq!(parse_hashed(&text), None, "{text}");
            }
        }
        assert_eq!(parse_hashed(""), None);
    }

    #[test]
    fn eight_digits_at_a_time_agree_with_one_at_a_time() {
        let value = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        };
        let reference = |digits: [u8; 8]| -> Option<u32> {
            let mut out = [0_u8; 4];
            for (o, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
                *o = value(pair[0])? << 4 | value(pair[1])?;
            }
            Some(u32::from_le_bytes(out))
        };
        // Every byte in every place of words of every digit.
        for base in [
            *b"01234567",
            *b"89abcdef",
            *b"f0e1d2c3",
            *b"00000000",
            *b"ffffffff",
        ] {
            for at in 0..8 {
                for b in 0..=255_u8 {
                    let mut digits = base;
                    digits[at] = b;
                    let word = u64::from_le_bytes(digits);
                    if b < 0x80 {
                        let (bytes, valid) = hex_word(word);
                        let read = (valid == HIGH).then_some(bytes);
                        assert_eq!(read, reference(digits), "{digits:?}");
                    }
                    let mut text = [b'0'; 40];
                    text[8..16].copy_from_slice(&digits);
                    assert_eq!(
                        parse_hashed_bytes(&text).is_some(),
                        reference(digits).is_some(),
                        "{digits:?}"
                    );
                }
            }
        }
        for k in 0..1_000 {
            let text = hash(&format!("id-{k}"));
            assert_eq!(parse_hashed(&text).map(|d| hex(&d)), Some(text));
        }
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
