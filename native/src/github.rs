//! One pass over webhook-like JSON records: top-level keys, typed leaves of chosen objects,
//! ``unmapped`` and the SHA-256 uid digest, each record while it is in the CPU cache.
//!
//! Design: the records are canonical (compact, valid JSON, UTF-8: out of the split, or lines of
//! an NDJSON document checked where they lie by ``HookScanner.lines``, the split's check, and
//! scanned there by ``scan_at``: no copy of each; or lines not checked yet, read by
//! ``scan_checked``, whose walk is also that check: the same functions instantiated with ``C``,
//! every value passed over validated by ``valid::value`` instead of skipped, every string read
//! validated by ``valid::string_escaped``, the record then checked for UTF-8; ``scan_line`` finds
//! such a line as it walks it: the record ends where its object does, and the line must end
//! there, so the document is not read once for its lines' bounds and again to scan). Each
//! record's top-level object is walked once: every key is looked up in a per-call table
//! (its Python string, whether ``unmapped`` leaves it out, its spec node), the values the
//! spec names are read (strings unescaped), the others skipped; the entries not left out
//! are copied into ``unmapped`` as they lie (what msgspec encodes for a ``dict[str, Raw]``
//! of them, keys having no escapes), and the record is hashed. Why by hand: the point is
//! doing all of it in the one pass msgspec cannot (a dict of raw values, a typed view and
//! a hash are three passes over the bytes there).
//!
//! Guarantees: a record the pass does not decide exactly as msgspec's typed view would
//! (a duplicate or escaped top-level key, a duplicate key among a spec object's fields, a
//! value of another JSON type than its mode, an integer id that is not a plain int64, a
//! surrogate escape anywhere, nesting deeper than ``MAX_DEPTH``) gives None, and the caller
//! decodes that record on its msgspec path. No input reads out of bounds or panics. The checked
//! walk differs only in the values it passes over: ``valid::value`` takes them nested up to its
//! own depth and with surrogate pairs (each copied into ``unmapped`` as it lies, as msgspec's raw
//! values are; the tests compare the two paths on such records).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::buffer::PyBuffer;
use pyo3::types::{PyBool, PyBytes, PyList, PyString, PyTuple};
use sha2::{Digest, Sha256};

use crate::prefix_xor;

use crate::{at, hex4, unescape, Irregular, R};

use crate::sha_x2;

/// ``HookScanner.gather``'s buffers: offsets, data, validity (None without nulls), null count.
type Gathered = (Py<crate::Buf>, Py<crate::Buf>, Option<Py<crate::Buf>>, usize);

/// Deepest nesting walked (msgspec refuses far deeper documents; the caller's path decides those).
const MAX_DEPTH: usize = 64;

const OBJ: u8 = b'o'; // object | null: slot True/None, its fields are the node's children
const PRIMARY: u8 = b'P'; // object (children read) | str | bool | null (slot True when an object)
const STR: u8 = b's'; // str | null
const ID: u8 = b'a'; // str | int64 | null, as str (an int's decimal text)
const BOOL: u8 = b'B'; // bool | null
const ANY: u8 = b'A'; // str | int64 | bool | null, as Python gives them (msgspec's ``Any`` of a scalar)
const INT: u8 = b'i'; // int64 | null
const COUNT: u8 = b'n'; // array | null: its number of items
const OBJ_OR_STR: u8 = b'U'; // object (slot True, children read) | str | null

/// FNV-1a: keys are short, and the table is per call (no untrusted long-lived state).
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

struct Node {
    key: Vec<u8>,
    mode: u8,
    slot: usize,
    children: Vec<Node>,
    /// ``key_bit`` of each child's key: most keys of a walked object (a repository has ~90,
    /// the view reads 9) are passed over without a comparison.
    filter: u64,
}

/// One of 64 bits standing for a key (its length and end bytes).
#[inline(always)]
fn key_bit(k: &[u8]) -> u64 {
    let (first, last) = (k.first().copied().unwrap_or(0), k.last().copied().unwrap_or(0));
    let h = (k.len() as u32).wrapping_mul(31) ^ u32::from(first).wrapping_mul(7) ^ u32::from(last).wrapping_mul(13);
    1u64 << (h & 63)
}

fn set_filters(nodes: &mut [Node]) {
    for n in nodes {
        set_filters(&mut n.children);
        n.filter = n.children.iter().fold(0, |f, c| f | key_bit(&c.key));
    }
}

/// The spec tree from (dotted path, mode) pairs; a path's parent must come before it.
fn build(spec: &[(String, String)]) -> PyResult<Vec<Node>> {
    let mut root: Vec<Node> = Vec::new();
    for (slot, (path, mode)) in spec.iter().enumerate() {
        let mode = match mode.as_bytes() {
            [m @ (OBJ | PRIMARY | STR | ID | BOOL | ANY | INT | COUNT | OBJ_OR_STR)] => *m,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "bad mode {mode:?} for {path}"
                )))
            }
        };
        let parts: Vec<&str> = path.split('.').collect();
        let mut level = &mut root;
        for part in &parts[..parts.len() - 1] {
            let Some(n) = level
                .iter()
                .position(|x| x.key == part.as_bytes() && matches!(x.mode, OBJ | PRIMARY | OBJ_OR_STR))
            else {
                return Err(PyValueError::new_err(format!(
                    "{path}: parent object not declared first"
                )));
            };
            level = &mut level[n].children;
        }
        let key = parts[parts.len() - 1].as_bytes().to_vec();
        if level.iter().any(|x| x.key == key) || level.len() >= 64 {
            return Err(PyValueError::new_err(format!(
                "{path}: declared twice, or more than 64 fields"
            )));
        }
        level.push(Node {
            key,
            mode,
            slot,
            children: Vec::new(),
            filter: 0,
        });
    }
    set_filters(&mut root);
    Ok(root)
}

/// Index just past the string at ``i`` and whether it holds an escape; a surrogate escape is
/// irregular (msgspec refuses lone ones; pairs are left to the caller's path too: rare).
fn string(b: &[u8], i: usize) -> R<(usize, bool)> {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        if let Some(m) = quote_or_backslash16(b, j) {
            if m == 0 {
                j += 16;
                continue;
            }
            j += m.trailing_zeros() as usize;
        }
        match at(b, j)? {
            b'"' => return Ok((j + 1, escaped)),
            b'\\' => {
                escaped = true;
                if at(b, j + 1)? == b'u' && (0xD800..0xE000).contains(&hex4(b, j + 2)?) {
                    return Err(Irregular);
                }
                j += 2;
            }
            _ => j += 1,
        }
    }
}

/// Bit k set where ``b[j + k]`` is a quote or a backslash, for the 16 bytes at ``j`` (SSE2, which
/// every x86-64 CPU has: URLs make GitHub's strings ~25 bytes long); None past the end.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn quote_or_backslash16(b: &[u8], j: usize) -> Option<u32> {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let chunk = b.get(j..j + 16)?;
    // SAFETY: ``chunk`` holds 16 readable bytes (unaligned load); SSE2 is part of x86-64.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        let q = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let bs = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        Some(_mm_movemask_epi8(_mm_or_si128(q, bs)) as u32)
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn quote_or_backslash16(_b: &[u8], _j: usize) -> Option<u32> {
    None
}

/// Index just past the value at ``i`` (nested ``depth`` deep).
fn skip(b: &[u8], i: usize, depth: usize) -> R<usize> {
    match at(b, i)? {
        b'"' => Ok(string(b, i)?.0),
        b'{' | b'[' => container(b, i, depth),
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') {
                j += 1;
            }
            if j == i {
                return Err(Irregular);
            }
            Ok(j)
        }
    }
}

