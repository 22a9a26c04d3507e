//! secpipe's optional native hot path (`secpipe.formats._columnar`).
//!
//! Design: formats split a document into *canonical* records (compact JSON, validated and
//! UTF-8 checked by msgspec before they get here). `extract` walks each record once and
//! appends the values at the requested paths to Arrow-layout column buffers (validity
//! bitmap, int32 offsets, UTF-8 data), builds the `unmapped` JSON of the top-level keys the
//! mapping does not place, and `uids` hashes records (SHA-256, SHA-NI where the CPU has
//! it). Python wraps the buffers as pyarrow arrays without a copy per value
//! (`secpipe.formats._fast`).
//!
//! Why by hand: no library decodes JSON straight to chosen Arrow columns by path while
//! also keeping each record's bytes (pyarrow's and Polars' JSON readers were measured at
//! 6-8 us per CloudTrail record, slower than the msgspec path this replaces).
//!
//! Guarantees: the values are what msgspec decodes for the same record typed as the
//! format's structs (strings unescaped; a `str | bool` field gives "true"/"false" for a
//! JSON boolean; a raw field gives the value's JSON text). Anything the fast path does not
//! decide the same way -- a value of another JSON type, a duplicate key, an escaped key, a
//! lone surrogate, bytes that are not compact JSON -- makes `extract` report the record as
//! irregular, and the caller decodes the batch on its Python path instead. No input makes
//! this code read out of bounds or panic: every index is checked.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use sha2::{Digest, Sha256};

mod bulk;
mod compact;
mod compact_doc;
mod evtx_xml;
mod extract;
mod github;
mod report;
mod sha_x2;
mod shapes;
mod github_audit;
mod iso_cols;
mod json_rows;
mod ocsf_lines;
mod needles;
mod valid;

/// A record the fast path does not decide the way msgspec would.
struct Irregular;

type R<T> = Result<T, Irregular>;

const STR: u8 = b's'; // str | null
const STR_BOOL: u8 = b'b'; // str | bool | null
const RAW: u8 = b'r'; // any JSON value, as its compact text
const INT: u8 = b'i'; // int | null (a JSON integer that fits int64), as int64
const BOOL: u8 = b'B'; // bool | null, one byte 0/1 per row
/// Leaf name for a list item itself (``a[].@``): a list of scalars, or each item's raw text.
const SELF: &[u8] = b"@";
/// Most keys one object of a spec may name.
const MAX_KEYS: usize = 256;

/// One more value's bit in an Arrow validity bitmap ``valid`` of ``len`` values (``nulls`` of them null): set for a
/// value, clear for a null (counted).
#[inline(always)]
pub(crate) fn push_bit(valid: &mut Vec<u8>, len: &mut usize, nulls: &mut usize, set: bool) {
    if len.is_multiple_of(8) {
        valid.push(0);
    }
    if set {
        let last = valid.len() - 1;
        valid[last] |= 1 << (*len % 8);
    } else {
        *nulls += 1;
    }
    *len += 1;
}

/// One output column in Arrow layout (a list column keeps only offsets and validity).
#[derive(Default)]
struct Col {
    data: Vec<u8>,
    offsets: Vec<i32>,
    valid: Vec<u8>,
    len: usize,
    nulls: usize,
}

impl Col {
    fn new() -> Self {
        Col { offsets: vec![0], ..Default::default() }
    }

    fn bit(&mut self, set: bool) {
        push_bit(&mut self.valid, &mut self.len, &mut self.nulls, set);
    }

    fn end(&mut self, valid: bool) -> R<()> {
        let off = i32::try_from(self.data.len()).map_err(|_| Irregular)?;
        self.offsets.push(off);
        self.bit(valid);
        Ok(())
    }

    fn snapshot(&self) -> [usize; 5] {
        [self.data.len(), self.offsets.len(), self.valid.len(), self.len, self.nulls]
    }

    /// Drop every row appended since ``snap`` was taken.
    fn restore(&mut self, snap: [usize; 5]) {
        let [data, offsets, valid, len, nulls] = snap;
        self.data.truncate(data);
        self.offsets.truncate(offsets);
        self.valid.truncate(valid);
        if len % 8 != 0 {
            if let Some(last) = self.valid.last_mut() {
                *last &= (1u8 << (len % 8)) - 1;
            }
        }
        self.len = len;
        self.nulls = nulls;
    }

    /// The bytes of row ``k`` (valid or not).
    fn row(&self, k: usize) -> &[u8] {
        &self.data[self.offsets[k] as usize..self.offsets[k + 1] as usize]
    }

    /// The last row's bytes, if it is valid.
    fn last(&self) -> Option<&[u8]> {
        let n = self.offsets.len();
        if self.len == 0 || self.valid.get((self.len - 1) / 8)? & (1 << ((self.len - 1) % 8)) == 0 {
            return None;
        }
        self.data.get(self.offsets[n - 2] as usize..self.offsets[n - 1] as usize)
    }

    fn null(&mut self) -> R<()> {
        self.end(false)
    }

    fn bytes(&mut self, v: &[u8]) -> R<()> {
        self.data.extend_from_slice(v);
        self.end(true)
    }

    /// A list row ending after ``items`` items in total (offsets count child rows).
    fn list_end(&mut self, items: usize, valid: bool) -> R<()> {
        self.offsets.push(i32::try_from(items).map_err(|_| Irregular)?);
        self.bit(valid);
        Ok(())
    }
}

enum Node {
    Leaf { slot: usize, mode: u8 },
    Obj(Obj),
    List { slot: usize, item: Obj },
}

/// Names looked up by the bytes of a JSON key: an open-addressing hash table over each name's
/// length and first 8 bytes (one u64), at most half full, so a lookup is a multiply, a probe or
/// two and one full compare of the candidate (a linear scan of ``memcmp`` calls over an object's
/// few dozen names was ~6% of the CloudTrail walk). The first of equal names wins, as a scan would.
#[derive(Default)]
struct Names {
    names: Vec<Vec<u8>>,
    /// index + 1 of the name in each slot (0: empty); ``slots.len()`` is a power of two
    slots: Vec<u32>,
    heads: Vec<u64>,
    /// each name's last 8 bytes (names of 9-16 bytes are then compared with no ``memcmp``)
    tails: Vec<u64>,
    shift: u32,
}

#[inline(always)]
fn tail(key: &[u8]) -> u64 {
    key.len().checked_sub(8).map_or(0, |n| head(&key[n..]))
}

#[inline(always)]
fn head(key: &[u8]) -> u64 {
    if let Some(w) = key.get(..8) {
        return u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
    }
    key.iter().enumerate().fold(0u64, |w, (i, &c)| w | (u64::from(c) << (8 * i)))
}

