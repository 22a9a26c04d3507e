//! Windows event XML in Windows' own layout, read straight to the evtx crate's JSON records
//! (`evtx_xml_scan`, for `secpipe.formats.evtx_xml`).
//!
//! Design: one pass over a document's text. It is cut before each `<Event` start tag (each piece
//! up to its last `</Event>`: the Python framing), and each event is checked against the grammar of
//! the Python fast path (`evtx_xml._GRAMMAR`: `<Event xmlns=..>`, a `<System>` of the schema's
//! leaf elements, an `<EventData>` of named `<Data>` only, character data with the five predefined
//! entities, nothing XML refuses, no `]]>`) while its compact JSON record is written: the same text
//! `msgspec.json.encode` gives of the record `evtx_xml._fast` builds (keys in document order, the
//! System integers as numbers, a repeated Data name at its first place with its last value, CR and
//! CRLF read as LF, entities replaced), and `System.TimeCreated`'s `SystemTime`.
//!
//! Why by hand: the grammar is deterministic (one byte of look-ahead decides every step), so a
//! scanner validates and writes in one pass; no XML crate keeps the grammar's exact refusals.
//!
//! Guarantees: an event is either given as its record or handed back (its piece text) for the
//! Python path, which then does what it did before: the grammar refused it, or it has what the fast
//! path declines (a repeated System child, an `xmlns` or repeated attribute), or a value this code
//! does not decide the same way (a non-ASCII or 19-digit integer field). A document where the
//! framing itself could differ (`<Event` followed by a non-ASCII character, which Python's `\s`
//! might take for a space) is handed back whole (None). Every index is checked: no input panics.

use memchr::memmem;
use pyo3::prelude::*;

use crate::{bytes_eq, HIGHS, ONES};
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

/// The System children of the event schema (the grammar's leaves).
const SYSTEM: [&[u8]; 14] = [
    b"Provider", b"EventID", b"Version", b"Level", b"Task", b"Opcode", b"Keywords", b"TimeCreated",
    b"EventRecordID", b"Correlation", b"Execution", b"Channel", b"Computer", b"Security",
];
/// System elements and attributes the evtx crate writes as numbers (`evtx_xml._INTS`).
const INTS: [&[u8]; 9] = [
    b"EventID", b"Version", b"Level", b"Task", b"Opcode", b"EventRecordID", b"Qualifiers", b"ProcessID",
    b"ThreadID",
];
const ENTITIES: [(&[u8], u8); 5] = [(b"lt;", b'<'), (b"gt;", b'>'), (b"amp;", b'&'), (b"quot;", b'"'), (b"apos;", b'\'')];

/// The grammar's `[ \t\r\n]`.
fn is_s(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Python's `\s` for an ASCII character (what `evtx_xml._START`'s look-ahead accepts).
fn is_py_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | 0x1c..=0x1f)
}

/// U+FFFE or U+FFFF (not XML characters) starting at `i`.
fn non_char(b: &[u8], i: usize) -> bool {
    b[i] == 0xEF && b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF))
}

/// High bit set in each byte of ``w`` below 0x20 (the lowest set bit is exact).
#[inline(always)]
fn control(w: u64) -> u64 {
    w.wrapping_sub(ONES * 0x20) & !w & HIGHS
}

/// The 8 bytes at ``i`` as a word (SWAR), None within 8 bytes of the end.
#[inline(always)]
fn word(b: &[u8], i: usize) -> Option<u64> {
    b.get(i..i + 8).map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
}