/// Index just past the object or array at ``i``: 64 bytes a step where the block holds no
/// backslash (quotes, brackets as bit masks; the bits inside strings are the prefix XOR of
/// the quotes, as simdjson finds them), byte by byte through a block that does (an escape,
/// whose surrogates ``string`` refuses).
fn container(b: &[u8], i: usize, depth: usize) -> R<usize> {
    let mut level = 0usize;
    let mut j = i;
    let mut in_string = 0u64; // all ones while a block starts inside a string
    loop {
        let stop = match masks64(b, j) {
            Some((quotes, 0, opens, closes)) => {
                let inside = prefix_xor(quotes) ^ in_string;
                let (opens, closes) = (opens & !inside, closes & !inside);
                let mut brackets = opens | closes;
                while brackets != 0 {
                    let bit = brackets & brackets.wrapping_neg();
                    if opens & bit != 0 {
                        level += 1;
                        if depth + level > MAX_DEPTH {
                            return Err(Irregular);
                        }
                    } else {
                        level = level.checked_sub(1).ok_or(Irregular)?;
                        if level == 0 {
                            return Ok(j + bit.trailing_zeros() as usize + 1);
                        }
                    }
                    brackets ^= bit;
                }
                in_string = ((inside as i64) >> 63) as u64;
                j += 64;
                continue;
            }
            Some(_) => j + 64,
            None => b.len(),
        };
        if in_string != 0 {
            j = string(b, j - 1)?.0; // the string open at the block's start (``j - 1`` stands for its quote)
            in_string = 0;
        }
        while j < stop {
            match b[j] {
                b'"' => {
                    j = string(b, j)?.0;
                    continue;
                }
                b'{' | b'[' => {
                    level += 1;
                    if depth + level > MAX_DEPTH {
                        return Err(Irregular);
                    }
                }
                b'}' | b']' => {
                    level = level.checked_sub(1).ok_or(Irregular)?;
                    if level == 0 {
                        return Ok(j + 1);
                    }
                }
                _ => {}
            }
            j += 1;
        }
        if j >= b.len() {
            return Err(Irregular);
        }
    }
}

/// (quotes, backslashes, ``{``/``[``, ``}``/``]``) of the 64 bytes at ``j`` as bit masks (SSE2); None past the end.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn masks64(b: &[u8], j: usize) -> Option<(u64, u64, u64, u64)> {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    let block = b.get(j..j + 64)?;
    let (mut q, mut bs, mut op, mut cl) = (0u64, 0u64, 0u64, 0u64);
    // SAFETY: ``block`` holds 64 readable bytes, loaded 16 at a time unaligned; SSE2 is part of x86-64.
    unsafe {
        let (quote, slash, open, close, case) =
            (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8), _mm_set1_epi8(b'{' as i8), _mm_set1_epi8(b'}' as i8),
             _mm_set1_epi8(0x20));
        for k in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast());
            let folded = _mm_or_si128(v, case); // '[' | 0x20 == '{', ']' | 0x20 == '}'
            let shift = 16 * k as u32;
            q |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)) as u16) << shift;
            bs |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, slash)) as u16) << shift;
            op |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(folded, open)) as u16) << shift;
            cl |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(folded, close)) as u16) << shift;
        }
    }
    Some((q, bs, op, cl))
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn masks64(_b: &[u8], _j: usize) -> Option<(u64, u64, u64, u64)> {
    None
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> bool {
    b.get(i..i + word.len()) == Some(word)
}

/// ``string`` of a walk that is also the strict check (``C``, ``HookScanner.scan_checked``): the
/// string validated as ``valid::string_escaped`` validates it (no control character, only JSON's
/// escapes), and, as ``string``, any surrogate escape is irregular.
#[inline(always)]
fn string_c<const C: bool>(b: &[u8], i: usize) -> R<(usize, bool)> {
    if !C {
        return string(b, i);
    }
    let (end, escaped) = crate::valid::string_escaped(b, i)?;
    if escaped && has_surrogate_escape(&b[i..end]) {
        return Err(Irregular);
    }
    Ok((end, escaped))
}

/// Whether the valid JSON string ``s`` (quotes included) holds a ``\u`` escape of a surrogate.
fn has_surrogate_escape(s: &[u8]) -> bool {
    let mut j = 1;
    while j + 1 < s.len() {
        if s[j] != b'\\' {
            j += 1;
            continue;
        }
        if s[j + 1] == b'u' {
            if hex4(s, j + 2).is_ok_and(|u| (0xD800..0xE000).contains(&u)) {
                return true;
            }
            j += 6;
        } else {
            j += 2;
        }
    }
    false
}

/// ``skip`` of a walk that is also the strict check (``C``): the value validated by
/// ``valid::value`` (compact JSON; its own depth limit), else ``skip``.
#[inline(always)]
fn skip_c<const C: bool>(b: &[u8], i: usize, depth: usize) -> R<usize> {
    if C {
        crate::valid::value(b, i)
    } else {
        skip(b, i, depth)
    }
}

/// A walk's state: the spec values read so far (``slots``, reused from record to record: the
/// indices set are in ``set``, so only those are cleared, not every one of the ~270) and the
/// buffer of an escaped string's text.
struct Scan<'py, 'a> {
    py: Python<'py>,
    slots: &'a mut Vec<Option<Py<PyAny>>>,
    set: &'a mut Vec<u32>,
    text: Vec<u8>,
}

/// Every slot ``set`` names back to None (their references released), ``set`` emptied.
fn clear_slots(py: Python<'_>, slots: &mut [Option<Py<PyAny>>], set: &mut Vec<u32>) {
    for &k in set.iter() {
        if let Some(v) = slots.get_mut(k as usize).and_then(Option::take) {
            drop(v.into_bound(py)); // (a Bound's drop is the plain decref: the GIL is held)
        }
    }
    set.clear();
}

/// A Python str of the UTF-8 text ``s``; text that is not UTF-8 is irregular (CPython's strict
/// decoder, the one ``PyString::new`` calls, is the check: no second pass over ``s`` first).
fn py_str<'py>(py: Python<'py>, s: &[u8]) -> R<Bound<'py, PyAny>> {
    let n = pyo3::ffi::Py_ssize_t::try_from(s.len()).map_err(|_| Irregular)?;
    // SAFETY: ``s`` is ``n`` readable bytes; a NULL answer is a set exception, taken here.
    unsafe {
        let obj = pyo3::ffi::PyUnicode_FromStringAndSize(s.as_ptr().cast(), n);
        if obj.is_null() {
            drop(PyErr::take(py));
            return Err(Irregular);
        }
        Ok(Bound::from_owned_ptr(py, obj))
    }
}