impl Names {
    fn new<'a>(names: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let names: Vec<Vec<u8>> = names.into_iter().map(<[u8]>::to_vec).collect();
        let bits = (names.len() * 2).max(4).next_power_of_two().trailing_zeros();
        let mut t = Names { heads: names.iter().map(|n| head(n)).collect(), tails: names.iter().map(|n| tail(n)).collect(),
                            slots: vec![0; 1 << bits], names, shift: 64 - bits };
        for n in 0..t.names.len() {
            let mut i = t.slot(t.heads[n], t.names[n].len());
            while t.slots[i] != 0 {
                if t.names[t.slots[i] as usize - 1] == t.names[n] {
                    break; // a repeated name: the first one stays
                }
                i = (i + 1) & (t.slots.len() - 1);
            }
            if t.slots[i] == 0 {
                t.slots[i] = n as u32 + 1;
            }
        }
        t
    }

    #[inline(always)]
    fn slot(&self, h: u64, len: usize) -> usize {
        ((h ^ (len as u64).rotate_right(8)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Index of the first name equal to ``key``.
    #[inline]
    fn find(&self, key: &[u8]) -> Option<usize> {
        if self.names.is_empty() {
            return None;
        }
        let h = head(key);
        let mask = self.slots.len() - 1;
        let mut i = self.slot(h, key.len());
        loop {
            let n = self.slots[i] as usize;
            if n == 0 {
                return None;
            }
            let name = &self.names[n - 1];
            if self.heads[n - 1] == h && name.len() == key.len()
                && (key.len() <= 8 || (self.tails[n - 1] == tail(key) && (key.len() <= 16 || name[8..] == key[8..])))
            {
                return Some(n - 1);
            }
            i = (i + 1) & mask;
        }
    }
}

#[derive(Default)]
struct Obj {
    keys: Vec<(Vec<u8>, Node)>,
    /// ``keys``' names, for lookups (filled by :func:`build` once the tree is complete).
    names: Names,
    /// In a list item: the leaf that takes the item itself (``a[].@``).
    me: Option<(usize, u8)>,
    /// Slots filled once per row of this object's scope (none under a nested list).
    scope: Vec<usize>,
}

impl Obj {
    fn find(&self, key: &[u8]) -> Option<(usize, &Node)> {
        self.names.find(key).map(|n| (n, &self.keys[n].1))
    }
}

fn at(b: &[u8], i: usize) -> R<u8> {
    b.get(i).copied().ok_or(Irregular)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Bit i set when an odd number of bits 0..=i of ``x`` are set: with ``x`` a block's quote
/// mask (escaped quotes removed), the bytes inside strings (the simdjson trick).
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// High bit set in each byte of ``w`` equal to ``c`` (SWAR; bits above the first match may
/// be spurious, the lowest set bit is exact).
#[inline(always)]
fn bytes_eq(w: u64, c: u8) -> u64 {
    let x = w ^ (ONES * u64::from(c));
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The object key at ``j`` (its opening quote) when it holds no escape and a colon follows it: its bytes (its text)
/// and the index of its value; an escaped key (its bytes are not its text) or no colon is irregular.
#[inline(always)]
pub(crate) fn plain_key(b: &[u8], j: usize) -> R<(&[u8], usize)> {
    if at(b, j)? != b'"' {
        return Err(Irregular);
    }
    let (kend, escaped) = skip_string(b, j)?;
    if escaped || at(b, kend)? != b':' {
        return Err(Irregular);
    }
    Ok((&b[j + 1..kend - 1], kend + 1))
}

/// Index just past the string starting at ``i`` (an opening quote) and whether it has escapes.
///
/// Eight bytes at a time (SWAR) up to the first quote or backslash: JSON strings are mostly
/// short, where memchr's setup costs more than the scan.
fn skip_string(b: &[u8], i: usize) -> R<(usize, bool)> {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        if let Some(chunk) = b.get(j..j + 8) {
            let w = u64::from_le_bytes(chunk.try_into().map_err(|_| Irregular)?);
            let m = bytes_eq(w, b'"') | bytes_eq(w, b'\\');
            if m == 0 {
                j += 8;
                continue;
            }
            j += (m.trailing_zeros() / 8) as usize;
        }
        match at(b, j)? {
            b'"' => return Ok((j + 1, escaped)),
            b'\\' => {
                escaped = true;
                j += 2;
            }
            _ => j += 1,
        }
    }
}

/// Index just past the value starting at ``i``.
fn skip_value(b: &[u8], i: usize) -> R<usize> {
    match at(b, i)? {
        b'"' => Ok(skip_string(b, i)?.0),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while let Some(&c) = b.get(j) {
                match c {
                    b'"' => {
                        j = skip_string(b, j)?.0;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            Err(Irregular)
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') {
                if b[j] <= b' ' {
                    return Err(Irregular); // not compact
                }
                j += 1;
            }
            if j == i {
                return Err(Irregular);
            }
            Ok(j)
        }
    }
}

fn hex4(b: &[u8], i: usize) -> R<u32> {
    let s = b.get(i..i + 4).ok_or(Irregular)?;
    let mut v = 0u32;
    for &c in s {
        v = v * 16 + (c as char).to_digit(16).ok_or(Irregular)?;
    }
    Ok(v)
}

/// Append the unescaped content of the JSON string ``s`` (without its quotes).
fn unescape(s: &[u8], out: &mut Vec<u8>) -> R<()> {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' {
            let next = memchr::memchr(b'\\', &s[i..]).map_or(s.len(), |k| i + k);
            out.extend_from_slice(&s[i..next]);
            i = next;
            continue;
        }
        let e = at(s, i + 1)?;
        i += 2;
        let simple = match e {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => 0,
            _ => return Err(Irregular),
        };
        if e != b'u' {
            out.push(simple);
            continue;
        }
        let mut cp = hex4(s, i)?;
        i += 4;
        if (0xD800..0xDC00).contains(&cp) {
            if at(s, i)? != b'\\' || at(s, i + 1)? != b'u' {
                return Err(Irregular); // lone high surrogate
            }
            let lo = hex4(s, i + 2)?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(Irregular);
            }
            i += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (0xDC00..0xE000).contains(&cp) {
            return Err(Irregular); // lone low surrogate
        }
        let ch = char::from_u32(cp).ok_or(Irregular)?;
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    Ok(())
}

struct Walker<'a> {
    cols: Vec<Col>,
    /// Mode per slot (fixed-width columns pad an absent row).
    modes: Vec<u8>,
    unmapped_names: &'a [Vec<u8>],
    /// ``unmapped_names`` for lookups.
    unmapped_index: Names,
    /// each of ``unmapped_names`` as its JSON key and colon (``"name":``), made once
    unmapped_keys: Vec<Vec<u8>>,
    unmapped: Col,
    /// Top-level keys the format knows (columns or unmapped fields); others are extras.
    known: Names,
    /// Top-level keys of the spec whose values also stay in ``unmapped`` as extras (read, not
    /// placed: a walk reads them and copies them out in the same pass).
    keep: Names,
    /// The input is not known to be valid compact JSON yet: every value is checked as
    /// ``valid::value`` would check it (the walk is then also the validation pass).
    strict: bool,
    /// Reused by each record (no allocation a record): the row marks of open scopes, the extra
    /// keys and the unmapped fields found
    marks: Vec<usize>,
    extras: Vec<(usize, usize, usize, usize)>,
    fields: Vec<Option<(usize, usize)>>,
    /// The last record's extra keys as they came (their bytes back to back, and where each ends), the
    /// index of each in key order (``order``: empty after a refusal), and room for the sorted extras.
    order_keys: Vec<u8>,
    order_ends: Vec<usize>,
    order: Vec<usize>,
    sorted: Vec<(usize, usize, usize, usize)>,
}

impl<'a> Walker<'a> {
    fn new(cols: Vec<Col>, modes: Vec<u8>, unmapped_names: &'a [Vec<u8>], known: Names, unmapped: Col, strict: bool) -> Self {
        let unmapped_keys = unmapped_names.iter().map(|n| [b"\"", n.as_slice(), b"\":"].concat()).collect();
        Walker { cols, modes, unmapped_names, unmapped_index: Names::new(unmapped_names.iter().map(Vec::as_slice)),
                 unmapped_keys, unmapped, known, keep: Names::default(), strict, marks: Vec::new(), extras: Vec::new(),
                 fields: Vec::new(), order_keys: Vec::new(), order_ends: Vec::new(), order: Vec::new(), sorted: Vec::new() }
    }

    /// This walker with top-level ``keep`` keys: read by the spec and kept in ``unmapped`` too.
    fn keeping(mut self, keep: Names) -> Self {
        self.keep = keep;
        self
    }

    /// Index just past the string at ``i`` and whether it holds an escape (checked if ``strict``).
    #[inline]
    fn string(&self, b: &[u8], i: usize) -> R<(usize, bool)> {
        if self.strict {
            valid::string_escaped(b, i)
        } else {
            skip_string(b, i)
        }
    }

    /// Index just past the value at ``i`` (checked if ``strict``).
    #[inline]
    fn skip(&self, b: &[u8], i: usize) -> R<usize> {
        if self.strict {
            valid::value(b, i)
        } else {
            skip_value(b, i)
        }
    }

    /// Fill a leaf from the value at ``i``; returns the index past it.
    fn leaf(&mut self, b: &[u8], i: usize, slot: usize, mode: u8) -> R<usize> {
        let c = at(b, i)?;
        let (end, escaped) = if c == b'"' { self.string(b, i)? } else { (self.skip(b, i)?, false) };
        let before = self.cols[slot].len;
        let col = &mut self.cols[slot];
        if mode == RAW {
            col.bytes(&b[i..end])?;
        } else if mode == INT || mode == BOOL {
            let v = &b[i..end];
            if v == b"null" {
                if mode == INT {
                    col.data.extend_from_slice(&0i64.to_le_bytes());
                } else {
                    col.data.push(0);
                }
                col.null()?;
            } else if mode == BOOL && (v == b"true" || v == b"false") {
                col.data.push(u8::from(v == b"true"));
                col.end(true)?;
            } else if mode == INT {
                let text = std::str::from_utf8(v).map_err(|_| Irregular)?;
                if text.bytes().any(|d| !(d.is_ascii_digit() || d == b'-')) {
                    return Err(Irregular); // a float, a string, ...: msgspec's int refuses it
                }
                let n: i64 = text.parse().map_err(|_| Irregular)?;
                col.data.extend_from_slice(&n.to_le_bytes());
                col.end(true)?;
            } else {
                return Err(Irregular);
            }
        } else if c == b'"' {
            if escaped {
                unescape(&b[i + 1..end - 1], &mut col.data)?;
                col.end(true)?;
            } else {
                col.bytes(&b[i + 1..end - 1])?;
            }
        } else if &b[i..end] == b"null" {
            col.null()?;
        } else if mode == STR_BOOL && (&b[i..end] == b"true" || &b[i..end] == b"false") {
            col.bytes(&b[i..end])?;
        } else {
            return Err(Irregular); // a number, object or array where msgspec wants a string
        }
        debug_assert_eq!(self.cols[slot].len, before + 1);
        Ok(end)
    }

    /// The key of the object entry at ``j``: (its text, unescaped into ``buf`` when it has
    /// escapes, as msgspec matches it; the index of the ``:`` after it; whether it had escapes).
    #[inline]
    fn key<'k>(&self, b: &'k [u8], j: usize, buf: &'k mut Vec<u8>) -> R<(&'k [u8], usize, bool)> {
        if at(b, j)? != b'"' {
            return Err(Irregular);
        }
        let (kend, escaped) = self.string(b, j)?;
        let key = if escaped {
            unescape(&b[j + 1..kend - 1], buf)?;
            buf.as_slice()
        } else {
            &b[j + 1..kend - 1]
        };
        if at(b, kend)? != b':' {
            return Err(Irregular);
        }
        Ok((key, kend, escaped))
    }

    /// Walk the object at ``i`` against ``obj``; the caller closes the row scope.
    fn object(&mut self, b: &[u8], i: usize, obj: &Obj, root: bool, extras: &mut Vec<(usize, usize, usize, usize)>,
              fields: &mut [Option<(usize, usize)>]) -> R<usize> {
        if at(b, i)? != b'{' {
            return Err(Irregular);
        }
        let mut j = i + 1;
        if at(b, j)? == b'}' {
            return Ok(j + 1);
        }
        // keys of the spec seen in this object: a repeated one means msgspec keeps the last
        // value, which the walker does not undo (leaves and lists would show it, nested
        // objects would merge): decline
        let mut seen = [0u64; MAX_KEYS / 64];
        loop {
            let mut unescaped = Vec::new();
            let (key, kend, escaped) = self.key(b, j, &mut unescaped)?;
            let v = kend + 1;
            let found = obj.find(key);
            if let Some((n, _)) = found {
                let (word, bit) = (n / 64, 1u64 << (n % 64));
                if seen[word] & bit != 0 {
                    return Err(Irregular);
                }
                seen[word] |= bit;
            }
            let kept = root && found.is_some() && self.keep.find(key).is_some();
            let end = match found.map(|(_, node)| node) {
                Some(Node::Leaf { slot, mode }) => {
                    let end = self.leaf(b, v, *slot, *mode)?;
                    if root && *mode == RAW {
                        if let Some(k) = self.unmapped_index.find(key) {
                            if fields[k].replace((v, end)).is_some() {
                                return Err(Irregular);
                            }
                        }
                    }
                    end
                }
                Some(Node::Obj(child)) => self.nested(b, v, child)?,
                Some(Node::List { slot, item }) => self.list(b, v, *slot, item)?,
                None => {
                    let end = self.skip(b, v)?;
                    if root {
                        if let Some(k) = self.unmapped_index.find(key) {
                            if fields[k].replace((v, end)).is_some() {
                                return Err(Irregular); // duplicate key
                            }
                        } else if self.known.find(key).is_none() {
                            if escaped {
                                return Err(Irregular); // an extra key is re-encoded by msgspec
                            }
                            extras.push((j, kend, v, end));
                        }
                    }
                    end
                }
            };
            if kept {
                if escaped {
                    return Err(Irregular); // an extra key is re-encoded by msgspec
                }
                extras.push((j, kend, v, end));
            }
            match at(b, end)? {
                b',' => j = end + 1,
                b'}' => return Ok(end + 1),
                _ => return Err(Irregular),
            }
        }
    }

    /// A nested object (or null): its leaves share the enclosing row scope; its own raw text
    /// goes to the slot of its ``a.@`` path (mode raw), if the spec names one.
    fn nested(&mut self, b: &[u8], i: usize, obj: &Obj) -> R<usize> {
        let whole = match obj.me {
            Some((slot, RAW)) => Some(self.leaf(b, i, slot, RAW)?),
            Some(_) => return Err(Irregular), // (only the raw text of an object is read)
            None => None,
        };
        if b.get(i..i + 4) == Some(b"null") {
            return match whole {
                Some(end) => Ok(end),
                None => self.skip(b, i),
            };
        }
        self.object(b, i, obj, false, &mut Vec::new(), &mut [])
    }

    /// A list of objects (or null): one child row per item.
    fn list(&mut self, b: &[u8], i: usize, slot: usize, item: &Obj) -> R<usize> {
        if b.get(i..i + 4) == Some(b"null") {
            let items = *self.cols[slot].offsets.last().unwrap_or(&0) as usize;
            self.cols[slot].list_end(items, false)?;
            return self.skip(b, i);
        }
        if at(b, i)? != b'[' {
            return Err(Irregular);
        }
        let mut items = *self.cols[slot].offsets.last().unwrap_or(&0) as usize;
        let mut j = i + 1;
        if at(b, j)? == b']' {
            self.cols[slot].list_end(items, true)?;
            return Ok(j + 1);
        }
        loop {
            let marks = self.marks(&item.scope);
            let mut end = 0;
            if let Some((slot, mode)) = item.me {
                if mode != RAW && b.get(j..j + 4) == Some(b"null") {
                    return Err(Irregular); // msgspec: a null item of a list of str/int/bool
                }
                end = self.leaf(b, j, slot, mode)?;
            }
            if !item.keys.is_empty() || item.me.is_none() {
                end = self.object(b, j, item, false, &mut Vec::new(), &mut [])?; // a struct item: an object
            }
            self.close(&item.scope, marks)?;
            items += 1;
            match at(b, end)? {
                b',' => j = end + 1,
                b']' => {
                    self.cols[slot].list_end(items, true)?;
                    return Ok(end + 1);
                }
                _ => return Err(Irregular),
            }
        }
    }

    /// Open a row of ``scope``: its slots' row counts pushed on ``self.marks``; returns where they
    /// start, for ``close``.
    fn marks(&mut self, scope: &[usize]) -> usize {
        let base = self.marks.len();
        self.marks.extend(scope.iter().map(|&s| self.cols[s].len));
        base
    }

    /// End the row opened by ``marks`` (which returned ``base``): slots not filled get null; a slot
    /// filled twice was a duplicate key.
    fn close(&mut self, scope: &[usize], base: usize) -> R<()> {
        let marks = self.marks.get(base..base + scope.len()).ok_or(Irregular)?;
        for (&s, &m) in scope.iter().zip(marks) {
            let col = &mut self.cols[s];
            match col.len - m {
                0 => {
                    // absent: a null row (the last offset repeats, for strings and lists alike)
                    match self.modes[s] {
                        INT => col.data.extend_from_slice(&0i64.to_le_bytes()),
                        BOOL => col.data.push(0),
                        _ => {}
                    }
                    let last = *col.offsets.last().unwrap_or(&0);
                    col.offsets.push(last);
                    col.bit(false);
                }
                1 => {}
                _ => return Err(Irregular),
            }
        }
        self.marks.truncate(base);
        Ok(())
    }

    /// ``extras`` (key, value spans in ``b``) in key order, by bytes (= by code point); a duplicate key
    /// refused. The records of one source mostly list their keys in one order (an API's struct): when
    /// a record has the last one's keys in the same sequence, the order found for those is taken again
    /// (the keys compared, ~70 short memcmps a GitHub run, where the sort took ~5k instructions).
    fn sort_extras(&mut self, b: &[u8], extras: &mut Vec<(usize, usize, usize, usize)>) -> R<()> {
        let same = extras.len() == self.order.len()
            && extras.iter().zip(&self.order_ends).enumerate().all(|(n, (x, &end))| {
                let from = if n == 0 { 0 } else { self.order_ends[n - 1] };
                b.get(x.0..x.1) == self.order_keys.get(from..end)
            });
        if !same {
            self.order_keys.clear();
            self.order_ends.clear();
            for x in extras.iter() {
                self.order_keys.extend_from_slice(b.get(x.0..x.1).ok_or(Irregular)?);
                self.order_ends.push(self.order_keys.len());
            }
            self.order.clear();
            self.order.extend(0..extras.len());
            let key = |x: &(usize, usize, usize, usize)| b.get(x.0 + 1..x.1 - 1);
            self.order.sort_by(|&x, &y| key(&extras[x]).cmp(&key(&extras[y])));
            if self.order.windows(2).any(|w| b.get(extras[w[0]].0..extras[w[0]].1) == b.get(extras[w[1]].0..extras[w[1]].1)) {
                self.order.clear();
                self.order_ends.clear();
                return Err(Irregular); // duplicate extra key
            }
        }
        self.sorted.clear();
        self.sorted.extend(self.order.iter().map(|&k| extras[k]));
        std::mem::swap(extras, &mut self.sorted);
        Ok(())
    }

    /// Walk the record (an object) at ``i`` of ``b``; returns the index just past it.
    fn record(&mut self, b: &[u8], i: usize, root: &Obj) -> R<usize> {
        self.marks.clear();
        let marks = self.marks(&root.scope);
        let mut extras = std::mem::take(&mut self.extras);
        let mut fields = std::mem::take(&mut self.fields);
        extras.clear();
        fields.clear();
        fields.resize(self.unmapped_names.len(), None);
        let end = self.object(b, i, root, true, &mut extras, &mut fields)?;
        self.close(&root.scope, marks)?;
        // unmapped: declared fields in order, then extra keys sorted (by bytes = by code point)
        self.sort_extras(b, &mut extras)?;
        let out = &mut self.unmapped;
        let start = out.data.len();
        for (k, f) in fields.iter().enumerate() {
            if let Some((v, e)) = f {
                out.data.push(if out.data.len() == start { b'{' } else { b',' });
                out.data.extend_from_slice(&self.unmapped_keys[k]);
                out.data.extend_from_slice(&b[*v..*e]);
            }
        }
        for (ks, ke, v, e) in &extras {
            out.data.push(if out.data.len() == start { b'{' } else { b',' });
            out.data.extend_from_slice(&b[*ks..*ke]);
            out.data.push(b':');
            out.data.extend_from_slice(&b[*v..*e]);
        }
        if out.data.len() == start {
            out.null()?;
        } else {
            out.data.push(b'}');
            out.end(true)?;
        }
        self.extras = extras;
        self.fields = fields;
        Ok(end)
    }
}

/// Build the spec tree from dotted paths (``a.b.c``; a ``[]`` suffix marks a list of objects).
fn build(spec: &[(String, String)]) -> PyResult<Obj> {
    let mut root = Obj::default();
    for (slot, (path, mode)) in spec.iter().enumerate() {
        let mode = match mode.as_str() {
            "s" => STR,
            "b" => STR_BOOL,
            "r" => RAW,
            "i" => INT,
            "B" => BOOL,
            "l" => b'l',
            other => return Err(PyValueError::new_err(format!("unknown mode {other:?} for {path}"))),
        };
        let parts: Vec<&str> = path.split('.').collect();
        let mut obj = &mut root;
        for (n, part) in parts.iter().enumerate() {
            let last = n + 1 == parts.len();
            let (name, is_list) = match part.strip_suffix("[]") {
                Some(p) => (p, true),
                None => (*part, false),
            };
            let key = name.as_bytes().to_vec();
            if last {
                if mode == b'l' {
                    if !is_list {
                        return Err(PyValueError::new_err(format!("list path {path} must end with []")));
                    }
                    if let Some((_, Node::List { slot: s, .. })) = obj.keys.iter_mut().find(|(k, _)| *k == key) {
                        *s = slot;
                    } else {
                        obj.keys.push((key, Node::List { slot, item: Obj::default() }));
                    }
                } else if key == SELF {
                    obj.me = Some((slot, mode));
                } else {
                    obj.keys.push((key, Node::Leaf { slot, mode }));
                }
                break;
            }
            let pos = obj.keys.iter().position(|(k, _)| *k == key);
            let pos = match pos {
                Some(p) => p,
                None => {
                    let node = if is_list {
                        Node::List { slot: usize::MAX, item: Obj::default() }
                    } else {
                        Node::Obj(Obj::default())
                    };
                    obj.keys.push((key, node));
                    obj.keys.len() - 1
                }
            };
            obj = match &mut obj.keys[pos].1 {
                Node::Obj(o) => o,
                Node::List { item, .. } => item,
                Node::Leaf { .. } => return Err(PyValueError::new_err(format!("{path} goes through a leaf"))),
            };
        }
    }
    fn scopes(obj: &mut Obj, scope: &mut Vec<usize>) -> PyResult<()> {
        if let Some((slot, _)) = obj.me {
            scope.push(slot);
        }
        for (_, node) in obj.keys.iter_mut() {
            match node {
                Node::Leaf { slot, .. } => scope.push(*slot),
                Node::Obj(o) => scopes(o, scope)?,
                Node::List { slot, item } => {
                    if *slot == usize::MAX {
                        return Err(PyValueError::new_err("a list path needs its own [] entry with mode l"));
                    }
                    scope.push(*slot);
                    let mut inner = Vec::new();
                    scopes(item, &mut inner)?;
                    item.scope = inner;
                }
            }
        }
        Ok(())
    }
    fn widest(obj: &Obj) -> usize {
        obj.keys.iter().map(|(_, n)| match n {
            Node::Obj(o) | Node::List { item: o, .. } => widest(o),
            Node::Leaf { .. } => 0,
        }).max().unwrap_or(0).max(obj.keys.len())
    }
    if widest(&root) > MAX_KEYS {
        return Err(PyValueError::new_err(format!("a spec object names more than {MAX_KEYS} keys")));
    }
    fn index(obj: &mut Obj) {
        obj.names = Names::new(obj.keys.iter().map(|(k, _)| k.as_slice()));
        for (_, node) in obj.keys.iter_mut() {
            if let Node::Obj(o) | Node::List { item: o, .. } = node {
                index(o);
            }
        }
    }
    index(&mut root);
    let mut top = Vec::new();
    scopes(&mut root, &mut top)?;
    root.scope = top;
    Ok(root)
}

/// A read-only buffer owning a Vec: Python (``pa.py_buffer``) wraps it without a copy.
#[pyclass(frozen)]
struct Buf {
    data: Owned,
}

/// What a ``Buf`` holds: bytes, or a column's offsets as they were built (their bytes are
/// Arrow's little-endian int32 layout on a little-endian host: no copy into a byte Vec).
enum Owned {
    Bytes(Vec<u8>),
    Offsets(Vec<i32>),
}

impl Owned {
    fn bytes(&self) -> &[u8] {
        match self {
            Owned::Bytes(v) => v,
            // SAFETY: an i32 slice read as its bytes (u8 has no alignment or validity needs)
            Owned::Offsets(v) => unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), v.len() * 4) },
        }
    }
}