/// Index of the first byte at or after ``i`` whose bit ``mask`` sets in its block (8 bytes a step
/// while a block has none; the lowest set bit is exact), or the last block's start: the caller's
/// byte-by-byte loop decides from there.
#[inline(always)]
fn skip_plain(b: &[u8], mut i: usize, mask: impl Fn(u64) -> u64) -> usize {
    while let Some(w) = word(b, i) {
        let m = mask(w);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

/// An attribute of a System child: its name and raw value (the grammar allows no reference in it).
type Attr<'a> = (&'a [u8], &'a [u8]);

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn spaces(&mut self) -> usize {
        let start = self.i;
        while self.i < self.b.len() && is_s(self.b[self.i]) {
            self.i += 1;
        }
        self.i - start
    }

    fn lit(&mut self, l: &[u8]) -> bool {
        if self.b[self.i..].starts_with(l) {
            self.i += l.len();
            true
        } else {
            false
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// `S* = S* 'value'` (either quote): the value without a control character, `<`, `>`, `&`,
    /// U+FFFE/U+FFFF or a quote of `also`; at least one character when `nonempty`.
    fn value(&mut self, also: &[u8], nonempty: bool) -> Option<&'a [u8]> {
        self.spaces();
        if !self.lit(b"=") {
            return None;
        }
        self.spaces();
        let q = self.peek().filter(|&q| q == b'\'' || q == b'"')?;
        let start = self.i + 1;
        let mut j = start;
        // (quote, control, <, >, &, 0xEF: U+FFFE/U+FFFF's first byte, and each of ``also``: the bytes the loop looks at)
        let stops = |w: u64| {
            also.iter().fold(bytes_eq(w, q) | control(w) | bytes_eq(w, b'<') | bytes_eq(w, b'>') | bytes_eq(w, b'&')
                             | bytes_eq(w, 0xEF), |m, &a| m | bytes_eq(w, a))
        };
        loop {
            j = skip_plain(self.b, j, stops);
            let c = *self.b.get(j)?;
            if c == q {
                break;
            }
            if c < 0x20 || matches!(c, b'<' | b'>' | b'&') || also.contains(&c) || non_char(self.b, j) {
                return None;
            }
            j += 1;
        }
        if nonempty && j == start {
            return None;
        }
        self.i = j + 1;
        Some(&self.b[start..j])
    }

    /// Character data up to the next `<`: XML characters and the predefined entities only.
    fn text(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        loop {
            // (<, &, control, 0xEF: the bytes the match looks at)
            self.i = skip_plain(self.b, self.i, |w| bytes_eq(w, b'<') | bytes_eq(w, b'&') | control(w) | bytes_eq(w, 0xEF));
            let c = *self.b.get(self.i)?;
            match c {
                b'<' => return Some(&self.b[start..self.i]),
                b'&' => {
                    let rest = &self.b[self.i + 1..];
                    let (name, _) = ENTITIES.iter().find(|(n, _)| rest.starts_with(n))?;
                    self.i += 1 + name.len();
                }
                b'\t' | b'\n' | b'\r' => self.i += 1,
                0..=0x1f => return None,
                _ if non_char(self.b, self.i) => return None,
                _ => self.i += 1,
            }
        }
    }

    /// `</name S* >`.
    fn close(&mut self, name: &[u8]) -> Option<()> {
        if !(self.lit(b"</") && self.lit(name)) {
            return None;
        }
        self.spaces();
        self.lit(b">").then_some(())
    }

    /// A leaf's `(S+ name S* = S* value)* S* (/> | > text </name S* >)` after its name: the
    /// attributes and the text (None when self-closing).
    fn leaf(&mut self, name: &[u8], attrs: &mut Vec<Attr<'a>>) -> Option<Option<&'a [u8]>> {
        loop {
            let spaced = self.spaces() > 0;
            match self.peek()? {
                b'/' => return self.lit(b"/>").then_some(None),
                b'>' => {
                    self.i += 1;
                    let text = self.text()?;
                    self.close(name)?;
                    return Some(Some(text));
                }
                c if spaced && (c.is_ascii_alphabetic() || c == b'_') => {
                    let start = self.i;
                    while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')) {
                        self.i += 1;
                    }
                    let key = &self.b[start..self.i];
                    attrs.push((key, self.value(b"", false)?));
                }
                _ => return None,
            }
        }
    }
}

/// `s` as a JSON string's content, the way msgspec escapes it.
fn push_escaped(out: &mut Vec<u8>, s: &[u8]) {
    let mut i = 0;
    loop {
        // the run of bytes written as they are, then the one escaped
        let j = skip_plain(s, i, |w| bytes_eq(w, b'"') | bytes_eq(w, b'\\') | control(w));
        let k = s[j.min(s.len())..].iter().position(|&c| c < 0x20 || c == b'"' || c == b'\\').map_or(s.len(), |k| j + k);
        out.extend_from_slice(&s[i..k]);
        let Some(&c) = s.get(k) else { return };
        i = k + 1;
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            _ => out.push(c),
        }
    }
}

fn push_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    push_escaped(out, s);
    out.push(b'"');
}