impl<'py> Scan<'py, '_> {
    fn str_at<const C: bool>(&mut self, b: &[u8], i: usize) -> R<(usize, Bound<'py, PyAny>)> {
        let (end, escaped) = string_c::<C>(b, i)?;
        let raw = &b[i + 1..end - 1];
        let s = if escaped {
            self.text.clear();
            unescape(raw, &mut self.text)?;
            py_str(self.py, &self.text)?
        } else {
            py_str(self.py, raw)?
        };
        Ok((end, s))
    }

    /// Spec value ``slot`` is ``v`` (a slot is set once a record: a duplicate field is irregular).
    #[inline(always)]
    fn put(&mut self, slot: usize, v: Bound<'py, PyAny>) {
        match self.slots[slot].replace(v.unbind()) {
            None => self.set.push(slot as u32),
            Some(old) => drop(old.into_bound(self.py)),
        }
    }

    /// Read the value at ``i`` into ``node``'s slot (and its children); the index past it.
    fn value<const C: bool>(&mut self, b: &[u8], i: usize, node: &Node, depth: usize) -> R<usize> {
        let c = at(b, i)?;
        if c == b'n' && literal(b, i, b"null") {
            return Ok(i + 4);
        }
        match node.mode {
            STR if c == b'"' => {
                let (end, s) = self.str_at::<C>(b, i)?;
                self.put(node.slot, s);
                Ok(end)
            }
            ID if c == b'"' => {
                let (end, s) = self.str_at::<C>(b, i)?;
                self.put(node.slot, s);
                Ok(end)
            }
            ID if c == b'-' || c.is_ascii_digit() => {
                let end = skip_c::<C>(b, i, depth)?;
                let tok = &b[i..end];
                let digits = tok.strip_prefix(b"-").unwrap_or(tok);
                // an int64 msgspec reads as is (no fraction, exponent or "-0"; 18 digits always fit)
                if digits.is_empty()
                    || digits.len() > 18
                    || !digits.iter().all(u8::is_ascii_digit)
                    || tok == b"-0"
                {
                    return Err(Irregular);
                }
                let s = std::str::from_utf8(tok).map_err(|_| Irregular)?;
                self.put(node.slot, PyString::new(self.py, s).into_any());
                Ok(end)
            }
            ANY | STR | OBJ_OR_STR if c == b'"' => {
                let (end, s) = self.str_at::<C>(b, i)?;
                self.put(node.slot, s);
                Ok(end)
            }
            ANY | INT if c == b'-' || c.is_ascii_digit() => {
                let end = skip_c::<C>(b, i, depth)?;
                let tok = &b[i..end];
                let digits = tok.strip_prefix(b"-").unwrap_or(tok);
                // an int64 (no fraction or exponent: msgspec gives those as float, or refuses them for int)
                if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
                    return Err(Irregular);
                }
                let n: i64 = std::str::from_utf8(tok).ok().and_then(|t| t.parse().ok()).ok_or(Irregular)?;
                self.put(node.slot, n.into_pyobject(self.py).map_err(|_| Irregular)?.into_any());
                Ok(end)
            }
            COUNT if c == b'[' => {
                let mut j = i + 1;
                let mut items = 0usize;
                if at(b, j)? != b']' {
                    loop {
                        j = skip_c::<C>(b, j, depth + 1)?;
                        items += 1;
                        match at(b, j)? {
                            b',' => j += 1,
                            b']' => break,
                            _ => return Err(Irregular),
                        }
                    }
                }
                self.put(node.slot, items.into_pyobject(self.py).map_err(|_| Irregular)?.into_any());
                Ok(j + 1)
            }
            BOOL | ANY if literal(b, i, b"true") || literal(b, i, b"false") => {
                let t = c == b't';
                self.put(node.slot, PyBool::new(self.py, t).to_owned().into_any());
                Ok(i + if t { 4 } else { 5 })
            }
            OBJ | PRIMARY | OBJ_OR_STR if c == b'{' => {
                self.put(node.slot, PyBool::new(self.py, true).to_owned().into_any());
                self.object::<C>(b, i, &node.children, node.filter, depth + 1)
            }
            PRIMARY if c == b'"' => Ok(string_c::<C>(b, i)?.0),
            PRIMARY if literal(b, i, b"true") => Ok(i + 4),
            PRIMARY if literal(b, i, b"false") => Ok(i + 5),
            _ => Err(Irregular),
        }
    }

    /// Walk the object at ``i``, reading the fields ``fields`` names; the index past it.
    fn object<const C: bool>(&mut self, b: &[u8], i: usize, fields: &[Node], filter: u64, depth: usize) -> R<usize> {
        if depth > MAX_DEPTH {
            return Err(Irregular);
        }
        let mut j = i + 1;
        if at(b, j)? == b'}' {
            return Ok(j + 1);
        }
        let mut seen = 0u64;
        loop {
            if at(b, j)? != b'"' {
                return Err(Irregular);
            }
            let (kend, escaped) = string_c::<C>(b, j)?;
            let key = &b[j + 1..kend - 1];
            if at(b, kend)? != b':' {
                return Err(Irregular);
            }
            let v = kend + 1;
            let found = if filter & key_bit(key) == 0 {
                None
            } else {
                fields.iter().position(|f| f.key == key)
            };
            j = match found {
                Some(n) => {
                    if seen & (1 << n) != 0 {
                        return Err(Irregular); // msgspec keeps the last: left to its path
                    }
                    seen |= 1 << n;
                    self.value::<C>(b, v, &fields[n], depth)?
                }
                // an escaped key might name a field once unescaped: left to msgspec
                None if escaped && !fields.is_empty() => return Err(Irregular),
                None => skip_c::<C>(b, v, depth)?,
            };
            match at(b, j)? {
                b',' => j += 1,
                b'}' => return Ok(j + 1),
                _ => return Err(Irregular),
            }
        }
    }
}

struct Key {
    name: Py<PyString>,
    /// A number of its own (never reused by this scanner: the table may be emptied), for ``template``'s layouts.
    id: u32,
    dropped: bool,
    node: Option<usize>,
    /// The last scan that met this key: a duplicate is seen in O(1).
    stamp: u64,
}

/// Most distinct top-level keys a scanner remembers (a flood of made-up keys only empties the table).
const MAX_KEYS: usize = 65_536;

/// A prepared scan of canonical JSON webhook records (see the module docs), one record a call
/// so the caller's other reads of the same record find it in the CPU cache.
///
/// ``prefix``: what the uid hash takes before each record; ``drop``: top-level keys left out
/// of ``unmapped``; ``spec``: (dotted path, mode) of the values read (``o`` object|null,
/// ``P`` a main object: object|str|bool|null, ``U`` object|str|null, ``s`` str|null, ``a`` id:
/// str|int64|null as str, ``A`` str|int64|bool|null as is, ``i`` int64|null, ``B`` bool|null,
/// ``n`` array|null as its length; an object's fields follow it as ``obj.field``).
#[pyclass(module = "secpipe.formats._columnar")]
pub(crate) struct HookScanner {
    base: Sha256,
    drop: Vec<Vec<u8>>,
    root: Vec<Node>,
    slots: usize,
    keys: FnvMap<Vec<u8>, Key>,
    stamp: u64,
    /// The last record scanned (when regular) and its top-level entries (key's quote, past the
    /// key, past the value, left out of ``unmapped``), for ``rest`` and ``span``.
    record: Option<(Py<PyBytes>, usize, usize)>,
    entries: Vec<(usize, usize, usize, bool)>,
    /// The spec values of the last record ``scan_head`` read (``values``, ``slots``, ``when``), when
    /// ``has_last``: one per spec entry, kept from scan to scan (``set``: the indices the last
    /// walk set, the only ones the next one clears).
    last: Vec<Option<Py<PyAny>>>,
    set: Vec<u32>,
    has_last: bool,
    /// What the uid hash takes before each record, and whether two records are hashed at once
    /// (``sha_x2``: this CPU has SHA-NI) for a deferred scan.
    prefix: Vec<u8>,
    x2: bool,
    /// A deferred scan's record waiting for the next one, to be hashed with it; the digests of the
    /// deferred records hashed so far, in scan order (``digests``).
    pending: Option<(Py<PyBytes>, usize, usize)>,
    hashed: Vec<[u8; 32]>,
    /// ``unmapped`` columns being written (``sink_open``): one a batch, each record's value
    /// appended where the caller adds its row (``rest_into``, ``sink_add``), taken whole (``sink_take``).
    sinks: Vec<Sink>,
    sink_cap: usize,
    /// ``template``: the spec values a template id is made of (none: no id), the ids given so far
    /// (by the record's key layout and those values' contents, encoded in ``tkey``), the key numbers
    /// of the last record's top-level keys in order, and the next key number.
    tmpl: Vec<usize>,
    tids: HashMap<Vec<u8>, u64, BuildHasherDefault<Fold>>,
    layout: Vec<u32>,
    tkey: Vec<u8>,
    key_next: u32,
    /// ``keep``: what the caller made of a record with a template id, by that id (and its main object's
    /// spec value, whose time ``scan_kept`` reads); the last record's template id (none: no id, or irregular).
    kept: HashMap<u64, (Py<PyAny>, Option<usize>)>,
    last_tid: Option<u64>,
    /// Set by ``scan_kept`` while it scans: ``head`` then makes no tuples for a record whose id was kept.
    lean: bool,
}