#[pymethods]
impl Buf {
    /// # Safety
    /// ``view`` is the Py_buffer CPython passes; the data lives as long as ``self``, which
    /// the view holds a reference to, and is never written.
    unsafe fn __getbuffer__(slf: Bound<'_, Self>, view: *mut pyo3::ffi::Py_buffer, flags: std::os::raw::c_int) -> PyResult<()> {
        let data = slf.get().data.bytes();
        let rc = pyo3::ffi::PyBuffer_FillInfo(view, slf.as_ptr(), data.as_ptr() as *mut std::os::raw::c_void,
                                              data.len() as pyo3::ffi::Py_ssize_t, 1, flags);
        if rc == -1 {
            return Err(PyErr::fetch(slf.py()));
        }
        Ok(())
    }

    unsafe fn __releasebuffer__(&self, _view: *mut pyo3::ffi::Py_buffer) {}

    fn __len__(&self) -> usize {
        self.data.bytes().len()
    }
}

extern "C" {
    fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: std::ffi::c_int) -> std::ffi::c_int;
}

/// Bytes a vector must hold before [`big_vec`] asks for huge pages (two of them: below, the
/// aligned range would be one page at most).
const HUGE_MIN: usize = 4 << 20;

/// An empty vector with room for ``cap`` bytes; from ``HUGE_MIN`` bytes on, its memory is advised
/// ``MADV_HUGEPAGE`` before it is written (the system allocator maps such a block afresh: each of its
/// 4 KiB pages would fault and be zeroed on its first write, one 2 MiB page faults 512 times less).
/// Advice only: where transparent huge pages are off it does nothing.
pub(crate) fn big_vec(cap: usize) -> Vec<u8> {
    let mut v: Vec<u8> = Vec::with_capacity(cap);
    if cap >= HUGE_MIN && cfg!(target_os = "linux") {
        const HUGE: usize = 2 << 20;
        let start = v.as_mut_ptr() as usize;
        let (lo, hi) = (start.next_multiple_of(HUGE), (start + cap) & !(HUGE - 1));
        if hi > lo {
            // SAFETY: advice on whole pages inside the vector's own allocation; it changes no contents
            unsafe { madvise(lo as *mut std::ffi::c_void, hi - lo, 14) }; // MADV_HUGEPAGE
        }
    }
    v
}