/// Character data as the parser reports it (`evtx_xml._text`: CR and CRLF as LF, the predefined
/// entities replaced), into `buf`.
fn unescape(raw: &[u8], buf: &mut Vec<u8>) {
    buf.clear();
    let mut i = 0;
    while i < raw.len() {
        // the run up to the next CR or reference as it is
        let next = memchr::memchr2(b'\r', b'&', &raw[i..]).map_or(raw.len(), |k| i + k);
        buf.extend_from_slice(&raw[i..next]);
        i = next;
        let Some(&c) = raw.get(i) else { break };
        match c {
            b'\r' => {
                buf.push(b'\n');
                i += if raw.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
            }
            b'&' => {
                let rest = &raw[i + 1..];
                match ENTITIES.iter().find(|(n, _)| rest.starts_with(n)) {
                    Some((n, c)) => {
                        buf.push(*c);
                        i += 1 + n.len();
                    }
                    None => {
                        buf.push(b'&');
                        i += 1;
                    }
                }
            }
            c => {
                buf.push(c);
                i += 1;
            }
        }
    }
}

/// A System value (`evtx_xml._scalar`): a number for a name of `INTS` whose text is digits, else a
/// string; None where Python could decide otherwise (non-ASCII: `str.isdigit` takes other digits; 19
/// digits and more).
fn push_scalar(out: &mut Vec<u8>, name: &[u8], text: &[u8]) -> Option<()> {
    if INTS.contains(&name) {
        if !text.is_ascii() {
            return None;
        }
        if !text.is_empty() && text.iter().all(u8::is_ascii_digit) {
            let digits = &text[text.iter().position(|&c| c != b'0').unwrap_or(text.len() - 1)..];
            if digits.len() > 18 {
                return None;
            }
            out.extend_from_slice(digits);
            return Some(());
        }
    }
    push_str(out, text);
    Some(())
}

/// One System child's value (`evtx_xml._child`); None where the Python path decides (an `xmlns`
/// or repeated attribute).
fn push_child(out: &mut Vec<u8>, name: &[u8], attrs: &[Attr<'_>], text: Option<&[u8]>, buf: &mut Vec<u8>) -> Option<()> {
    let text = text.filter(|t| !t.is_empty());
    if attrs.is_empty() {
        match text {
            None => out.extend_from_slice(b"null"),
            Some(t) => {
                unescape(t, buf);
                push_scalar(out, name, buf)?;
            }
        }
        return Some(());
    }
    out.extend_from_slice(b"{\"#attributes\":{");
    for (k, (key, value)) in attrs.iter().enumerate() {
        if *key == b"xmlns" || attrs[..k].iter().any(|(other, _)| other == key) {
            return None;
        }
        if k > 0 {
            out.push(b',');
        }
        push_str(out, key);
        out.push(b':');
        push_scalar(out, key, value)?;
    }
    out.push(b'}');
    if let Some(t) = text {
        out.extend_from_slice(b",\"#text\":");
        unescape(t, buf);
        push_scalar(out, name, buf)?;
    }
    out.push(b'}');
    Some(())
}

/// An event's record and its `SystemTime`, or None where the Python path reads it.
fn event<'a>(b: &'a [u8], out: &mut Vec<u8>) -> Option<Option<&'a [u8]>> {
    if memmem::find(b, b"]]>").is_some() {
        return None;
    }
    let mut p = Scan { b, i: 0 };
    if !p.lit(b"<Event") || p.spaces() == 0 || !p.lit(b"xmlns") {
        return None;
    }
    let xmlns = p.value(b"", true)?;
    p.spaces();
    if !p.lit(b">") {
        return None;
    }
    p.spaces();
    if !p.lit(b"<System") {
        return None;
    }
    p.spaces();
    if !p.lit(b">") {
        return None;
    }
    out.clear();
    out.extend_from_slice(b"{\"Event\":{\"#attributes\":{\"xmlns\":");
    push_str(out, xmlns);
    out.extend_from_slice(b"},\"System\":{");
    let (mut seen, mut time, mut attrs, mut buf) = (0u16, None, Vec::new(), Vec::new());
    loop {
        p.spaces();
        if p.lit(b"</System") {
            break;
        }
        if !p.lit(b"<") {
            return None;
        }
        let start = p.i;
        while p.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            p.i += 1;
        }
        let name = &b[start..p.i];
        let k = SYSTEM.iter().position(|n| *n == name)?;
        attrs.clear();
        let text = p.leaf(name, &mut attrs)?;
        if seen & (1 << k) != 0 {
            return None; // a repeated child: a list, the parser's path
        }
        if seen != 0 {
            out.push(b',');
        }
        seen |= 1 << k;
        push_str(out, name);
        out.push(b':');
        push_child(out, name, &attrs, text, &mut buf)?;
        if name == b"TimeCreated" {
            time = attrs.iter().find(|(key, _)| *key == b"SystemTime").map(|(_, v)| *v);
        }
    }
    p.spaces();
    if !p.lit(b">") {
        return None;
    }
    out.push(b'}');
    p.spaces();
    if p.lit(b"<EventData") {
        p.spaces();
        out.extend_from_slice(b",\"EventData\":");
        if p.lit(b"/>") {
            out.extend_from_slice(b"null");
        } else {
            if !p.lit(b">") {
                return None;
            }
            event_data(&mut p, out, &mut buf)?;
        }
        p.spaces();
    }
    if !p.lit(b"</Event") {
        return None;
    }
    p.spaces();
    if !p.lit(b">") || p.i != b.len() {
        return None;
    }
    out.extend_from_slice(b"}}");
    Some(time)
}