/// Template ids are unique in the process (the caller's cache of rows by id is shared by the scanners of
/// every thread), never reused: a table emptied gives new ids to what it held.
static NEXT_TID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
/// Most template ids a scanner remembers (then its table is emptied).
const MAX_TIDS: usize = 16_384;

/// A hash of byte strings 8 bytes a step (folded 64x64->128 multiply, as wyhash and aHash's fallback
/// do), seeded per process: the template table's keys are a few hundred bytes of payload text, which
/// FNV's byte steps made cost ~0.4 us a lookup.
struct Fold(u64);

fn fold_seed() -> u64 {
    use std::hash::BuildHasher;
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64) | 1)
}

impl Default for Fold {
    fn default() -> Self {
        Fold(fold_seed())
    }
}

#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let m = u128::from(a) * u128::from(b);
    (m as u64) ^ ((m >> 64) as u64)
}

impl Hasher for Fold {
    fn finish(&self) -> u64 {
        fold_mul(self.0, 0x9e37_79b9_7f4a_7c15)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
            h = fold_mul(h ^ w, 0xa076_1d64_78bd_642f);
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut w = [0u8; 8];
            w[..tail.len()].copy_from_slice(tail);
            h = fold_mul(h ^ u64::from_le_bytes(w) ^ ((tail.len() as u64) << 56), 0xe703_7ed1_a0b4_28db);
        }
        self.0 = h;
    }
}

/// A string column written value by value: the ``unmapped`` of one batch's records, in row
/// order, each written once where it is made (no bytes object, no second copy into Arrow).
#[derive(Default)]
struct Sink {
    data: Vec<u8>,
    offsets: Vec<i32>,
    valid: Vec<u8>,
    nulls: usize,
}

impl Sink {
    /// Close the value just written (``null``: none was) at the data's end.
    fn close(&mut self, null: bool) -> PyResult<()> {
        let n = self.offsets.len() - 1;
        if n % 8 == 0 {
            self.valid.push(0);
        }
        if null {
            self.nulls += 1;
        } else {
            self.valid[n / 8] |= 1 << (n % 8);
        }
        let end = i32::try_from(self.data.len()).map_err(|_| {
            PyValueError::new_err("unmapped of one batch over 2 GiB: decode the document in smaller parts")
        })?;
        self.offsets.push(end);
        Ok(())
    }
}

#[pymethods]
impl HookScanner {
    #[new]
    fn new(prefix: &[u8], drop: Vec<Vec<u8>>, spec: Vec<(String, String)>) -> PyResult<Self> {
        let mut base = Sha256::new();
        base.update(prefix);
        Ok(HookScanner {
            base,
            drop,
            root: build(&spec)?,
            slots: spec.len(),
            keys: FnvMap::default(),
            stamp: 0,
            record: None,
            entries: Vec::new(),
            last: std::iter::repeat_with(|| None).take(spec.len()).collect(),
            set: Vec::new(),
            has_last: false,
            prefix: prefix.to_vec(),
            x2: prefix.len() < 64 && sha_x2::available(),
            pending: None,
            hashed: Vec::new(),
            sinks: Vec::new(),
            sink_cap: 0,
            tmpl: Vec::new(),
            tids: HashMap::default(),
            layout: Vec::new(),
            tkey: Vec::new(),
            key_next: 0,
            kept: HashMap::new(),
            last_tid: None,
            lean: false,
        })
    }

    /// From now on the values tuple of ``scan_head``, ``scan_checked`` and ``scan_line`` ends with one
    /// more item: a template id, the same int for records with the same top-level keys in the same order
    /// and the same spec values ``slots`` (each None, a bool or a str: the same text), another for any other
    /// (unique in the process, never reused); None when one of those values is of another kind. The caller
    /// keeps what it made of such a record by that id: one dict lookup of a small int, not a tuple of the
    /// values hashed afresh. An empty ``slots`` turns it off.
    fn template(&mut self, slots: Vec<usize>) -> PyResult<()> {
        if let Some(bad) = slots.iter().find(|&&k| k >= self.slots) {
            return Err(PyValueError::new_err(format!("template slot {bad} past the spec's {} values", self.slots)));
        }
        self.tmpl = slots;
        self.tids.clear();
        self.kept.clear();
        Ok(())
    }