fn buf(py: Python<'_>, data: Vec<u8>) -> PyResult<Py<Buf>> {
    Py::new(py, Buf { data: Owned::Bytes(data) })
}

/// Offsets as an Arrow int32 buffer (a copy into little-endian bytes only on a big-endian host).
fn offsets_buf(py: Python<'_>, offsets: Vec<i32>) -> PyResult<Py<Buf>> {
    if cfg!(target_endian = "little") {
        Py::new(py, Buf { data: Owned::Offsets(offsets) })
    } else {
        buf(py, offsets.iter().flat_map(|o| o.to_le_bytes()).collect())
    }
}

type Buffers = (Option<Py<Buf>>, Py<Buf>, Py<Buf>, usize, usize);

fn to_py(py: Python<'_>, col: Col) -> PyResult<Buffers> {
    let valid = if col.nulls > 0 { Some(buf(py, col.valid)?) } else { None };
    Ok((valid, offsets_buf(py, col.offsets)?, buf(py, col.data)?, col.len, col.nulls))
}

/// A record as passed in: ``bytes`` (borrowed) or another buffer (``msgspec.Raw``, memoryview: copied).
enum Item<'py> {
    Bytes(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Item<'_> {
    fn slice(&self) -> &[u8] {
        match self {
            Item::Bytes(b) => b.as_bytes(),
            Item::Owned(v) => v,
        }
    }
}

