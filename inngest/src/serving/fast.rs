//! The call request read in one pass over its bytes, for the shape Inngest sends: the
//! handler's first try (`call::parse_call`), about five times cheaper than serde's generic
//! reader on a ten-step request.
//!
//! It reads only bodies whose meaning is plain, and answers `None` for anything else, which
//! then goes the serde way (`parse_call`), so what a body means, and every error, stays
//! serde's. Plain means: valid UTF-8; strings without escapes; numbers without exponents, of
//! at most 18 integer digits; nesting at most 64 deep; each known field at most once; a
//! known field of the type it must have. Unknown fields are skipped, as serde skips them.
//! Within that, the result is the one serde gives (the property tests compare them): the
//! events are the same raw text, the memos are classified alike (those this reader does not
//! unwrap itself are read by serde from their own text).

use std::sync::atomic::{AtomicU8, Ordering};

use bytes::Bytes;
use inngest_protocol::call::{CallContext, CallRequest, CallStack};
use serde_json::Value;

use crate::execution::memo::{key_of, Memo, MemoKey, Memos, Stack};
use crate::json::{EventFields, RawJson, Span, Text};
use crate::serving::call::Request;

/// How deep a value may nest here; serde_json allows 128, deeper ones go the slow way.
const MAX_DEPTH: usize = 64;
/// The most integer digits a number may have here (an `i64` or `u64` always fits).
const MAX_DIGITS: usize = 18;

/// Reads a call request of the plain shape, or `None`: then read it with serde.
/// The events are slices of `body` (no copy).
pub(crate) fn read(body: &Bytes) -> Option<Request> {
    let mut r = Reader {
        s: body,
        body,
        i: 0,
        stack: Stack::default(),
        fn_id: None,
        step_id: None,
        run_id: None,
    };
    let mut request = r.request()?;
    crate::serving::call::one_event(&mut request);
    r.ws();
    // Built in the `Some` it is returned in (a `then_some` would build it apart and copy its
    // ~500 bytes in).
    if r.i != r.s.len() {
        return None;
    }
    Some(Request {
        body: request,
        stack: r.stack,
        fn_id: r.fn_id,
        step_id: r.step_id,
        run_id: r.run_id?,
    })
}

struct Reader<'a> {
    s: &'a [u8],
    body: &'a Bytes,
    i: usize,
    /// `ctx.stack.stack`.
    stack: Stack,
    /// `ctx.fn_id`, `ctx.step_id` and `ctx.run_id`, as text of the body.
    fn_id: Option<Text>,
    step_id: Option<Text>,
    run_id: Option<Text>,
}

const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte of a word.
pub(super) const HIGH: u64 = 0x8080_8080_8080_8080;

/// Each byte of `w` that is `byte`, marked in its high bit (among others: mask with [`HIGH`]).
/// The lowest mark is exact: a false one can only follow a true one (a borrow runs upwards).
#[inline]
pub(super) fn bytes_equal(w: u64, byte: u8) -> u64 {
    let x = w ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x
}