/// `(S* <Data S+ Name S* = S* 'name' S* (/> | > text </Data S* >))* S* </EventData S* >` as the
/// EventData object (a repeated name at its first place, with its last value; empty: null).
fn event_data(p: &mut Scan<'_>, out: &mut Vec<u8>, buf: &mut Vec<u8>) -> Option<()> {
    let mut data: Vec<(&[u8], Option<&[u8]>)> = Vec::new();
    loop {
        p.spaces();
        if p.lit(b"</EventData") {
            break;
        }
        if !p.lit(b"<Data") || p.spaces() == 0 || !p.lit(b"Name") {
            return None;
        }
        let name = p.value(b"'\"", false)?;
        p.spaces();
        let text = if p.lit(b"/>") {
            None
        } else if p.lit(b">") {
            let text = p.text()?;
            p.close(b"Data")?;
            Some(text).filter(|t| !t.is_empty())
        } else {
            return None;
        };
        match data.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = text,
            None => data.push((name, text)),
        }
    }
    p.spaces();
    if !p.lit(b">") {
        return None;
    }
    if data.is_empty() {
        out.extend_from_slice(b"null");
        return Some(());
    }
    out.push(b'{');
    for (k, (name, text)) in data.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        push_str(out, name);
        out.push(b':');
        match text {
            None => out.extend_from_slice(b"null"),
            Some(t) => {
                unescape(t, buf);
                push_str(out, buf);
            }
        }
    }
    out.push(b'}');
    Some(())
}

/// Where each event starts (`<Event` before a space, `>` or `/`), or None where Python's `\s`
/// could decide otherwise (a non-ASCII character after `<Event`).
fn starts(b: &[u8]) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for i in memmem::find_iter(b, b"<Event") {
        match b.get(i + 6) {
            Some(&c) if c >= 0x80 => return None,
            Some(&c) if is_py_space(c) || c == b'>' || c == b'/' => out.push(i),
            _ => {}
        }
    }
    Some(out)
}

/// A document's events: ``(records, times, rest)``, one record (compact JSON bytes) and time
/// (``SystemTime`` or None) per event, None in both where the event is in ``rest``, the
/// ``(index, piece)`` the Python path reads; None where the framing is the Python path's to do.
#[pyfunction]
pub fn evtx_xml_scan<'py>(py: Python<'py>, text: &str) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let b = text.as_bytes();
    let Some(starts) = starts(b) else { return Ok(None) };
    let (records, times, rest) = (PyList::empty(py), PyList::empty(py), PyList::empty(py));
    let mut out = Vec::new();
    for (k, &a) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(b.len());
        let stop = memmem::rfind(&b[a..end], b"</Event>").map_or(end, |j| a + j + 8);
        match event(&b[a..stop], &mut out) {
            Some(time) => {
                records.append(PyBytes::new(py, &out))?;
                // (a slice of a str between ASCII quotes: UTF-8)
                match time.and_then(|t| std::str::from_utf8(t).ok()) {
                    Some(t) => times.append(PyString::new(py, t))?,
                    None => times.append(py.None())?,
                }
            }
            None => {
                records.append(py.None())?;
                times.append(py.None())?;
                rest.append((k, &text[a..stop]))?;
            }
        }
    }
    Ok(Some(PyTuple::new(py, [records.into_any(), times.into_any(), rest.into_any()])?))
}