fn byte_items<'py>(items: &Bound<'py, PyList>) -> PyResult<Vec<Item<'py>>> {
    items
        .iter()
        .map(|item| match item.cast_into::<PyBytes>() {
            Ok(b) => Ok(Item::Bytes(b)),
            Err(e) => {
                let obj = e.into_inner();
                let buf: PyBuffer<u8> = PyBuffer::get(&obj)?;
                Ok(Item::Owned(buf.to_vec(obj.py())?))
            }
        })
        .collect()
}

/// The first 128 bits of a digest as 32 lowercase hex digits, appended to ``out``.
fn hex_prefix(digest: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &x in &digest[..16] {
        out.push(HEX[(x >> 4) as usize]);
        out.push(HEX[(x & 15) as usize]);
    }
}

/// metadata.uid of each record: SHA-256 of ``prefix`` (+ its context and a NUL) + the
/// record, first 128 bits as 32 lowercase hex digits, concatenated.
#[pyfunction]
#[pyo3(signature = (prefix, records, contexts=None))]
fn uids(py: Python<'_>, prefix: &[u8], records: &Bound<'_, PyList>, contexts: Option<&Bound<'_, PyList>>) -> PyResult<Py<PyBytes>> {
    let raws = byte_items(records)?;
    let ctx = match contexts {
        Some(c) if c.len() != raws.len() => return Err(PyValueError::new_err("one context per record")),
        Some(c) => Some(byte_items(c)?),
        None => None,
    };
    let slices: Vec<&[u8]> = raws.iter().map(Item::slice).collect();
    let ctx_slices: Option<Vec<&[u8]>> = ctx.as_ref().map(|c| c.iter().map(Item::slice).collect());
    let out = py.detach(|| {
        let mut out = Vec::with_capacity(slices.len() * 32);
        let base = {
            let mut h = Sha256::new();
            h.update(prefix);
            h
        };
        for (n, rec) in slices.iter().enumerate() {
            let mut h = base.clone();
            if let Some(c) = &ctx_slices {
                h.update(c[n]);
                h.update([0u8]);
            }
            h.update(rec);
            hex_prefix(&h.finalize(), &mut out);
        }
        out
    });
    Ok(PyBytes::new(py, &out).unbind())
}