/// The high bit of each of the 8 bytes of `w` that is `"`, `\` or a control character
/// (below 0x20), little end first. The lowest bit set is exact: a false one can only follow a
/// true one (a borrow runs upwards).
fn special(w: u64) -> u64 {
    (bytes_equal(w, b'"') | bytes_equal(w, b'\\') | (w.wrapping_sub(ONES * 0x20) & !w)) & HIGH
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        // Most bodies are compact: one comparison when no blank comes next.
        if self.s.get(self.i).is_some_and(|b| *b > b' ') {
            return;
        }
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    /// The next byte after blanks, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        // Compact bodies: the byte is read once, and blanks looked for only below `!`.
        let next = *self.s.get(self.i)?;
        if next > b' ' {
            return Some(next);
        }
        self.ws();
        self.s.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.i += 1)
    }

    /// `lit` if it comes next.
    fn literal(&mut self, lit: &[u8]) -> bool {
        self.ws();
        let found = self.s[self.i..].starts_with(lit);
        if found {
            self.i += lit.len();
        }
        found
    }

    fn null(&mut self) -> bool {
        self.literal(b"null")
    }

    fn bool(&mut self) -> Option<bool> {
        if self.literal(b"true") {
            Some(true)
        } else if self.literal(b"false") {
            Some(false)
        } else {
            None
        }
    }

    /// A string without escapes or control characters, as its bytes: valid UTF-8 (checked
    /// only when it is not all ASCII; outside strings, this reader takes ASCII only).
    fn string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        // The bytes of the string OR-ed together: any high bit set means not all ASCII.
        let mut high = 0_u64;
        // Eight bytes at a time to the first special one; the last few one at a time.
        while let Some(chunk) = self.s.get(self.i..self.i + 8) {
            let word = u64::from_le_bytes(chunk.try_into().ok()?);
            let found = special(word);
            if found != 0 {
                let before = found.trailing_zeros() as usize / 8;
                high |= word & ((1_u64 << (before * 8)) - 1);
                self.i += before;
                break;
            }
            high |= word;
            self.i += 8;
        }
        loop {
            match *self.s.get(self.i)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                b => {
                    high |= u64::from(b);
                    self.i += 1;
                }
            }
        }
        let s = &self.s[start..self.i];
        self.i += 1;
        if high & HIGH != 0 {
            std::str::from_utf8(s).ok()?;
        }
        Some(s)
    }

    /// A string, owned.
    fn owned_string(&mut self) -> Option<String> {
        String::from_utf8(self.string()?.to_vec()).ok()
    }

    /// A string that can be a hashed step id (40 bytes) as a memo key, straight from the
    /// bytes; any other string as `Err(text)`.
    fn hashed(&mut self) -> Option<Result<MemoKey, &'a [u8]>> {
        let text = self.string40()?;
        Some(key_of(text).ok_or(text))
    }

    /// The 40 bytes between quotes that come next, if the next string is that long (not
    /// consumed; its bytes are not checked).
    fn quoted40(&mut self) -> Option<&'a [u8]> {
        self.ws();
        let (open, close) = (self.i, self.i + 41);
        (self.s.get(open) == Some(&b'"') && self.s.get(close) == Some(&b'"'))
            .then(|| &self.s[open + 1..close])
    }

    /// Digits of an integer without sign, fraction or exponent: `(value, digits)`.
    fn digits(&mut self) -> Option<u64> {
        let (value, end) = integer_at(self.s, self.i)?;
        self.i = end;
        // No fraction or exponent (serde refuses them for integers).
        (!matches!(self.s.get(end), Some(b'.' | b'e' | b'E'))).then_some(value)
    }

    fn uint(&mut self) -> Option<u64> {
        self.ws();
        self.digits()
    }

    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.uint()?).ok()
    }

    fn int(&mut self) -> Option<i64> {
        self.ws();
        let negative = self.s.get(self.i) == Some(&b'-');
        if negative {
            self.i += 1;
        }
        // At most 18 digits: always within `i64`.
        let value = i64::try_from(self.digits()?).ok()?;
        Some(if negative { -value } else { value })
    }

    /// A number of the plain shape, skipped.
    fn number(&mut self) -> Option<()> {
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let start = self.i;
        while let Some(b'0'..=b'9') = self.s.get(self.i) {
            self.i += 1;
        }
        let n = self.i - start;
        if n == 0 || n > MAX_DIGITS || (n > 1 && self.s[start] == b'0') {
            return None;
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            let start = self.i;
            while let Some(b'0'..=b'9') = self.s.get(self.i) {
                self.i += 1;
            }
            if self.i == start {
                return None;
            }
        }
        (!matches!(self.s.get(self.i), Some(b'e' | b'E'))).then_some(())
    }

    /// An object: `field` reads each value (its key given).
    fn object(&mut self, field: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.object_keyed(Self::key_colon, field)
    }

    /// An object of a known shape: `field` reads each value, given its key if the shape knows
    /// it (`None`: a key it does not know).
    fn object_shaped(
        &mut self,
        shape: &'static Shape,
        field: impl FnMut(&mut Self, Option<Field>) -> Option<()>,
    ) -> Option<()> {
        let mut after = Shape::START;
        self.object_keyed(|r| r.shaped_key(shape, &mut after), field)
    }

    /// The key and colon that come next, if they are the ones `shape` guesses after slot
    /// `after` (a word's comparison, or two); else any key, from which the shape learns.
    /// `after` becomes the key's slot. Inlined: out of line, the call cost as much as the
    /// comparison.
    #[inline(always)]
    fn shaped_key(&mut self, shape: &'static Shape, after: &mut usize) -> Option<Option<Field>> {
        if let Some((slot, known)) = shape.guess(*after) {
            if known.comes_at(self.s, self.i) {
                self.i += known.quoted.len();
                *after = slot;
                return Some(Some(known.field));
            }
        }
        let key = self.key_colon()?;
        let (slot, field) = shape.learn(*after, key);
        *after = slot;
        Some(field)
    }

    /// A key and the colon after it.
    fn key_colon(&mut self) -> Option<&'a [u8]> {
        let key = self.key()?;
        self.eat(b':')?;
        Some(key)
    }

    /// A key: a string of plain ASCII, read eight bytes at a time to its closing quote; a key
    /// with any other byte is read as any string.
    fn key(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        let mut end = start;
        // To the first quote, backslash, control character or byte above 0x7f; the last few
        // bytes of the body, fewer than eight, one at a time.
        loop {
            let Some(chunk) = self.s.get(end..end + 8) else {
                while let Some(0x20..=0x7f) = self.s.get(end).filter(|b| !matches!(b, b'"' | b'\\'))
                {
                    end += 1;
                }
                break;
            };
            let word = u64::from_le_bytes(chunk.try_into().ok()?);
            let found = special(word) | (word & HIGH);
            if found != 0 {
                end += found.trailing_zeros() as usize / 8;
                break;
            }
            end += 8;
        }
        if self.s.get(end) != Some(&b'"') {
            // An escape, a control character, a byte above 0x7f or the end: as any string.
            self.i = start - 1;
            return self.string();
        }
        self.i = end + 1;
        Some(&self.s[start..end])
    }

    /// A string of exactly 40 plain ASCII bytes (a hashed id), without the general loop;
    /// any other string as [`Reader::string`] reads it.
    fn string40(&mut self) -> Option<&'a [u8]> {
        if let Some(text) = self.quoted40().filter(|text| plain40(text)) {
            self.i += 42;
            return Some(text);
        }
        self.string()
    }

    /// An array of strings (a stack of hashed ids): written compactly, each of 40 plain
    /// bytes, it is checked record by record (`"<40 bytes>",`); any other array is read as
    /// [`Reader::array`] reads it.
    fn strings40(&mut self) -> Option<()> {
        self.ws();
        let start = self.i;
        if self.s.get(start) == Some(&b'[') {
            let mut at = start + 1;
            while let Some(record) = self.s.get(at..at + 43) {
                if record[0] != b'"' || record[41] != b'"' || !plain40(&record[1..41]) {
                    break;
                }
                match record[42] {
                    b',' => at += 43,
                    b']' => {
                        self.i = at + 43;
                        return Some(());
                    }
                    _ => break,
                }
            }
        }
        self.array(|r| r.string40().map(drop))
    }

    /// An object whose keys `key` reads (with the colon after each).
    fn object_keyed<K>(
        &mut self,
        key: impl FnMut(&mut Self) -> Option<K>,
        field: impl FnMut(&mut Self, K) -> Option<()>,
    ) -> Option<()> {
        if self.open()? {
            return Some(());
        }
        self.entries(key, field)
    }

    /// Takes an object's opening brace: `true` if the object is empty (its closing brace is
    /// taken too).
    fn open(&mut self) -> Option<bool> {
        self.eat(b'{')?;
        let empty = self.peek()? == b'}';
        if empty {
            self.i += 1;
        }
        Some(empty)
    }

    /// The entries of an object from the next key to its closing brace, which is taken; `key`
    /// reads a key and the colon after it.
    fn entries<K>(
        &mut self,
        mut key: impl FnMut(&mut Self) -> Option<K>,
        mut field: impl FnMut(&mut Self, K) -> Option<()>,
    ) -> Option<()> {
        loop {
            // The key and its colon.
            let key = key(self)?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array: `item` reads each element.
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Any value of the plain shape, skipped.
    fn skip(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' if depth < MAX_DEPTH => self.object(|r, _| r.skip(depth + 1)),
            b'[' if depth < MAX_DEPTH => self.array(|r| r.skip(depth + 1)),
            b't' | b'f' => self.bool().map(drop),
            b'n' => self.null().then_some(()),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// Any value of the plain shape, as its text.
    fn raw(&mut self) -> Option<&'a [u8]> {
        self.ws();
        let start = self.i;
        self.skip(0)?;
        Some(&self.s[start..self.i])
    }

    /// Whether `value`, a value of the plain shape, comes next, then a comma, a closing
    /// bracket or a blank: then it is taken (a plain value ends where it reads the same).
    fn repeats(&mut self, value: &[u8]) -> bool {
        self.ws();
        let end = self.i + value.len();
        let same = self.s[self.i..].starts_with(value)
            && matches!(
                self.s.get(end),
                Some(b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
            );
        if same {
            self.i = end;
        }
        same
    }

    /// Any value of the plain shape, as a slice of the body.
    fn raw_json(&mut self) -> Option<RawJson> {
        let raw = self.raw()?;
        Some(RawJson::from_checked(self.body.slice_ref(raw)))
    }

    /// An event: any value of the plain shape, as a slice of the body; for an object whose
    /// fields `Event<E>` reads are of their types and each given once, with where they lie.
    fn event(&mut self) -> Option<RawJson> {
        if self.peek()? != b'{' {
            return self.raw_json();
        }
        let start = self.i;
        let mut found = FoundFields::default();
        let mut plain = true;
        self.object_shaped(&EVENT, |r, key| {
            let at = r.i;
            if r.event_field(key, start, &mut found).is_none() {
                // Not as `Event<E>` reads it (serde will say why), or not plain at all.
                plain = false;
                r.i = at;
                r.skip(1)?;
            }
            Some(())
        })?;
        let text = self.body.slice(start..self.i);
        Some(match (plain, found.name, found.data) {
            (true, Some(name), Some(data)) => RawJson::event_from_checked(
                text,
                EventFields {
                    id: found.id,
                    name,
                    data,
                    user: found.user,
                    ts: found.ts,
                    v: found.v,
                },
            ),
            _ => RawJson::from_checked(text),
        })
    }

    /// The value of an event's field `key` (the event starts at `start`): `None` if it is a
    /// field `Event<E>` reads given twice or not of its type.
    fn event_field(
        &mut self,
        key: Option<Field>,
        start: usize,
        found: &mut FoundFields,
    ) -> Option<()> {
        let Some(field) = key else {
            return self.skip(1);
        };
        found.seen.first(field)?;
        match field {
            Field::Id | Field::Ts | Field::V if self.null() => {}
            Field::Id => found.id = Some(self.string_span(start)?),
            Field::Name => found.name = Some(self.string_span(start)?),
            Field::Data => found.data = Some(self.value_span(start)?),
            Field::User => found.user = Some(self.value_span(start)?),
            Field::Ts => found.ts = Some(self.int()?),
            Field::V => found.v = Some(self.string_span(start)?),
            // Not a key of the event's shape.
            _ => return None,
        }
        Some(())
    }

    /// Where the next value lies, relative to `start`.
    fn value_span(&mut self, start: usize) -> Option<Span> {
        self.ws();
        let from = self.i;
        self.skip(1)?;
        Span::new(from - start..self.i - start)
    }

    /// Where the text of the next string lies (without its quotes), relative to `start`.
    fn string_span(&mut self, start: usize) -> Option<Span> {
        let text = self.string()?;
        // The closing quote is behind.
        let end = self.i - 1;
        Span::new(end - text.len() - start..end - start)
    }

    /// A memo: `{"data": <number, string, bool or null>}` read here, any other value read by
    /// serde from its text.
    fn memo(&mut self) -> Option<Memo> {
        self.ws();
        let start = self.i;
        if let Some(data) = self.data_scalar() {
            return Some(Memo::Data(data));
        }
        self.i = start;
        serde_json::from_slice(self.raw()?).ok()
    }

    fn data_scalar(&mut self) -> Option<Value> {
        // `{"data":` as Inngest writes it, or with blanks.
        if self.s[self.i..].starts_with(br#"{"data":"#) {
            self.i += 8;
        } else {
            self.eat(b'{')?;
            if self.key()? != b"data" {
                return None;
            }
            self.eat(b':')?;
        }
        let value = match self.peek()? {
            b'"' => Value::String(self.owned_string()?),
            b'0'..=b'9' => Value::from(self.uint()?),
            b't' | b'f' => Value::Bool(self.bool()?),
            b'n' if self.null() => Value::Null,
            _ => return None,
        };
        self.eat(b'}')?;
        Some(value)
    }

    /// A string, as its text in the body.
    fn text(&mut self) -> Option<Text> {
        let text = self.string()?;
        Some(Text::from_checked(self.body.slice_ref(text)))
    }

    /// A string as its text in the body, or `null`.
    fn opt_text(&mut self) -> Option<Option<Text>> {
        if self.null() {
            return Some(None);
        }
        Some(Some(self.text()?))
    }

    fn opt_string(&mut self) -> Option<Option<String>> {
        if self.null() {
            return Some(None);
        }
        Some(Some(self.owned_string()?))
    }

    fn request(&mut self) -> Option<CallRequest<RawJson, Memos>> {
        let mut seen = Seen::default();
        let mut event: Option<RawJson> = None;
        let mut events = Vec::new();
        // Whether `events[0]` was `event` again and is not pushed yet: it is pushed only if
        // another event follows, so that `[event]` makes no vector (see `call::one_event`).
        let mut repeat = false;
        let mut steps = Memos::default();
        let mut version = None;
        let mut use_api = false;
        let mut ctx = None;
        self.object_shaped(&REQUEST, |r, key| {
            match key {
                Some(Field::Event) => {
                    seen.first(Field::Event)?;
                    event = Some(r.event()?);
                }
                Some(Field::Events) => {
                    seen.first(Field::Events)?;
                    if !r.null() {
                        r.array(|r| {
                            // `events[0]` is usually `event` again, byte for byte: then both
                            // share the first one's bytes, and it needs no second reading.
                            let raw = match event.as_ref().filter(|e| r.repeats(e.as_bytes())) {
                                Some(_) if events.is_empty() && !repeat => {
                                    repeat = true;
                                    return Some(());
                                }
                                Some(e) => e.clone(),
                                None => r.event()?,
                            };
                            if std::mem::take(&mut repeat) {
                                events.push(event.clone()?);
                            }
                            events.push(raw);
                            Some(())
                        })?;
                    }
                }
                Some(Field::Steps) => {
                    seen.first(Field::Steps)?;
                    if !r.null() {
                        steps = r.memos()?;
                    }
                }
                Some(Field::Version) => {
                    seen.first(Field::Version)?;
                    version = if r.null() { None } else { Some(r.int()?) };
                }
                Some(Field::UseApi) => {
                    seen.first(Field::UseApi)?;
                    use_api = r.bool()?;
                }
                Some(Field::Ctx) => {
                    seen.first(Field::Ctx)?;
                    ctx = Some(r.ctx()?);
                }
                _ => r.skip(0)?,
            }
            Some(())
        })?;
        Some(CallRequest {
            event: event?,
            events,
            steps,
            version,
            use_api,
            ctx: ctx?,
        })
    }

    /// Out of line: inlined into the request's reader, its locals made that frame larger than
    /// the call saves (about 190 instructions and 20 data misses a request more).
    #[inline(never)]
    fn memos(&mut self) -> Option<Memos> {
        // Twelve entries (80 bytes each) stay under the allocator's small-block cache (1 kB in
        // glibc): a larger first block costs a few hundred instructions more to take and give
        // back, every call.
        let mut memos = Vec::with_capacity(12);
        let mut finished = 0;
        if self.open()? {
            return Some(Memos::default());
        }
        // Inngest writes most memos as `"<hashed id>":{"data":<small integer>}`: those are
        // read record by record, to the first one of another shape, and what is left entry by
        // entry.
        while let Some((key, value, end)) = self.data_record() {
            finished += 1;
            memos.push((key, Some(Memo::Data(Value::from(value)))));
            self.i = end + 1;
            if self.s[end] == b'}' {
                return Some(Memos::sorted(memos, finished));
            }
        }
        let hashed_colon = |r: &mut Self| {
            let key = r.hashed()?;
            r.eat(b':')?;
            Some(key)
        };
        self.entries(hashed_colon, |r, key| {
            let memo = r.memo()?;
            // Keys that are not 40 bytes long can never be claimed: they are not kept.
            if let Ok(key) = key {
                finished += usize::from(memo.is_final());
                memos.push((key, Some(memo)));
            }
            Some(())
        })?;
        Some(Memos::sorted(memos, finished))
    }

    /// The memo entry that starts here, if it is written compactly as
    /// `"<hashed id>":{"data":<integer>}` and followed by `,` or `}`: its key, its value
    /// and where that comma or brace is (not consumed).
    fn data_record(&self) -> Option<(MemoKey, u64, usize)> {
        const MIDDLE: &[u8; 10] = br#"":{"data":"#;
        let at = self.i;
        let head = self.s.get(at..at + 52)?;
        if head[0] != b'"' || head[41..51] != MIDDLE[..] {
            return None;
        }
        let text = &head[1..41];
        if !plain40(text) {
            return None;
        }
        let key = key_of(text)?;
        let (value, end) = integer_at(self.s, at + 51)?;
        // Then the memo's brace and the entry's end.
        let closed =
            self.s.get(end) == Some(&b'}') && matches!(self.s.get(end + 1), Some(b',' | b'}'));
        closed.then_some((key, value, end + 1))
    }

    fn ctx(&mut self) -> Option<CallContext> {
        let mut seen = Seen::default();
        let (mut env, mut qi_id) = (None, None);
        let (mut attempt, mut max_attempts, mut stack) = (0, None, None);
        let (mut disable_immediate_execution, mut use_api) = (false, false);
        self.object_shaped(&CTX, |r, key| {
            match key {
                Some(Field::FnId) => {
                    seen.first(Field::FnId)?;
                    r.fn_id = r.opt_text()?;
                }
                Some(Field::RunId) => {
                    seen.first(Field::RunId)?;
                    r.run_id = Some(r.text()?);
                }
                Some(Field::Env) => {
                    seen.first(Field::Env)?;
                    env = r.opt_string()?;
                }
                Some(Field::StepId) => {
                    seen.first(Field::StepId)?;
                    r.step_id = r.opt_text()?;
                }
                Some(Field::QiId) => {
                    seen.first(Field::QiId)?;
                    qi_id = r.opt_string()?;
                }
                Some(Field::Attempt) => {
                    seen.first(Field::Attempt)?;
                    attempt = r.u32()?;
                }
                Some(Field::MaxAttempts) => {
                    seen.first(Field::MaxAttempts)?;
                    max_attempts = if r.null() { None } else { Some(r.u32()?) };
                }
                Some(Field::Stack) => {
                    seen.first(Field::Stack)?;
                    stack = if r.null() { None } else { Some(r.stack()?) };
                }
                Some(Field::DisableImmediateExecution) => {
                    seen.first(Field::DisableImmediateExecution)?;
                    disable_immediate_execution = r.bool()?;
                }
                Some(Field::UseApi) => {
                    seen.first(Field::UseApi)?;
                    use_api = r.bool()?;
                }
                _ => r.skip(0)?,
            }
            Some(())
        })?;
        // `fn_id` and `step_id` are kept as text (`Request`); `run_id` is also kept so.
        Some(CallContext {
            fn_id: None,
            run_id: self.run_id.as_ref()?.as_str().to_owned(),
            env,
            step_id: None,
            attempt,
            max_attempts,
            stack,
            disable_immediate_execution,
            use_api,
            qi_id,
        })
    }

    /// `ctx.stack`; its ids are checked to be strings and kept as text in `self.stack`,
    /// read only if a race needs them.
    fn stack(&mut self) -> Option<CallStack> {
        let mut seen = Seen::default();
        let mut stack = Stack::default();
        let mut current = None;
        self.object_shaped(&STACK, |r, key| {
            match key {
                Some(Field::Stack) => {
                    seen.first(Field::Stack)?;
                    if !r.null() {
                        r.ws();
                        let start = r.i;
                        r.strings40()?;
                        stack = Stack::Text(r.body.slice(start..r.i));
                    }
                }
                Some(Field::Current) => {
                    seen.first(Field::Current)?;
                    current = if r.null() { None } else { Some(r.int()?) };
                }
                _ => r.skip(0)?,
            }
            Some(())
        })?;
        self.stack = stack;
        Some(CallStack {
            stack: Vec::new(),
            current,
        })
    }
}

/// The integer whose digits start at `start` (no sign; at most 18 digits; one digit, or no
/// leading zero), and where its digits end. Always inlined: called out of line, the ten memos'
/// integers of a call request cost about 150 instructions more.
#[inline(always)]
fn integer_at(s: &[u8], start: usize) -> Option<(u64, usize)> {
    let mut end = start;
    let mut value = 0_u64;
    while let Some(d @ b'0'..=b'9') = s.get(end).copied() {
        value = value * 10 + u64::from(d - b'0');
        end += 1;
        if end - start > MAX_DIGITS {
            return None;
        }
    }
    let n = end - start;
    (n == 1 || (n > 1 && s[start] != b'0')).then_some((value, end))
}

/// Whether `text` (40 bytes) has no quote, backslash, control character or byte above 0x7f:
/// five words checked at once.
fn plain40(text: &[u8]) -> bool {
    let mut bad = 0_u64;
    for chunk in text.chunks_exact(8) {
        let word = chunk.try_into().map_or(HIGH, u64::from_le_bytes);
        bad |= special(word) | (word & HIGH);
    }
    bad == 0
}

/// The fields of an event found so far.
#[derive(Default)]
struct FoundFields {
    seen: Seen,
    id: Option<Span>,
    name: Option<Span>,
    data: Option<Span>,
    user: Option<Span>,
    ts: Option<i64>,
    v: Option<Span>,
}

/// The known fields of one object read so far, one bit each: serde refuses a field given twice.
#[derive(Default)]
struct Seen(u32);

impl Seen {
    fn first(&mut self, field: Field) -> Option<()> {
        let bit = 1 << field as u32;
        if self.0 & bit != 0 {
            return None;
        }
        self.0 |= bit;
        Some(())
    }
}

/// The known fields of a call request's objects (of the request, its `ctx`, `ctx.stack` and
/// an event), each numbered for [`Seen`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Field {
    Event,
    Events,
    Steps,
    Version,
    UseApi,
    Ctx,
    FnId,
    RunId,
    Env,
    StepId,
    QiId,
    Attempt,
    MaxAttempts,
    Stack,
    DisableImmediateExecution,
    Current,
    Id,
    Name,
    Data,
    User,
    Ts,
    V,
}

/// The known keys of one kind of object, and the order they came in: each key is first
/// checked against the one that followed the previous key last time, and read as any key only
/// when it is not that one. Inngest writes an object's fields in one order, so after the first
/// request a key and its colon cost a word's comparison (two for a long key) instead of a
/// scan to the closing quote and a match of the bytes.
///
/// What was learned is only a guess: a key that is not the one guessed is read and looked up
/// as any other, and the guess is then corrected. Threads share the guesses through relaxed
/// atomics; one that reads an old guess only reads a key the slow way.
struct Shape {
    keys: &'static [Known],
    /// For each key by index (then any key not in `keys`, then the object's start): the index
    /// of the key that followed it last time, or [`Shape::NONE`].
    next: [AtomicU8; Shape::SLOTS],
}

impl Shape {
    /// How many keys and guesses a shape holds.
    const SLOTS: usize = 16;
    /// The slot of the object's start.
    const START: usize = Self::SLOTS - 1;
    /// The slot after a key the shape does not know.
    const UNKNOWN: usize = Self::SLOTS - 2;
    /// No guess.
    const NONE: u8 = u8::MAX;

    const fn new(keys: &'static [Known]) -> Shape {
        assert!(keys.len() <= Self::UNKNOWN);
        Shape {
            keys,
            next: [const { AtomicU8::new(Self::NONE) }; Self::SLOTS],
        }
    }

    /// The guess after slot `after`, and its slot.
    #[inline]
    fn guess(&self, after: usize) -> Option<(usize, &Known)> {
        let at = usize::from(self.next[after].load(Ordering::Relaxed));
        Some((at, self.keys.get(at)?))
    }

    /// Learns that `key` followed slot `after`: the slot and field of `key` (if the shape
    /// knows it).
    #[cold]
    fn learn(&self, after: usize, key: &[u8]) -> (usize, Option<Field>) {
        let Some(at) = self.keys.iter().position(|k| k.key() == key) else {
            return (Self::UNKNOWN, None);
        };
        // At most 14 keys: the index fits.
        self.next[after].store(at as u8, Ordering::Relaxed);
        (at, Some(self.keys[at].field))
    }
}

/// A key a [`Shape`] knows: its field, the key quoted with the colon after it (`"key":`), and
/// the first sixteen bytes of that as two words (little end first) with the masks of the bytes
/// it fills.
struct Known {
    field: Field,
    quoted: &'static [u8],
    words: [u64; 2],
    masks: [u64; 2],
}

impl Known {
    /// `quoted` is `"key":`.
    const fn new(field: Field, quoted: &'static [u8]) -> Known {
        let (mut words, mut masks) = ([0; 2], [0; 2]);
        let mut i = 0;
        while i < quoted.len() && i < 16 {
            words[i / 8] |= (quoted[i] as u64) << (8 * (i % 8));
            masks[i / 8] |= 0xff << (8 * (i % 8));
            i += 1;
        }
        Known {
            field,
            quoted,
            words,
            masks,
        }
    }

    /// The key, unquoted.
    fn key(&self) -> &'static [u8] {
        &self.quoted[1..self.quoted.len() - 2]
    }

    /// Whether `"key":` is written at `at` in `s` (`false` within eight bytes of the end, where
    /// a key is read the slow way).
    #[inline(always)]
    fn comes_at(&self, s: &[u8], at: usize) -> bool {
        let word = |at: usize| {
            s.get(at..at + 8)
                .map(|w| u64::from_le_bytes(w.try_into().unwrap_or_default()))
        };
        let Some(first) = word(at) else {
            return false;
        };
        if first & self.masks[0] != self.words[0] {
            return false;
        }
        let n = self.quoted.len();
        if n <= 8 {
            return true;
        }
        match word(at + 8) {
            Some(second) => {
                second & self.masks[1] == self.words[1]
                    && (n <= 16 || s.get(at + 16..at + n) == self.quoted.get(16..))
            }
            // The last key of the body, in its last sixteen bytes.
            None => s.get(at + 8..at + n) == self.quoted.get(8..),
        }
    }
}