    /// One record: None (irregular: the caller's msgspec path decides it) or (top-level keys
    /// in document order, ``unmapped`` JSON or None, SHA-256 digest, one value per spec entry:
    /// None when absent or null, True for an object).
    fn scan<'py>(&mut self, py: Python<'py>, record: &Bound<'py, PyBytes>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let end = record.as_bytes().len();
        self.scan_span(py, record, 0, end)
    }

    /// ``scan`` of the record ``doc[start:end]`` (a line of a document kept whole: no copy of it
    /// is made); ``rest`` and ``span`` then answer for that record, spans relative to its start.
    fn scan_at<'py>(&mut self, py: Python<'py>, doc: &Bound<'py, PyBytes>, start: usize, end: usize) -> PyResult<Option<Bound<'py, PyTuple>>> {
        if start > end || end > doc.as_bytes().len() {
            return Err(PyValueError::new_err("record span out of the document"));
        }
        self.scan_span(py, doc, start, end)
    }

    /// The lines of an NDJSON document as ``base.split_json_records`` reads them (``split_lines``:
    /// blank lines skipped, whitespace around a line trimmed), none copied: (offset where the
    /// line starts, start and end of its trimmed text, flags): bit 1 the text is one compact JSON
    /// object (``valid::value``, what ``split_lines`` keeps), bit 2 it is also UTF-8.
    #[staticmethod]
    fn lines(py: Python<'_>, data: &[u8]) -> Vec<(usize, usize, usize, u8)> {
        py.detach(|| {
            crate::line_spans(data)
                .into_iter()
                .map(|(off, s, e, ok)| (off, s, e, u8::from(ok) | (u8::from(ok && std::str::from_utf8(&data[s..e]).is_ok()) << 1)))
                .collect()
        })
    }

    /// ``unmapped`` of the last record scanned without the top-level keys ``more`` either
    /// (None when nothing is left).
    fn rest<'py>(&self, py: Python<'py>, more: Vec<String>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let Some(record) = &self.record else {
            return Err(PyValueError::new_err("no regular record scanned"));
        };
        let b = &record.0.bind(py).as_bytes()[record.1..record.2];
        let kept = |&&(start, kend, _, dropped): &&(usize, usize, usize, bool)| {
            !dropped && !more.iter().any(|k| k.as_bytes() == &b[start + 1..kend - 1])
        };
        object_of(py, b, self.entries.iter().filter(kept))
    }

    /// Start writing ``unmapped`` columns (those of the last call are dropped): each new one
    /// (``sink_new``) reserves ``capacity`` bytes (the input's size: a batch's ``unmapped`` is
    /// not larger unless its mapping adds values, and memory not written is never touched).
    fn sink_open(&mut self, capacity: usize) {
        self.sinks.clear();
        self.sink_cap = capacity;
    }

    /// A new ``unmapped`` column (its number for ``rest_into``, ``sink_add``, ``sink_take``), reserving
    /// ``capacity`` bytes (else ``sink_open``'s); it grows as a ``Vec`` does past that.
    #[pyo3(signature = (capacity = None))]
    fn sink_new(&mut self, capacity: Option<usize>) -> usize {
        let mut sink = Sink { data: Vec::with_capacity(capacity.unwrap_or(self.sink_cap)), ..Sink::default() };
        sink.offsets.push(0);
        self.sinks.push(sink);
        self.sinks.len() - 1
    }

    /// Append ``rest(more)`` of the last record scanned to column ``sink`` (a null when nothing is
    /// left), written there once: the entries as they lie, as ``rest`` makes them.
    fn rest_into(&mut self, py: Python<'_>, sink: usize, more: Vec<String>) -> PyResult<()> {
        let Some(record) = &self.record else {
            return Err(PyValueError::new_err("no regular record scanned"));
        };
        let out = self.sinks.get_mut(sink).ok_or_else(|| PyValueError::new_err("no such unmapped column"))?;
        let b = &record.0.bind(py).as_bytes()[record.1..record.2];
        let mut first = true;
        for &(start, kend, end, dropped) in &self.entries {
            if dropped || more.iter().any(|k| k.as_bytes() == &b[start + 1..kend - 1]) {
                continue;
            }
            out.data.push(if first { b'{' } else { b',' });
            out.data.extend_from_slice(&b[start..end]);
            first = false;
        }
        if !first {
            out.data.push(b'}');
        }
        out.close(first)
    }

    /// Append ``value`` (UTF-8 JSON bytes, or None for a null) to column ``sink``.
    fn sink_add(&mut self, sink: usize, value: Option<&[u8]>) -> PyResult<()> {
        let out = self.sinks.get_mut(sink).ok_or_else(|| PyValueError::new_err("no such unmapped column"))?;
        if let Some(v) = value {
            out.data.extend_from_slice(v);
        }
        out.close(value.is_none())
    }

    /// Column ``sink``'s buffers, as ``gather`` gives them (int32 offsets, data, validity or None,
    /// null count); the column is left empty.
    fn sink_take(&mut self, py: Python<'_>, sink: usize) -> PyResult<Gathered> {
        let out = self.sinks.get_mut(sink).ok_or_else(|| PyValueError::new_err("no such unmapped column"))?;
        let Sink { mut data, offsets, valid, nulls } = std::mem::take(out);
        data.shrink_to_fit(); // (the unwritten part of its reservation back to the allocator)
        let valid = if nulls > 0 { Some(crate::buf(py, valid)?) } else { None };
        Ok((crate::offsets_buf(py, offsets)?, crate::buf(py, data)?, valid, nulls))
    }

    /// ``scan_at`` whose values tuple holds only the first ``head`` spec values (the ones a
    /// generically mapped payload reads); all of them stay with the scanner for ``values``,
    /// ``slots`` and ``when`` until the next scan (a tuple of every value is ~270 items, most
    /// of them None: building and freeing it cost more than the few a generic payload reads).
    ///
    /// ``defer``: the digest is not made now (None in its place) but with the next deferred scan's
    /// (two records hashed at once, ``sha_x2``, the previous one still in the CPU cache), and read
    /// with ``digests``, in scan order.
    ///
    /// ``rest``: False leaves ``unmapped`` unmade (None in its place): the caller writes it where it
    /// goes (``rest_into``), or asks for it (``rest``).
    #[pyo3(signature = (doc, start, end, head, defer = false, rest = true))]
    #[allow(clippy::too_many_arguments)]
    fn scan_head<'py>(&mut self, py: Python<'py>, doc: &Bound<'py, PyBytes>, start: usize, end: usize, head: usize, defer: bool,
                      rest: bool) -> PyResult<Option<Bound<'py, PyTuple>>> {
        self.head::<false>(py, doc, start, end, head, defer, false, rest)
    }

    /// ``scan_head`` of a line ``HookScanner.lines`` has not checked: the walk is also that check
    /// (every value it passes over validated as ``valid::value`` validates it, every string it
    /// reads as ``valid::string_escaped``, the whole record UTF-8), so a record given values here
    /// is one ``lines`` flags a compact JSON object in UTF-8 (flags 3) and its values are the ones
    /// ``scan_head`` gives. None when the record is irregular for ``scan_head`` or not such a line
    /// (``line_flags`` then tells which); an irregular record also leaves no values. ``defer`` and
    /// ``rest`` as for ``scan_head``.
    #[pyo3(signature = (doc, start, end, head, defer = false, rest = true))]
    #[allow(clippy::too_many_arguments)]
    fn scan_checked<'py>(&mut self, py: Python<'py>, doc: &Bound<'py, PyBytes>, start: usize, end: usize, head: usize, defer: bool,
                         rest: bool) -> PyResult<Option<Bound<'py, PyTuple>>> {
        self.head::<true>(py, doc, start, end, head, defer, false, rest)
    }

    /// The next non-blank line of an NDJSON document from ``pos`` (the lines ``line_bounds`` gives),
    /// read as ``scan_checked`` reads it but with no pass over the document to find the lines first:
    /// the walk finds where the line's object ends, and the line must end there (``line_space``,
    /// then a newline or the end of the document). (offset where the line starts, start and end of
    /// its trimmed text, where the next line starts, ``scan_checked``'s answer), or None past the
    /// last line. A line the walk does not take (irregular, not one compact object, not UTF-8) is
    /// bounded by its newline and answered None, as ``scan_checked`` answers it (``line_flags`` then
    /// tells which). ``defer`` and ``rest`` as for ``scan_head``.
    #[allow(clippy::type_complexity)]
    #[pyo3(signature = (doc, pos, head, defer = false, rest = true))]
    fn scan_line<'py>(&mut self, py: Python<'py>, doc: &Bound<'py, PyBytes>, pos: usize, head: usize, defer: bool, rest: bool)
        -> PyResult<Option<(usize, usize, usize, usize, Option<Bound<'py, PyTuple>>)>> {
        let data = doc.as_bytes();
        let mut off = pos.min(data.len());
        let start = loop {
            let s = off + data[off..].iter().take_while(|&&c| line_space(c)).count();
            match data.get(s) {
                None => return Ok(None),
                Some(b'\n') => off = s + 1, // a blank line
                Some(_) => break s,
            }
        };
        let got = self.head::<true>(py, doc, start, data.len(), head, defer, true, rest)?;
        let (end, next) = match (&got, &self.record) {
            (Some(_), Some((_, _, end))) => (*end, line_ends(&data[*end..]).map_or(data.len(), |k| *end + k + 1)),
            _ => {
                let stop = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |k| start + k);
                (start + data[start..stop].iter().rev().skip_while(|&&c| line_space(c)).count(), stop + 1)
            }
        };
        Ok(Some((off, start, end, next, got)))
    }

    /// Keep ``info`` (any object: what the caller made of such a record) for template id ``tid`` of this
    /// scanner, with ``slot``, the spec value of the record's main object (None: none), for ``scan_kept``.
    /// At most as many as the template ids remembered (emptied with them).
    #[pyo3(signature = (tid, info, slot = None))]
    fn keep(&mut self, tid: u64, info: Py<PyAny>, slot: Option<usize>) -> PyResult<()> {
        if slot.is_some_and(|k| k + 5 >= self.slots) { // (a main object and its five times)
            return Err(PyValueError::new_err("main object slot past the spec's values"));
        }
        if self.kept.len() >= MAX_TIDS {
            self.kept.clear();
        }
        self.kept.insert(tid, (info, slot));
        Ok(())
    }

    /// Forget what ``keep`` kept.
    fn forget(&mut self) {
        self.kept.clear();
    }

    /// ``scan_line(doc, pos, head, defer=True, rest=False)``, but a line whose template id was kept
    /// (``keep``) is answered (offset where the line starts, start and end of its trimmed text, where the
    /// next line starts, the kept object, ``when`` of its main object or None without one), its
    /// ``unmapped`` (``rest_into(sink, [])``) written into column ``sink`` when one is given: the caller
    /// needs nothing else of it (no keys or values tuple made). Any other line: ``scan_line``'s answer.
    #[allow(clippy::type_complexity)]
    #[pyo3(signature = (doc, pos, head, sink = None))]
    fn scan_kept<'py>(&mut self, py: Python<'py>, doc: &Bound<'py, PyBytes>, pos: usize, head: usize, sink: Option<usize>)
        -> PyResult<Option<Bound<'py, PyTuple>>> {
        self.lean = true;
        let got = self.scan_line(py, doc, pos, head, true, false);
        self.lean = false;
        let Some((off, start, end, next, got)) = got? else {
            return Ok(None);
        };
        if got.is_some() {
            if let Some((info, slot)) = self.last_tid.and_then(|t| self.kept.get(&t)) {
                let (info, slot) = (info.clone_ref(py), *slot);
                if let Some(s) = sink {
                    self.rest_into(py, s, Vec::new())?;
                }
                let when = match slot {
                    Some(k) => self.when(py, k)?,
                    None => py.None().into_bound(py),
                };
                let n = |x: usize| x.into_pyobject(py).map(|v| v.into_any());
                return Ok(Some(PyTuple::new(py, [n(off)?, n(start)?, n(end)?, n(next)?, info.into_bound(py), when])?));
            }
        }
        Ok(Some((off, start, end, next, got).into_pyobject(py)?))
    }

    /// The SHA-256 digests (``prefix`` then the record) of the records given values by deferred
    /// scans since the last call, in scan order; none is left pending after it.
    fn digests<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        if let Some((doc, start, end)) = self.pending.take() {
            let mut h = self.base.clone();
            h.update(&doc.bind(py).as_bytes()[start..end]);
            self.hashed.push(h.finalize().into());
        }
        let out = PyList::new(py, self.hashed.iter().map(|d| PyBytes::new(py, d)));
        self.hashed.clear();
        out
    }

    /// The non-blank lines of an NDJSON document as ``lines`` gives them, none checked: (offset
    /// where the line starts, start and end of its trimmed text). ``scan_checked`` is the check.
    #[staticmethod]
    fn line_bounds(py: Python<'_>, data: &[u8]) -> Vec<(usize, usize, usize)> {
        py.detach(|| crate::line_bounds(data))
    }

    /// ``lines``' flags of the one line ``doc[start:end]`` (trimmed): bit 1 one compact JSON
    /// object, bit 2 also UTF-8.
    #[staticmethod]
    fn line_flags(doc: &[u8], start: usize, end: usize) -> PyResult<u8> {
        let line = doc.get(start..end).ok_or_else(|| PyValueError::new_err("line span out of the document"))?;
        let ok = crate::compact_object(line);
        Ok(u8::from(ok) | (u8::from(ok && std::str::from_utf8(line).is_ok()) << 1))
    }

    /// Every spec value of the last record ``scan_head`` read: ``scan``'s values tuple.
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        self.slots(py, 0, self.held().len())
    }

    /// The spec values ``start..stop`` of the last record ``scan_head`` read.
    fn slots<'py>(&self, py: Python<'py>, start: usize, stop: usize) -> PyResult<Bound<'py, PyTuple>> {
        let held = self.held();
        let got = held.get(start..stop.min(held.len())).unwrap_or(&[]);
        PyTuple::new(py, got.iter().map(|s| s.as_ref().map_or_else(|| py.None().into_bound(py), |v| v.bind(py).clone())))
    }

    /// The time of the main object at spec value ``slot`` (mode ``P``, its three times after
    /// it) of the last record ``scan_head`` read, as ``_cicd.first_time`` gives it: None when the
    /// object is absent or none of its times is set, the milliseconds of the first set one when
    /// that is ``YYYY-MM-DDTHH:MM:SS`` then ``Z`` or ``+HH:MM``/``-HH:MM`` (a valid date and time:
    /// what ``datetime.fromisoformat`` reads, with no fraction), else False: the caller decides
    /// (``first_time`` of ``slots(slot + 1, slot + 4)``).
    fn when<'py>(&self, py: Python<'py>, slot: usize) -> PyResult<Bound<'py, PyAny>> {
        let none = py.None().into_bound(py);
        let held = self.held();
        if held.get(slot).is_none_or(Option::is_none) {
            return Ok(none);
        }
        // the first set one decides
        let Some(v) = held.get(slot + 1..slot + 4).unwrap_or(&[]).iter().flatten().next() else {
            return Ok(none);
        };
        let parsed = v.bind(py).cast::<PyString>().ok().and_then(|s| s.to_str().ok()).and_then(|t| iso_seconds(t.as_bytes()));
        Ok(match parsed {
            Some(secs) => (secs * 1000).into_pyobject(py)?.into_any(),
            None => PyBool::new(py, false).to_owned().into_any(),
        })
    }

    /// ``_cicd.iso_ms`` of ``text`` when it is ``YYYY-MM-DDTHH:MM:SS`` then ``Z`` or ``+HH:MM``/``-HH:MM``
    /// (a valid date and time, as ``when`` reads it): its milliseconds since the epoch; None for
    /// anything else (another form, or not a str), which the caller reads its own way.
    #[staticmethod]
    fn iso_ms(text: &Bound<'_, PyAny>) -> Option<i64> {
        iso_seconds(text.cast::<PyString>().ok()?.to_str().ok()?.as_bytes()).map(|s| s * 1000)
    }

    /// A string column's buffers of ``values`` (``bytes``, a contiguous buffer such as a
    /// ``memoryview`` of a document, or None for a null), each copied once, in order: (int32
    /// offsets, data, validity bitmap or None, null count); None when they take fewer than
    /// ``min_avg`` bytes a value on average, or 2 GiB or more (the caller's path decides). Not a
    /// check: the values are UTF-8 already (records read by the scan, JSON made of them).
    #[staticmethod]
    fn gather(py: Python<'_>, values: &Bound<'_, PyList>, min_avg: usize) -> PyResult<Option<Gathered>> {
        let mut held: Vec<Option<PyBuffer<u8>>> = Vec::with_capacity(values.len());
        let mut bytes: Vec<Option<Bound<'_, PyBytes>>> = Vec::with_capacity(values.len());
        let (mut total, mut nulls) = (0usize, 0usize);
        for v in values.iter() {
            if v.is_none() {
                nulls += 1;
                held.push(None);
                bytes.push(None);
                continue;
            }
            match v.cast_into::<PyBytes>() {
                Ok(b) => {
                    total += b.as_bytes().len();
                    held.push(None);
                    bytes.push(Some(b));
                }
                Err(e) => {
                    let view = PyBuffer::<u8>::get(&e.into_inner())?;
                    if !view.is_c_contiguous() {
                        return Err(PyValueError::new_err("a value that is not a contiguous buffer"));
                    }
                    total += view.len_bytes();
                    held.push(Some(view));
                    bytes.push(None);
                }
            }
        }
        let n = values.len();
        if total < min_avg.saturating_mul(n) || i32::try_from(total).is_err() {
            return Ok(None);
        }
        let mut data = crate::big_vec(total);
        let mut offsets = Vec::with_capacity((n + 1) * 4);
        let mut valid = if nulls > 0 { vec![0u8; n.div_ceil(8)] } else { Vec::new() };
        offsets.extend_from_slice(&0i32.to_le_bytes());
        for (k, (b, view)) in bytes.iter().zip(&held).enumerate() {
            let slice: &[u8] = match (b, view) {
                (Some(b), _) => b.as_bytes(),
                // SAFETY: a contiguous buffer of ``len_bytes`` bytes, held (not released) until the end
                (None, Some(view)) => unsafe { std::slice::from_raw_parts(view.buf_ptr().cast::<u8>(), view.len_bytes()) },
                (None, None) => {
                    offsets.extend_from_slice(&(data.len() as i32).to_le_bytes());
                    continue;
                }
            };
            data.extend_from_slice(slice);
            offsets.extend_from_slice(&(data.len() as i32).to_le_bytes());
            if nulls > 0 {
                valid[k / 8] |= 1 << (k % 8);
            }
        }
        let valid = if nulls > 0 { Some(crate::buf(py, valid)?) } else { None };
        Ok(Some((crate::buf(py, offsets)?, crate::buf(py, data)?, valid, nulls)))
    }

    /// The ``metadata.uid`` column of SHA-256 ``digests`` (``_uids.uid_column``'s: the first 16 bytes of each in
    /// lowercase hex, 32 characters), as ``gather`` gives a column's buffers (no nulls).
    #[staticmethod]
    fn uid_hex(py: Python<'_>, digests: Vec<Vec<u8>>) -> PyResult<Gathered> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        if digests.len() > (i32::MAX / 32) as usize {
            return Err(PyValueError::new_err("too many digests for one column"));
        }
        let mut data = Vec::with_capacity(digests.len() * 32);
        let mut offsets = Vec::with_capacity(digests.len() + 1);
        offsets.push(0i32);
        for d in &digests {
            let head = d.get(..16).ok_or_else(|| PyValueError::new_err("a digest of fewer than 16 bytes"))?;
            for &b in head {
                data.push(HEX[usize::from(b >> 4)]);
                data.push(HEX[usize::from(b & 15)]);
            }
            offsets.push(data.len() as i32);
        }
        Ok((crate::offsets_buf(py, offsets)?, crate::buf(py, data)?, None, 0))
    }

    /// (start, end) of top-level ``key``'s value in the last record scanned, or None.
    fn span(&self, py: Python<'_>, key: &str) -> Option<(usize, usize)> {
        let (doc, start, end) = self.record.as_ref()?;
        let b = &doc.bind(py).as_bytes()[*start..*end];
        self.entries
            .iter()
            .find(|&&(start, kend, _, _)| &b[start + 1..kend - 1] == key.as_bytes())
            .map(|&(_, kend, end, _)| (kend + 1, end))
    }
}