/// The items of a compact JSON document's top-level array ``key`` (``{"Records": [...]}``),
/// each as its bytes; None when the document is not simply that (no such key, a duplicate
/// key, a value that is not an array, an ``also`` key whose value is neither an array nor
/// null): the caller's msgspec path decides those.
///
/// ``strict``: the document may be any bytes (not yet formatted): it is also checked to be
/// valid compact JSON (``valid``; whitespace allowed only after it), else None.
#[pyfunction]
#[pyo3(signature = (doc, key, also, strict=false))]
fn split_envelope(py: Python<'_>, doc: &[u8], key: &[u8], also: Vec<Vec<u8>>, strict: bool) -> PyResult<Option<Vec<Py<PyBytes>>>> {
    let spans = py.detach(|| envelope_spans(doc, key, &also, strict).ok());
    Ok(pieces(py, doc, spans))
}

/// The items of a top-level JSON array, each as its bytes, when ``doc`` is valid compact
/// JSON (``valid``; whitespace allowed only after it); else None for the caller's msgspec path.
#[pyfunction]
fn split_array(py: Python<'_>, doc: &[u8]) -> PyResult<Option<Vec<Py<PyBytes>>>> {
    let spans = py.detach(|| {
        let (spans, end) = array_spans(doc, 0, valid::value).ok()?;
        doc[end..].iter().all(json_space).then_some(spans)
    });
    Ok(pieces(py, doc, spans))
}

/// ``doc``'s byte ranges as bytes objects.
fn pieces(py: Python<'_>, doc: &[u8], spans: Option<Vec<(usize, usize)>>) -> Option<Vec<Py<PyBytes>>> {
    spans.map(|v| v.into_iter().map(|(s, e)| PyBytes::new(py, &doc[s..e]).unbind()).collect())
}

/// Pass over the array opening at ``i``, handing each item to ``item`` (which passes over it,
/// checking it or not, and returns the index just past it); returns the index just past the array.
fn array_items(b: &[u8], i: usize, mut item: impl FnMut(&[u8], usize) -> R<usize>) -> R<usize> {
    if at(b, i)? != b'[' {
        return Err(Irregular);
    }
    let mut j = i + 1;
    if at(b, j)? == b']' {
        return Ok(j + 1);
    }
    loop {
        let e = item(b, j)?;
        match at(b, e)? {
            b',' => j = e + 1,
            b']' => return Ok(e + 1),
            _ => return Err(Irregular),
        }
    }
}

/// The (start, end) of each item of the array opening at ``i`` (passed over by ``skip``), and
/// the index just past the array.
fn array_spans(b: &[u8], i: usize, skip: fn(&[u8], usize) -> R<usize>) -> R<(Vec<(usize, usize)>, usize)> {
    let mut spans = Vec::new();
    let end = array_items(b, i, |b, j| {
        let e = skip(b, j)?;
        spans.push((j, e));
        Ok(e)
    })?;
    Ok((spans, end))
}

/// NDJSON lines as canonical records, for ``split_json_records``. Blank lines are skipped
/// and whitespace around a line trimmed (as ``bytes.strip`` trims). Returns (one entry per
/// remaining line: its bytes when it is a compact JSON object (``valid``), else None for the
/// caller's msgspec path; the byte offset where each line starts; the count of None).
#[pyfunction]
fn split_lines(py: Python<'_>, data: &[u8]) -> PyResult<(Vec<Option<Py<PyBytes>>>, Vec<usize>, usize)> {
    let spans = py.detach(|| line_spans(data));
    let mut todo = 0;
    let mut records = Vec::with_capacity(spans.len());
    let mut offsets = Vec::with_capacity(spans.len());
    for (off, s, e, ok) in spans {
        records.push(if ok { Some(PyBytes::new(py, &data[s..e]).unbind()) } else { None });
        todo += usize::from(!ok);
        offsets.push(off);
    }
    Ok((records, offsets, todo))
}