/// A [`Known`] key: `known!(Field, "key")`.
macro_rules! known {
    ($field:ident, $key:literal) => {
        Known::new(Field::$field, concat!("\"", $key, "\":").as_bytes())
    };
}

/// The shapes of the objects of a call request.
static REQUEST: Shape = Shape::new(&[
    known!(Event, "event"),
    known!(Events, "events"),
    known!(Steps, "steps"),
    known!(Version, "version"),
    known!(UseApi, "use_api"),
    known!(Ctx, "ctx"),
]);
static CTX: Shape = Shape::new(&[
    known!(FnId, "fn_id"),
    known!(RunId, "run_id"),
    known!(Env, "env"),
    known!(StepId, "step_id"),
    known!(QiId, "qi_id"),
    known!(Attempt, "attempt"),
    known!(MaxAttempts, "max_attempts"),
    known!(Stack, "stack"),
    known!(DisableImmediateExecution, "disable_immediate_execution"),
    known!(UseApi, "use_api"),
]);
static STACK: Shape = Shape::new(&[known!(Stack, "stack"), known!(Current, "current")]);
static EVENT: Shape = Shape::new(&[
    known!(Id, "id"),
    known!(Name, "name"),
    known!(Data, "data"),
    known!(User, "user"),
    known!(Ts, "ts"),
    known!(V, "v"),
]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_bytes_are_found_in_a_word() {
        let word = |s: &[u8; 8]| u64::from_le_bytes(*s);
        assert_eq!(special(word(b"abcdefgh")), 0);
        let accented: &[u8; 8] = "héllo!!".as_bytes().try_into().unwrap();
        assert_eq!(special(word(accented)), 0);
        let first = |s: &[u8; 8]| special(word(s)).trailing_zeros() / 8;
        assert_eq!(first(b"abc\"efgh"), 3);
        assert_eq!(first(b"abcdefg\\"), 7);
        assert_eq!(first(b"\nbcdefgh"), 0);
        assert_eq!(first(b"abcd\x1fghi"), 4);
        assert_eq!(first(b"ab\x00\"\\\x01gh"), 2);
        assert_eq!(special(word(b"abcd gh!")), 0);
    }

    proptest::proptest! {
        /// The word test finds the first special byte, and none when there is none.
        #[test]
        fn the_word_test_agrees_with_a_byte_at_a_time(bytes in proptest::array::uniform8(0_u8..)) {
            let first = bytes.iter().position(|b| matches!(b, b'"' | b'\\' | 0..=0x1f));
            let found = special(u64::from_le_bytes(bytes));
            let found = (found != 0).then(|| found.trailing_zeros() as usize / 8);
            proptest::prop_assert_eq!(found, first);
        }

        /// Strings with control characters, escapes or invalid UTF-8 are left to serde; the
        /// others are read as they are.
        #[test]
        fn strings_are_read_or_left_to_serde(text in proptest::collection::vec(0_u8.., 0..40)) {
            let mut body = br#"{"event":{},"ctx":{"run_id":""#.to_vec();
            body.extend_from_slice(&text);
            body.extend_from_slice(br#""}}"#);
            let plain = std::str::from_utf8(&text).is_ok()
                && !text.iter().any(|b| *b < 0x20 || *b == b'"' || *b == b'\\');
            let read = read(&Bytes::from(body));
            proptest::prop_assert_eq!(read.is_some(), plain);
            if let Some(r) = read {
                proptest::prop_assert_eq!(r.body.ctx.run_id.as_bytes(), &text[..]);
            }
        }
    }

    #[test]
    fn the_events_are_kept_unless_they_are_the_event_alone() {
        let events = |body: &str| {
            let r = read(&Bytes::copy_from_slice(body.as_bytes())).expect("a plain body");
            let texts: Vec<String> = r
                .body
                .events
                .iter()
                .map(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
                .collect();
            texts.join(" ")
        };
        // `events` (with `event` `{"a":1}` before it, or after it for the second), and what
        // the reader keeps of it.
        let cases = [
            (r#"[{"a":1}]"#, ""),
            (r#"[{"a":1}] AFTER"#, ""),
            (r#"[{"a":1},{"a":1}]"#, r#"{"a":1} {"a":1}"#),
            (r#"[{"a":1},{"b":2}]"#, r#"{"a":1} {"b":2}"#),
            (r#"[{"b":2},{"a":1}]"#, r#"{"b":2} {"a":1}"#),
            (r#"[{"b":2}]"#, r#"{"b":2}"#),
        ];
        for (given, kept) in cases {
            let body = match given.strip_suffix(" AFTER") {
                Some(given) => {
                    format!(r#"{{"events":{given},"event":{{"a":1}},"ctx":{{"run_id":"r"}}}}"#)
                }
                None => format!(r#"{{"event":{{"a":1}},"events":{given},"ctx":{{"run_id":"r"}}}}"#),
            };
            assert_eq!(events(&body), kept, "{body}");
        }
    }

    #[test]
    fn compact_data_memos_are_read_as_serde_reads_them() {
        let a = "a9993e364706816aba3e25717850c26c9cd0d89d";
        let b = "b9993e364706816aba3e25717850c26c9cd0d89d";
        let c = "c9993e364706816aba3e25717850c26c9cd0d89d";
        // Compact integer records, and after them or between them every other shape: each
        // read as serde reads it, or the body left to serde.
        for steps in [
            format!(
                r#"{{"{a}":{{"data":0}},"{b}":{{"data":45}},"{c}":{{"data":123456789012345678}}}}"#
            ),
            format!(r#"{{"{a}":{{"data":1}},"{b}":{{"data":"x"}},"{c}":{{"data":2}}}}"#),
            format!(r#"{{"{a}":{{"data":1}}, "{b}":{{"data":2}},"{c}" : {{"data":3}}}}"#),
            format!(r#"{{"{a}":{{"data":1}},"{b}":{{"data":-2}},"{c}":{{"data":3.5}}}}"#),
            format!(r#"{{"{a}":{{"data":1}},"{b}":{{"data":02}}}}"#),
            format!(r#"{{"{a}":{{"data":1234567890123456789}}}}"#),
            format!(r#"{{"{a}":{{"data":1e3}},"{b}":{{"data":1 }}}}"#),
            format!(r#"{{"{a}":{{"data":1}},"{a}":{{"data":2}},"x":{{"data":3}}}}"#),
            format!(r#"{{"{a}":{{"data":1,"x":2}},"{b}":{{"data":2}}}}"#),
            format!(
                r#"{{"{}":{{"data":1}},"{b}":{{"error":{{}}}}}}"#,
                a.to_uppercase()
            ),
            format!(r#"{{"{a}":{{"data":1}},}}"#),
            format!(r#"{{"{a}":{{"data":1}}"#),
            format!(r#"{{"{a}":{{"data":}}}}"#),
            "{}".to_owned(),
        ] {
            let body = format!(r#"{{"event":{{}},"steps":{steps},"ctx":{{"run_id":"r"}}}}"#);
            let fast = read(&Bytes::from(body.clone()));
            let serde = crate::serving::call::parse_call_serde(body.as_bytes()).ok();
            if fast.is_some() {
                assert_eq!(format!("{fast:?}"), format!("{serde:?}"), "{steps}");
            } else {
                // Only what is not plain is left: a number serde would read as a float, or
                // a body serde refuses too.
                assert!(
                    serde.is_none()
                        || steps.contains("1e3")
                        || steps.contains("1234567890123456789"),
                    "{steps}"
                );
            }
        }
        let body = format!(
            r#"{{"event":{{}},"steps":{{"{a}":{{"data":7}},"{b}":{{"data":"x"}}}},"ctx":{{"run_id":"r"}}}}"#
        );
        let memos = read(&Bytes::from(body)).expect("a plain body").body.steps;
        assert_eq!(
            format!("{:?}", memos.by_hashed_id()),
            format!(r#"{{"{a}": Data(Number(7)), "{b}": Data(String("x"))}}"#)
        );
    }

    /// Keys are guessed from the order they came in last time: every order, and keys that
    /// only start like the one guessed, are read as serde reads them.
    #[test]
    fn keys_in_any_order_are_read_as_serde_reads_them() {
        let id = "a9993e364706816aba3e25717850c26c9cd0d89d";
        let event = r#"{"name":"a","data":{"n":1},"id":"x","ts":5,"user":{}}"#;
        let fields = [
            format!(r#""event":{event}"#),
            format!(r#""events":[{event}]"#),
            format!(r#""steps":{{"{id}":{{"data":3}}}}"#),
            r#""version":2"#.to_owned(),
            r#""use_api":false"#.to_owned(),
            format!(
                r#""ctx":{{"run_id":"r","attempt":1,"max_attempts":4,"stack":{{"stack":["{id}"],"current":1}},"disable_immediate_execution":true,"env":"","fn_id":"f","step_id":"step","qi_id":"q","use_api":false}}"#
            ),
        ];
        // The order a Go server writes, sorted, reversed, and the first again; then keys that
        // start like the guessed ones (or are them with a blank after), which are skipped or
        // read as any key.
        let orders: [&[usize]; 4] = [
            &[0, 1, 2, 5, 3, 4],
            &[5, 0, 1, 2, 4, 3],
            &[4, 3, 5, 2, 1, 0],
            &[0, 1, 2, 5, 3, 4],
        ];
        let mut bodies: Vec<String> = orders
            .iter()
            .map(|order| {
                let text: Vec<&str> = order.iter().map(|i| fields[*i].as_str()).collect();
                format!("{{{}}}", text.join(","))
            })
            .collect();
        for (from, to) in [
            (r#""steps":"#, r#""stepsX":1,"steps":"#),
            (r#""version":"#, r#""versio":1,"version":"#),
            (r#""max_attempts":"#, r#""max_attemptsX":1,"max_attempts":"#),
            (
                r#""disable_immediate_execution":"#,
                r#""disable_immediate_executioN":1,"disable_immediate_execution":"#,
            ),
            (r#""ctx":"#, r#""ctx" :"#),
            (r#""event":"#, r#""évent":1,"event":"#),
        ] {
            bodies.push(bodies[0].replacen(from, to, 1));
            bodies.push(bodies[0].clone());
        }
        // The last key, in the body's last sixteen bytes, guessed (`use_api` was followed by
        // `version` before) but not written as guessed: a blank before its colon.
        bodies.push(bodies[1].replacen(r#""version":"#, r#""version" :"#, 1));
        bodies.push(bodies[1].clone());
        for body in bodies {
            let fast = read(&Bytes::from(body.clone()));
            let serde = crate::serving::call::parse_call_serde(body.as_bytes()).ok();
            assert!(fast.is_some(), "{body}");
            assert_eq!(format!("{fast:?}"), format!("{serde:?}"), "{body}");
        }
    }

    #[test]
    fn plain_bodies_are_read_and_others_left_to_serde() {
        let body = br#"{"event":{"name":"a","data":{"n":1.5}},"events":[{"name":"a","data":{"n":1.5}}],
            "steps":{"a9993e364706816aba3e25717850c26c9cd0d89d":{"data":7},"x":{"data":[1]}},
            "version":-1,"ctx":{"run_id":"r","attempt":2,"stack":{"stack":["s"],"current":1},"new":[{}]}}"#;
        let read = |body: &[u8]| read(&Bytes::copy_from_slice(body));
        let r = read(body).expect("a plain body");
        let r = r.body;
        assert_eq!(r.event.as_bytes(), br#"{"name":"a","data":{"n":1.5}}"#);
        assert!(r.events.is_empty(), "[event] makes no vector");
        assert_eq!(r.steps.len(), 1);
        assert_eq!(r.version, Some(-1));
        assert_eq!((r.ctx.run_id.as_str(), r.ctx.attempt), ("r", 2));
        // A key that is not ASCII, and ids of 40 bytes in the stack.
        let id = "0123456789abcdef0123456789abcdef01234567";
        let body = format!(
            r#"{{"event":{{"é":1}},"ctx":{{"run_id":"r","stack":{{"stack":["{id}","x","{}"]}}}}}}"#,
            "é".repeat(20)
        );
        let r = read(body.as_bytes()).expect("a plain body");
        assert_eq!(r.body.event.as_bytes(), r#"{"é":1}"#.as_bytes());
        // Ids of 40 bytes are kept as they are written, hex or not (no hashed id equals one
        // that is not); "x" can be no hashed id.
        assert_eq!(
            format!("{:?}", r.stack),
            format!("[{id:?}, {:?}]", "é".repeat(20))
        );
        // An escaped quote where a 40-byte id would end is left to serde.
        let escaped = format!(
            r#"{{"event":{{}},"ctx":{{"run_id":"r","stack":{{"stack":["{}\""]}}}}}}"#,
            &id[..39]
        );
        assert!(read(escaped.as_bytes()).is_none());
        // A compact stack is checked id by id, to its bracket; an element after the ids that
        // is not one is found by the general reader.
        let other = "fedcba9876543210fedcba9876543210fedcba98";
        let stack = |items: &str| {
            format!(r#"{{"event":{{}},"ctx":{{"run_id":"r","stack":{{"stack":[{items}]}}}}}}"#)
        };
        let r = read(stack(&format!(r#""{id}","{other}""#)).as_bytes()).expect("a plain body");
        assert_eq!(format!("{:?}", r.stack), format!("[{id:?}, {other:?}]"));
        assert!(read(stack(&format!(r#""{id}","{other}",1"#)).as_bytes()).is_none());
        assert!(read(
            stack(&format!(r#""{id}","{other}""#))
                .replace("]}", "}")
                .as_bytes()
        )
        .is_none());
        for other in [
            &br#"{"event":{"a":"\n"},"ctx":{"run_id":"r"}}"#[..],
            br#"{"event":{"a":1e5},"ctx":{"run_id":"r"}}"#,
            br#"{"event":{},"ctx":{"run_id":"r"},"ctx":{"run_id":"r"}}"#,
            br#"{"event":{},"ctx":{"run_id":"r","attempt":1.0}}"#,
            br#"{"event":{},"ctx":{}}"#,
            br#"{"event":{},"ctx":{"run_id":"r"}} x"#,
            br#"{"event":{},"ctx":{"run_id":"r"},}"#,
            br#"{"event":{"a":01},"ctx":{"run_id":"r"}}"#,
        ] {
            assert!(read(other).is_none(), "{}", String::from_utf8_lossy(other));
        }
    }
}