impl HookScanner {
    /// ``template``'s id of the record just walked (its layout in ``self.layout``, its values in ``self.last``);
    /// None when a template value is not None, a bool or a str.
    fn template_id(&mut self, py: Python<'_>) -> Option<u64> {
        let key = &mut self.tkey;
        key.clear();
        key.extend_from_slice(&(self.layout.len() as u32).to_le_bytes());
        for id in &self.layout {
            key.extend_from_slice(&id.to_le_bytes());
        }
        for &k in &self.tmpl {
            match self.last.get(k).and_then(Option::as_ref) {
                None => key.push(0),
                Some(v) => {
                    let v = v.bind(py);
                    if let Ok(b) = v.cast::<PyBool>() {
                        key.push(if b.is_true() { 1 } else { 2 });
                    } else if let Ok(s) = v.cast::<PyString>() {
                        let text = s.to_str().ok()?;
                        key.push(3);
                        key.extend_from_slice(&(text.len() as u32).to_le_bytes());
                        key.extend_from_slice(text.as_bytes());
                    } else {
                        return None;
                    }
                }
            }
        }
        if let Some(&t) = self.tids.get(key.as_slice()) {
            return Some(t);
        }
        if self.tids.len() >= MAX_TIDS {
            self.tids.clear();
            self.kept.clear();
        }
        let t = NEXT_TID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.tids.insert(key.clone(), t);
        Some(t)
    }