/// The non-blank lines of ``data`` for ``split_lines`` (also ``HookScanner.lines``): (offset where
/// the line starts, start and end of its text trimmed as ``bytes.strip`` trims, whether that text
/// is one compact JSON object).
pub(crate) fn line_spans(data: &[u8]) -> Vec<(usize, usize, usize, bool)> {
    line_bounds(data)
        .into_iter()
        .map(|(off, s, e)| (off, s, e, compact_object(&data[s..e])))
        .collect()
}

/// Whether ``line`` is one compact JSON object (``valid::value``), what ``split_lines`` keeps.
pub(crate) fn compact_object(line: &[u8]) -> bool {
    line.first() == Some(&b'{') && valid::value(line, 0).is_ok_and(|k| k == line.len())
}

/// ``line_spans`` without the check: (offset where a non-blank line starts, start and end of its
/// trimmed text), trimmed the same way (``HookScanner.line_bounds``).
pub(crate) fn line_bounds(data: &[u8]) -> Vec<(usize, usize, usize)> {
    let mut spans = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let off = pos;
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |k| pos + k);
        pos = end + 1;
        let (mut s, mut e) = (off, end);
        let space = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | 0x0b | 0x0c);
        while s < e && space(data[s]) {
            s += 1;
        }
        while e > s && space(data[e - 1]) {
            e -= 1;
        }
        if s < e {
            spans.push((off, s, e));
        }
    }
    spans
}

/// JSON whitespace (RFC 8259), as msgspec allows around a document.
fn json_space(c: &u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn envelope_spans(b: &[u8], key: &[u8], also: &[Vec<u8>], strict: bool) -> R<Vec<(usize, usize)>> {
    let mut spans = Vec::new();
    let skip = if strict { valid::value } else { skip_value };
    envelope_items(b, key, also, strict, |b, j| {
        let e = skip(b, j)?;
        spans.push((j, e));
        Ok(e)
    })?;
    Ok(spans)
}

/// Pass over the envelope document ``b`` (``{"<key>": [items...], ...}``), handing each item of
/// ``key``'s array to ``item`` (which returns the index just past it); the other values are
/// skipped, or checked with ``strict`` (which also allows whitespace after the document).
fn envelope_items(b: &[u8], key: &[u8], also: &[Vec<u8>], strict: bool, mut item: impl FnMut(&[u8], usize) -> R<usize>) -> R<()> {
    let skip = if strict { valid::value } else { skip_value };
    if at(b, 0)? != b'{' {
        return Err(Irregular);
    }
    let mut found = false;
    let mut j = 1;
    if at(b, j)? == b'}' {
        return Err(Irregular);
    }
    loop {
        let (k, v) = plain_key(b, j)?;
        if strict && k.iter().any(|&c| c < 0x20) {
            return Err(Irregular);
        }
        let end = if k == key {
            if found {
                return Err(Irregular);
            }
            found = true;
            array_items(b, v, &mut item)? // each record passed over once
        } else if also.iter().any(|a| a.as_slice() == k) && !matches!(at(b, v)?, b'[' | b'n') {
            return Err(Irregular);
        } else {
            skip(b, v)?
        };
        match at(b, end)? {
            b',' => j = end + 1,
            b'}' if end + 1 == b.len() || strict && b[end + 1..].iter().all(json_space) => {
                return if found { Ok(()) } else { Err(Irregular) };
            }
            _ => return Err(Irregular),
        }
    }
}

/// The records as one Arrow string column's buffers (int32 offsets, data); None when they
/// exceed 2 GiB together, or (with ``validate``) one is not UTF-8: the caller's path decides.
#[pyfunction]
fn concat(py: Python<'_>, records: &Bound<'_, PyList>, validate: bool) -> PyResult<Option<(Py<Buf>, Py<Buf>)>> {
    let raws = byte_items(records)?;
    let slices: Vec<&[u8]> = raws.iter().map(Item::slice).collect();
    let total: usize = slices.iter().map(|s| s.len()).sum();
    if i32::try_from(total).is_err() {
        return Ok(None);
    }
    if validate && !py.detach(|| slices.iter().all(|s| std::str::from_utf8(s).is_ok())) {
        return Ok(None);
    }
    let (offsets, data) = py.detach(|| {
        let mut offsets = Vec::with_capacity((slices.len() + 1) * 4);
        let mut data = big_vec(total);
        offsets.extend_from_slice(&0i32.to_le_bytes());
        for s in &slices {
            data.extend_from_slice(s);
            offsets.extend_from_slice(&(data.len() as i32).to_le_bytes());
        }
        (offsets, data)
    });
    Ok(Some((buf(py, offsets)?, buf(py, data)?)))
}

/// The deepest nesting (objects and arrays) of JSON text ``data``: the running count of
/// opening minus closing brackets outside strings (escapes skipped), at its highest. With
/// ``lines`` every line is a text of its own (the count and any open string end with it) and
/// the deepest line counts. The same figure as ``secpipe.server.wire.json_depth`` (per line for
/// ``lines``), in one pass without copies.
#[pyfunction]
fn json_depth(py: Python<'_>, data: &[u8], lines: bool) -> i64 {
    // byte classes: 0 nothing, 1 quote, 2 backslash, 3 opening, 4 closing, 5 newline
    const CLASS: [u8; 256] = {
        let mut t = [0u8; 256];
        t[b'"' as usize] = 1;
        t[b'\\' as usize] = 2;
        t[b'{' as usize] = 3;
        t[b'[' as usize] = 3;
        t[b'}' as usize] = 4;
        t[b']' as usize] = 4;
        t[b'\n' as usize] = 5;
        t
    };
    py.detach(|| {
        let (mut depth, mut max, mut in_str) = (0i64, 0i64, false);
        let mut i = 0usize;
        while i < data.len() {
            if in_str {
                // inside a string only a quote, an escape or a line end can matter: SIMD skip to it
                match memchr::memchr3(b'"', b'\\', b'\n', &data[i..]) {
                    Some(k) => i += k,
                    None => break,
                }
            }
            let c = CLASS[data[i] as usize];
            i += 1;
            match c {
                0 => {}
                1 => in_str = !in_str,
                // an escape: the next byte is not structure (as the Python scan drops it), but
                // a line still ends at its newline
                2 if !(lines && data.get(i) == Some(&b'\n')) => i += 1,
                3 if !in_str => {
                    depth += 1;
                    max = max.max(depth);
                }
                4 if !in_str => depth -= 1,
                5 if lines => {
                    depth = 0;
                    in_str = false;
                }
                _ => {}
            }
        }
        max
    })
}

/// The longest JSON string of ``data`` in bytes as written (escapes count as their bytes): an
/// escape is a backslash and the byte after it, whatever it is; the other quotes pair up in
/// order, and an unterminated last string runs to the end. The same figure as
/// ``secpipe.security.limits.check_json_limits`` computes, in one pass that jumps from quote or
/// backslash to the next (memchr), without copies.
#[pyfunction]
fn json_longest_string(py: Python<'_>, data: &[u8]) -> usize {
    py.detach(|| {
        let n = data.len();
        let (mut i, mut open, mut longest) = (0usize, None::<usize>, 0usize);
        while let Some(k) = memchr::memchr2(b'"', b'\\', &data[i..]) {
            let p = i + k;
            if data[p] == b'\\' {
                i = p + 2;
                if i >= n {
                    break;
                }
                continue;
            }
            match open {
                None => open = Some(p),
                Some(start) => {
                    longest = longest.max(p - start - 1);
                    open = None;
                }
            }
            i = p + 1;
        }
        if let Some(start) = open {
            longest = longest.max(n - start - 1);
        }
        longest
    })
}

/// Whether ``data`` (bytes, or any contiguous buffer such as an Arrow column's data) holds any
/// of ``needles`` (one SIMD pass for them all: `needles.rs`).
#[pyfunction]
fn contains_any(py: Python<'_>, data: &Bound<'_, PyAny>, needles: Vec<Vec<u8>>) -> PyResult<bool> {
    let find = |hay: &[u8]| needles::contains_any(hay, &needles);
    if let Ok(b) = data.cast::<PyBytes>() {
        let hay = b.as_bytes();
        return Ok(py.detach(|| find(hay)));
    }
    let buf: PyBuffer<u8> = PyBuffer::get(data)?;
    if !buf.is_c_contiguous() {
        return Err(PyValueError::new_err("contains_any needs a contiguous buffer"));
    }
    // SAFETY: the buffer stays exported (and its memory alive) while `buf` is held; it is
    // only read, and contiguous bytes by the check above
    let hay = unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, buf.len_bytes()) };
    Ok(py.detach(|| find(hay)))
}