    /// The spec values of the last record ``scan_head`` read (none after an irregular one).
    fn held(&self) -> &[Option<Py<PyAny>>] {
        if self.has_last { &self.last } else { &[] }
    }

    /// ``scan_head`` (``C``: ``scan_checked``) of ``doc[start:end]``.
    /// ``open``: the record is the line at ``start`` (``walk``).
    #[allow(clippy::too_many_arguments)]
    fn head<'py, const C: bool>(&mut self, py: Python<'py>, doc: &Bound<'py, PyBytes>, start: usize, end: usize, head: usize, defer: bool,
                                open: bool, rest: bool) -> PyResult<Option<Bound<'py, PyTuple>>> {
        if start > end || end > doc.as_bytes().len() {
            return Err(PyValueError::new_err("record span out of the document"));
        }
        // the last record's values released (only the slots it set), the buffer walked into again
        self.has_last = false;
        self.last_tid = None;
        let (mut slots, mut set) = (std::mem::take(&mut self.last), std::mem::take(&mut self.set));
        clear_slots(py, &mut slots, &mut set);
        let got = self.walk::<C>(py, doc, start, end, !defer, open, rest, &mut slots, &mut set);
        if !matches!(got, Ok(Some(_))) {
            clear_slots(py, &mut slots, &mut set); // an irregular record leaves no values
        }
        (self.last, self.set) = (slots, set);
        let Some((names, rest, digest)) = got? else {
            return Ok(None);
        };
        let digest = match digest {
            Some(d) => d.into_any(),
            None => {
                let end = self.record.as_ref().map_or(end, |r| r.2);
                self.defer_hash(py, doc, start, end);
                py.None().into_bound(py)
            }
        };
        self.last_tid = if self.tmpl.is_empty() { None } else { self.template_id(py) };
        let tid = if self.tmpl.is_empty() {
            None
        } else {
            Some(match self.last_tid {
                Some(t) => t.into_pyobject(py)?.into_any(),
                None => py.None().into_bound(py),
            })
        };
        if self.lean && self.last_tid.is_some_and(|t| self.kept.contains_key(&t)) {
            self.has_last = true; // (scan_kept answers with what was kept: no keys or values tuple made)
            return Ok(Some(PyTuple::empty(py)));
        }
        let head = head.min(self.last.len());
        let values = PyTuple::new(py, (0..head + usize::from(tid.is_some())).map(|k| match self.last.get(k) {
            Some(s) if k < head => s.as_ref().map_or_else(|| py.None().into_bound(py), |v| v.bind(py).clone()),
            _ => tid.clone().unwrap_or_else(|| py.None().into_bound(py)),
        }))?;
        self.has_last = true;
        Ok(Some(PyTuple::new(py, [PyTuple::new(py, names)?.into_any(), rest, digest, values.into_any()])?))
    }

    /// Hash ``doc[start:end]`` with the pending record of the last deferred scan (both digests
    /// kept, in order), or leave it pending.
    fn defer_hash(&mut self, py: Python<'_>, doc: &Bound<'_, PyBytes>, start: usize, end: usize) {
        let Some((prev, ps, pe)) = self.pending.take() else {
            self.pending = Some((doc.clone().unbind(), start, end));
            return;
        };
        let (a, b) = (&prev.bind(py).as_bytes()[ps..pe], &doc.as_bytes()[start..end]);
        if self.x2 {
            let (da, db) = sha_x2::digests2(&self.prefix, a, b);
            self.hashed.push(da);
            self.hashed.push(db);
        } else {
            for rec in [a, b] {
                let mut h = self.base.clone();
                h.update(rec);
                self.hashed.push(h.finalize().into());
            }
        }
    }

    /// ``scan`` of ``record[start:end]`` (the caller checked the span).
    fn scan_span<'py>(&mut self, py: Python<'py>, record: &Bound<'py, PyBytes>, start: usize, end: usize) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let (mut slots, mut set) = (std::iter::repeat_with(|| None).take(self.slots).collect(), Vec::new());
        let Some((names, rest, Some(digest))) = self.walk::<false>(py, record, start, end, true, false, true, &mut slots, &mut set)? else {
            return Ok(None);
        };
        // SAFETY: a new tuple of ``n`` items, each set once (PyTuple_SetItem takes the reference).
        let values = unsafe {
            let t = pyo3::ffi::PyTuple_New(slots.len() as pyo3::ffi::Py_ssize_t);
            if t.is_null() {
                return Err(PyErr::fetch(py));
            }
            let t = Bound::from_owned_ptr(py, t);
            for (k, slot) in slots.into_iter().enumerate() {
                let item = slot.map_or_else(|| py.None().into_bound(py), |v| v.into_bound(py)).into_ptr();
                if pyo3::ffi::PyTuple_SetItem(t.as_ptr(), k as pyo3::ffi::Py_ssize_t, item) != 0 {
                    return Err(PyErr::fetch(py));
                }
            }
            t
        };
        Ok(Some(PyTuple::new(py, [PyTuple::new(py, names)?.into_any(), rest, digest.into_any(), values.into_any()])?))
    }

    /// The walk of ``scan_span``: (keys tuple, ``unmapped`` or None (also when not ``rest``), digest
    /// (when ``hash``), spec values), or None for an irregular record. ``open``: the record is the line starting at
    /// ``start`` (``end`` is not read): it ends where its object does, and the line must end there
    /// (``line_space`` then a newline or the end of ``record``); ``self.record`` then holds its end.
    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    fn walk<'py, const C: bool>(&mut self, py: Python<'py>, record: &Bound<'py, PyBytes>, start: usize, end: usize, hash: bool, open: bool,
                                rest: bool, slots: &mut Vec<Option<Py<PyAny>>>, set: &mut Vec<u32>)
        -> PyResult<Option<(Vec<Bound<'py, PyString>>, Bound<'py, PyAny>, Option<Bound<'py, PyBytes>>)>> {
        if self.keys.len() > MAX_KEYS {
            self.keys.clear();
            self.tids.clear(); // (their layouts name key numbers that start again)
            self.kept.clear();
            self.key_next = 0;
        }
        self.stamp += 1;
        self.record = None;
        self.entries.clear();
        self.layout.clear();
        let mut scan = Scan { py, slots, set, text: Vec::new() };
        let mut names: Vec<Bound<'py, PyString>> = Vec::with_capacity(32);
        let data = record.as_bytes();
        let b = &data[start..if open { data.len() } else { end }];
        let b = match self.top::<C>(b, &mut scan, &mut names) {
            Ok(k) if k == b.len() || open && line_ends(&b[k..]).is_some() => &b[..k],
            _ => {
                self.entries.clear();
                return Ok(None);
            }
        };
        // the walk that is also the strict check takes UTF-8 text only, as ``lines`` flags it
        if C && !crate::valid::utf8(b) {
            self.entries.clear();
            return Ok(None);
        }
        self.record = Some((record.clone().unbind(), start, start + b.len()));
        let digest = hash.then(|| {
            let mut h = self.base.clone();
            h.update(b);
            PyBytes::new(py, &h.finalize())
        });
        let rest = match if rest { object_of(py, b, self.entries.iter().filter(|e| !e.3))? } else { None } {
            Some(rest) => rest.into_any(),
            None => py.None().into_bound(py),
        };
        Ok(Some((names, rest, digest)))
    }

    /// Walk one record's top-level object: keys, spec values, ``unmapped`` entries; the index just
    /// past its closing brace (the caller checks what follows).
    fn top<'py, const C: bool>(&mut self, b: &[u8], scan: &mut Scan<'py, '_>, names: &mut Vec<Bound<'py, PyString>>) -> R<usize> {
        if at(b, 0)? != b'{' {
            return Err(Irregular);
        }
        let mut j = 1;
        if at(b, j)? == b'}' {
            return Ok(2);
        }
        loop {
            if at(b, j)? != b'"' {
                return Err(Irregular);
            }
            let (kend, escaped) = string_c::<C>(b, j)?;
            if escaped || at(b, kend)? != b':' {
                return Err(Irregular); // an escaped key: msgspec re-encodes it (its path decides)
            }
            let raw = &b[j + 1..kend - 1];
            let key = match self.keys.get_mut(raw) {
                Some(k) => k,
                None => {
                    let name = PyString::intern(scan.py, std::str::from_utf8(raw).map_err(|_| Irregular)?).unbind();
                    self.key_next += 1;
                    let k = Key {
                        name,
                        id: self.key_next,
                        dropped: self.drop.iter().any(|d| d == raw),
                        node: self.root.iter().position(|x| x.key == raw),
                        stamp: 0,
                    };
                    self.keys.entry(raw.to_vec()).or_insert(k)
                }
            };
            if key.stamp == self.stamp {
                return Err(Irregular); // a duplicate key: msgspec keeps the first place, the last value
            }
            key.stamp = self.stamp;
            names.push(key.name.bind(scan.py).clone());
            self.layout.push(key.id);
            let (dropped, node) = (key.dropped, key.node);
            let end = match node {
                Some(n) => scan.value::<C>(b, kend + 1, &self.root[n], 1)?,
                None => skip_c::<C>(b, kend + 1, 1)?,
            };
            self.entries.push((j, kend, end, dropped));
            j = end;
            match at(b, j)? {
                b',' => j += 1,
                b'}' => return Ok(j + 1),
                _ => return Err(Irregular),
            }
        }
    }
}