#[pymodule]
fn _columnar(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(extract::extract, m)?)?;
    m.add_class::<github::HookScanner>()?;
    m.add_function(wrap_pyfunction!(github_audit::github_audit_walk, m)?)?;
    m.add_function(wrap_pyfunction!(github_audit::github_audit_doc, m)?)?;
    m.add_function(wrap_pyfunction!(uids, m)?)?;
    m.add_function(wrap_pyfunction!(split_envelope, m)?)?;
    m.add_function(wrap_pyfunction!(split_lines, m)?)?;
    m.add_function(wrap_pyfunction!(split_array, m)?)?;
    m.add_function(wrap_pyfunction!(concat, m)?)?;
    m.add_function(wrap_pyfunction!(json_depth, m)?)?;
    m.add_function(wrap_pyfunction!(json_longest_string, m)?)?;
    m.add_function(wrap_pyfunction!(contains_any, m)?)?;
    m.add_function(wrap_pyfunction!(bulk::bulk_split, m)?)?;
    m.add_function(wrap_pyfunction!(compact::compact_each, m)?)?;
    m.add_function(wrap_pyfunction!(compact::objects_array, m)?)?;
    m.add_function(wrap_pyfunction!(compact_doc::compact_doc, m)?)?;
    m.add_function(wrap_pyfunction!(iso_cols::iso_ms_column, m)?)?;
    m.add_function(wrap_pyfunction!(iso_cols::int_text_column, m)?)?;
    m.add_function(wrap_pyfunction!(bulk::hec_split, m)?)?;
    m.add_function(wrap_pyfunction!(shapes::top_keys, m)?)?;
    m.add_function(wrap_pyfunction!(report::walk_issues, m)?)?;
    m.add_function(wrap_pyfunction!(report::walk_report, m)?)?;
    m.add_function(wrap_pyfunction!(report::issue_uids, m)?)?;
    m.add_function(wrap_pyfunction!(evtx_xml::evtx_xml_scan, m)?)?;
    m.add_function(wrap_pyfunction!(json_rows::json_rows, m)?)?;
    m.add_function(wrap_pyfunction!(ocsf_lines::ocsf_lines, m)?)?;
    m.add_class::<ocsf_lines::OcsfTree>()?;
    m.add_class::<Buf>()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Names;

    /// A vector of ``HUGE_MIN`` bytes or more is advised huge pages: its mapping is THP-eligible
    /// where transparent huge pages are not off (``/proc/self/smaps``), one below is left alone.
    #[test]
    #[cfg(target_os = "linux")]
    fn big_vec_asks_huge_pages() {
        let mode = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
        if mode.is_empty() || mode.contains("[never]") {
            return; // no transparent huge pages here: the advice is a no-op (nothing to see)
        }
        let eligible = |p: usize| -> Option<bool> {
            let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
            let mut inside = false;
            for line in smaps.lines() {
                if let Some((range, _)) = line.split_once(' ') {
                    if let Some((lo, hi)) = range.split_once('-') {
                        if let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16)) {
                            inside = lo <= p && p < hi;
                            continue;
                        }
                    }
                }
                if inside {
                    if let Some(v) = line.strip_prefix("THPeligible:") {
                        return Some(v.trim() == "1");
                    }
                }
            }
            None
        };
        let mut big = super::big_vec(super::HUGE_MIN * 2);
        big.extend_from_slice(&[7u8; 1000]);
        assert_eq!((big.len(), big[999]), (1000, 7));
        let mid = big.as_ptr() as usize + super::HUGE_MIN; // inside the aligned range
        if mode.contains("[madvise]") {
            assert_eq!(eligible(mid), Some(true), "the big vector's memory is not advised huge pages");
        }
        let small = super::big_vec(4096);
        assert!(small.capacity() >= 4096 && small.is_empty());
    }

    /// ``Names::find`` answers what a scan for the first equal name answers, for names and
    /// probes of every length class (empty, up to 8, 9-16, longer) that share heads and tails.
    #[test]
    fn names_find_is_a_scan() {
        let names: Vec<&[u8]> = vec![b"", b"a", b"eventID", b"eventName", b"eventNameX", b"eventSource", b"eventName",
                                     b"requestParameters", b"requestParametersZ", b"responseElements", b"sourceIPAddress",
                                     b"12345678", b"123456789", b"xx345678", b"\xc3\xa9v\xc3\xa9nement"];
        let t = Names::new(names.iter().copied());
        let mut probes: Vec<Vec<u8>> = names.iter().map(|n| n.to_vec()).collect();
        for n in &names {
            for cut in 0..n.len() {
                probes.push(n[..cut].to_vec());
                let mut m = n.to_vec();
                m[cut] ^= 1;
                probes.push(m);
            }
            probes.push([*n, b"!"].concat());
        }
        for p in &probes {
            assert_eq!(t.find(p), names.iter().position(|n| *n == p.as_slice()), "{:?}", String::from_utf8_lossy(p));
        }
        assert_eq!(Names::new(std::iter::empty()).find(b"x"), None);
    }
}