/// Whitespace around a line's text (``line_bounds`` trims it).
fn line_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

/// Where the newline ending a line is in ``tail`` (what follows a line's object): after
/// ``line_space`` alone; ``Some(tail.len())`` at the end of the document, None when something else
/// follows.
fn line_ends(tail: &[u8]) -> Option<usize> {
    let k = tail.iter().take_while(|&&c| line_space(c)).count();
    matches!(tail.get(k), None | Some(b'\n')).then_some(k)
}

/// ``{`` + the top-level ``entries`` of ``b`` (key's quote, past the key, past the value, _) as
/// they lie, comma-separated + ``}``, written once into a new bytes object (``unmapped``); None
/// when there is no entry.
fn object_of<'a, 'py>(py: Python<'py>, b: &[u8], entries: impl Iterator<Item = &'a (usize, usize, usize, bool)> + Clone)
    -> PyResult<Option<Bound<'py, PyBytes>>> {
    let (count, size) = entries.clone().fold((0usize, 0usize), |(n, len), &(start, _, end, _)| (n + 1, len + end - start));
    if count == 0 {
        return Ok(None);
    }
    let total = size + count + 1; // the braces and the commas between entries
    // SAFETY: a new bytes object of ``total`` bytes whose buffer is written whole below before any
    // Python code sees it (PyBytes_FromStringAndSize with no source leaves it uninitialized).
    unsafe {
        let obj = pyo3::ffi::PyBytes_FromStringAndSize(std::ptr::null(), total as pyo3::ffi::Py_ssize_t);
        if obj.is_null() {
            return Err(PyErr::fetch(py));
        }
        let bytes = Bound::from_owned_ptr(py, obj).cast_into_unchecked::<PyBytes>();
        let out = std::slice::from_raw_parts_mut(pyo3::ffi::PyBytes_AsString(obj).cast::<u8>(), total);
        out[0] = b'{';
        let mut at = 1;
        for &(start, _, end, _) in entries {
            if at > 1 {
                out[at] = b',';
                at += 1;
            }
            out[at..at + end - start].copy_from_slice(&b[start..end]);
            at += end - start;
        }
        out[at] = b'}';
        debug_assert_eq!(at + 1, total);
        Ok(Some(bytes))
    }
}

/// Seconds since the epoch of ``YYYY-MM-DDTHH:MM:SS`` followed by ``Z`` or ``+HH:MM``/``-HH:MM``
/// (a valid date and time, offset under 24 h), or None for any other text (``HookScanner.when``,
/// ``iso_cols``' time columns).
pub(crate) fn iso_seconds(b: &[u8]) -> Option<i64> {
    if !(b.len() == 20 && b[19] == b'Z' || b.len() == 25 && matches!(b[19], b'+' | b'-') && b[22] == b':') {
        return None;
    }
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |i: usize, n: usize| -> Option<i64> {
        b[i..i + n].iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if year < 1 || !(1..=12).contains(&month) || day < 1 || day > days_in[(month - 1) as usize]
        || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let offset = if b.len() == 25 {
        let (oh, om) = (num(20, 2)?, num(23, 2)?);
        if oh > 23 || om > 59 {
            return None;
        }
        (oh * 3600 + om * 60) * if b[19] == b'-' { -1 } else { 1 }
    } else {
        0
    };
    // days from 1970-01-01 of the proleptic Gregorian date (H. Hinnant's days_from_civil)
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}
