//! OCSF records re-encoded with their class's attributes alone (`ocsf_lines`), in place of the
//! ocsf format's typed msgspec decode and re-encode (``formats/ocsf_json.py``, ``_Group.typed``).
//!
//! Design: the format reads each record by a msgspec Struct of its class made from the compiled
//! schema (unknown keys refused, each attribute of its OCSF type, a ``json_t`` value as its compact
//! JSON text with sorted keys) and writes it again without the attributes secpipe derives, for
//! ``json_rows`` to read into columns: ~7 ms per 1000 records of 3 KB, and ~3 more in the Python
//! that drives it. Here one walk of each record against the class's attribute tables (an
//! `OcsfTree`, made once a class from the same tables) checks what the Struct checks and writes the
//! same line: an object's attributes in the schema's order, nulls left out, integers as msgspec
//! writes them, a ``float_t`` given an integer with a fraction, strings escaped as msgspec escapes
//! them. The record's own top-level ``unmapped`` is handed back as it came (the Struct's Raw).
//!
//! Guarantees: a line is given only for a record the Struct takes, and then the columns
//! ``json_rows`` reads of it are those of msgspec's line (a float's text may differ: its value does
//! not). A record the walk does not decide so -- another class_uid, a key the class does not have,
//! a value of another type, a key twice, an escaped key, a null in an array, a float or an integer
//! past 64 bits inside a ``json_t`` value, nesting past `DEPTH`, not one JSON object -- is declined
//! (None), and the caller reads it on its Python path, as before. Inputs are read in bounds
//! whatever they hold.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::{at, byte_items, plain_key, skip_string, skip_value, unescape, Irregular, Item, Names, R};

/// attribute kinds, as ``ocsf_json`` numbers them
const STR: u8 = 0;
const INT: u8 = 1;
const LONG: u8 = 2;
const TS: u8 = 3;
const DT: u8 = 4;
const FLOAT: u8 = 5;
const BOOL: u8 = 6;
const JSON: u8 = 7;
const OBJ: u8 = 8;
/// roles of a class's attributes: written; checked but not written (derived by secpipe); the
/// record's own ``unmapped`` (handed back as it came); ``time_dt`` (written when ``time`` is not);
/// ``time``; ``class_uid`` (checked against the class)
const KEEP: u8 = 0;
const DROP: u8 = 1;
const UNMAPPED: u8 = 2;
const TIME_DT: u8 = 3;
const TIME: u8 = 4;
const CLASS_UID: u8 = 5;
const DEPTH: usize = 48;

struct Attr {
    name: Vec<u8>,
    kind: u8,
    array: bool,
    child: usize,
    role: u8,
}

struct Spec {
    attrs: Vec<Attr>,
    names: Names,
}

/// A class's attribute tables: its objects by index (0: the class itself).
#[pyclass(frozen)]
pub(crate) struct OcsfTree {
    specs: Vec<Spec>,
}

/// One attribute as Python gives it: (name, kind, is_array, object index or -1, role).
type AttrArg = (Vec<u8>, u8, bool, i64, u8);

/// A record walked: its line and where its own ``unmapped`` lies in the record; None when declined.
type Walked = Option<(Vec<u8>, Option<(usize, usize)>)>;

#[pymethods]
impl OcsfTree {
    /// ``specs``: per object, its attributes in the schema's order as (name, kind, is_array,
    /// object index or -1, role).
    #[new]
    fn new(specs: Vec<Vec<AttrArg>>) -> PyResult<Self> {
        let n = specs.len();
        let mut out = Vec::with_capacity(n);
        for attrs in specs {
            if attrs.len() > 256 {
                return Err(pyo3::exceptions::PyValueError::new_err("an object of more than 256 attributes"));
            }
            let attrs: Vec<Attr> = attrs
                .into_iter()
                .map(|(name, kind, array, child, role)| Attr { name, kind, array, child: usize::try_from(child).unwrap_or(usize::MAX), role })
                .collect();
            if attrs.iter().any(|a| a.kind == OBJ && a.child >= n) {
                return Err(pyo3::exceptions::PyValueError::new_err("an object attribute without its object"));
            }
            let names = Names::new(attrs.iter().map(|a| a.name.as_slice()));
            out.push(Spec { attrs, names });
        }
        if out.is_empty() {
            return Err(pyo3::exceptions::PyValueError::new_err("no class"));
        }
        Ok(OcsfTree { specs: out })
    }
}

/// Append ``s`` (UTF-8 text) as a JSON string as msgspec writes one.
fn escape_into(s: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut last = 0;
    for (k, &c) in s.iter().enumerate() {
        let short = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            8 => b'b',
            9 => b't',
            10 => b'n',
            12 => b'f',
            13 => b'r',
            0..=31 => 0,
            _ => continue,
        };
        out.extend_from_slice(&s[last..k]);
        last = k + 1;
        if short != 0 {
            out.extend_from_slice(&[b'\\', short]);
        } else {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]);
        }
    }
    out.extend_from_slice(&s[last..]);
    out.push(b'"');
}

/// The string at ``i`` as msgspec writes it again (as it is when it has no escape); index past it.
fn string(b: &[u8], i: usize, out: &mut Vec<u8>, tmp: &mut Vec<u8>) -> R<usize> {
    if at(b, i)? != b'"' {
        return Err(Irregular);
    }
    let (end, escaped) = skip_string(b, i)?;
    if escaped {
        tmp.clear();
        unescape(&b[i + 1..end - 1], tmp)?;
        escape_into(tmp, out);
    } else {
        out.extend_from_slice(&b[i..end]);
    }
    Ok(end)
}

/// The integer at ``i`` (no fraction, no exponent, within i64), and the index past it.
fn integer(b: &[u8], i: usize) -> R<(i64, usize)> {
    let mut j = i;
    while let Some(&c) = b.get(j) {
        if !(c.is_ascii_digit() || (c == b'-' && j == i)) {
            break;
        }
        j += 1;
    }
    if matches!(b.get(j), Some(b'.' | b'e' | b'E')) {
        return Err(Irregular);
    }
    let text = std::str::from_utf8(&b[i..j]).map_err(|_| Irregular)?;
    let v: i64 = text.parse().map_err(|_| Irregular)?;
    Ok((v, j))
}

fn write_int(v: i64, out: &mut Vec<u8>) {
    use std::io::Write;
    let _ = write!(out, "{v}");
}

/// The integer ``v`` read from text ``t`` (`integer`'s), written as msgspec writes it: ``t`` itself
/// when it already is that (no leading zero, not ``-0``: nearly every one), sparing the formatter.
fn int_into(t: &[u8], v: i64, out: &mut Vec<u8>) {
    let digits = t.strip_prefix(b"-").unwrap_or(t);
    if digits.first() != Some(&b'0') || t == b"0" {
        out.extend_from_slice(t);
    } else {
        write_int(v, out);
    }
}

/// A scalar of ``kind`` at ``i`` written as the typed line holds it; index past it.
fn scalar(kind: u8, b: &[u8], i: usize, out: &mut Vec<u8>, tmp: &mut Vec<u8>) -> R<usize> {
    match kind {
        STR | DT => string(b, i, out, tmp),
        INT | LONG | TS => {
            let (v, end) = integer(b, i)?;
            if kind == INT && i32::try_from(v).is_err() {
                return Err(Irregular);
            }
            int_into(&b[i..end], v, out);
            Ok(end)
        }
        FLOAT => {
            let c = at(b, i)?;
            if !(c == b'-' || c.is_ascii_digit()) {
                return Err(Irregular);
            }
            let end = skip_value(b, i)?;
            let text = &b[i..end];
            if text.iter().any(|c| matches!(c, b'.' | b'e' | b'E')) {
                let v: f64 = std::str::from_utf8(text).map_err(|_| Irregular)?.parse().map_err(|_| Irregular)?;
                if !v.is_finite() {
                    return Err(Irregular);
                }
                out.extend_from_slice(text);
            } else {
                // an integer: msgspec's float of it; exact below 2**53 (15 digits), -0 is 0.0
                let digits = text.strip_prefix(b"-").unwrap_or(text);
                if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_digit) || text == b"-0" {
                    return Err(Irregular);
                }
                out.extend_from_slice(text);
                out.extend_from_slice(b".0");
            }
            Ok(end)
        }
        BOOL => {
            if b.get(i..i + 4) == Some(b"true") {
                out.extend_from_slice(b"true");
                Ok(i + 4)
            } else if b.get(i..i + 5) == Some(b"false") {
                out.extend_from_slice(b"false");
                Ok(i + 5)
            } else {
                Err(Irregular)
            }
        }
        _ => Err(Irregular),
    }
}

/// Reused buffers, one set a nesting level.
#[derive(Default)]
struct Level {
    out: Vec<u8>,
    members: Vec<(usize, usize, usize)>,
    keys: Vec<(Vec<u8>, usize, usize)>,
}

struct Walk<'a> {
    tree: &'a OcsfTree,
    levels: Vec<Level>,
    tmp: Vec<u8>,
    /// the class's uid as its line writes it
    cuid: Vec<u8>,
    unmapped: Option<(usize, usize)>,
}

impl Walk<'_> {
    fn level(&mut self, depth: usize) -> R<Level> {
        if depth > DEPTH {
            return Err(Irregular);
        }
        if self.levels.len() <= depth {
            self.levels.resize_with(depth + 1, Level::default);
        }
        Ok(std::mem::take(&mut self.levels[depth]))
    }

    /// A ``json_t`` value at ``i`` as its compact JSON text, keys sorted (msgspec's ``order="sorted"``).
    fn canon(&mut self, b: &[u8], i: usize, out: &mut Vec<u8>, depth: usize) -> R<usize> {
        if depth > DEPTH {
            return Err(Irregular);
        }
        match at(b, i)? {
            b'"' => {
                let mut tmp = std::mem::take(&mut self.tmp);
                let end = string(b, i, out, &mut tmp);
                self.tmp = tmp;
                end
            }
            b'{' => {
                let mut lv = self.level(depth)?;
                lv.out.clear();
                lv.keys.clear();
                let mut j = i + 1;
                let end = if at(b, j)? == b'}' {
                    j + 1
                } else {
                    loop {
                        if at(b, j)? != b'"' {
                            return Err(Irregular);
                        }
                        let (kend, escaped) = skip_string(b, j)?;
                        if at(b, kend)? != b':' {
                            return Err(Irregular);
                        }
                        let mut key = Vec::new();
                        if escaped {
                            unescape(&b[j + 1..kend - 1], &mut key)?;
                        } else {
                            key.extend_from_slice(&b[j + 1..kend - 1]);
                        }
                        let start = lv.out.len();
                        let end = self.canon(b, kend + 1, &mut lv.out, depth + 1)?;
                        lv.keys.push((key, start, lv.out.len()));
                        match at(b, end)? {
                            b',' => j = end + 1,
                            b'}' => break end + 1,
                            _ => return Err(Irregular),
                        }
                    }
                };
                lv.keys.sort_by(|x, y| x.0.cmp(&y.0));
                if lv.keys.windows(2).any(|w| w[0].0 == w[1].0) {
                    return Err(Irregular); // a key twice: a dict keeps the last where the first was
                }
                out.push(b'{');
                for (n, (key, s, e)) in lv.keys.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    escape_into(key, out);
                    out.push(b':');
                    out.extend_from_slice(&lv.out[*s..*e]);
                }
                out.push(b'}');
                self.levels[depth] = lv;
                Ok(end)
            }
            b'[' => array_into(b, i, out, |j, out| self.canon(b, j, out, depth + 1)),
            b't' | b'f' => scalar(BOOL, b, i, out, &mut Vec::new()),
            b'n' => {
                if b.get(i..i + 4) != Some(b"null") {
                    return Err(Irregular);
                }
                out.extend_from_slice(b"null");
                Ok(i + 4)
            }
            _ => {
                let (v, end) = integer(b, i)?; // (a float: msgspec's repr of it is not this walk's)
                int_into(&b[i..end], v, out);
                Ok(end)
            }
        }
    }

    /// One attribute's value (not null) written to ``out``; index past it.
    fn attr(&mut self, a: &Attr, b: &[u8], i: usize, out: &mut Vec<u8>, depth: usize) -> R<usize> {
        if a.kind == JSON {
            if at(b, i)? == b'"' {
                let mut tmp = std::mem::take(&mut self.tmp);
                let end = string(b, i, out, &mut tmp);
                self.tmp = tmp;
                return end;
            }
            let mut text = Vec::new();
            let end = self.canon(b, i, &mut text, depth + 1)?;
            escape_into(&text, out);
            return Ok(end);
        }
        if !a.array {
            return self.one(a, b, i, out, depth);
        }
        if at(b, i)? != b'[' {
            return Err(Irregular);
        }
        array_into(b, i, out, |j, out| self.one(a, b, j, out, depth))
    }

    fn one(&mut self, a: &Attr, b: &[u8], i: usize, out: &mut Vec<u8>, depth: usize) -> R<usize> {
        if a.kind == OBJ {
            return self.object(a.child, b, i, out, depth + 1, false);
        }
        let mut tmp = std::mem::take(&mut self.tmp);
        let end = scalar(a.kind, b, i, out, &mut tmp);
        self.tmp = tmp;
        end
    }

    /// The object at ``i`` against spec ``s``, its attributes written in the schema's order.
    fn object(&mut self, s: usize, b: &[u8], i: usize, out: &mut Vec<u8>, depth: usize, root: bool) -> R<usize> {
        if at(b, i)? != b'{' {
            return Err(Irregular);
        }
        let tree = self.tree;
        let spec = &tree.specs[s];
        let mut lv = self.level(depth)?;
        lv.out.clear();
        lv.members.clear();
        let mut seen = [0u64; 4];
        let mut time = false;
        let mut class_ok = !root;
        let mut time_dt: Option<(usize, usize, usize)> = None;
        let mut j = i + 1;
        let end = if at(b, j)? == b'}' {
            j + 1
        } else {
            loop {
                let (key, v) = plain_key(b, j)?;
                let n = spec.names.find(key).ok_or(Irregular)?;
                if seen[n / 64] & (1 << (n % 64)) != 0 {
                    return Err(Irregular);
                }
                seen[n / 64] |= 1 << (n % 64);
                let a = &spec.attrs[n];
                let end = if b.get(v..v + 4) == Some(b"null") {
                    v + 4
                } else if root && a.role == UNMAPPED {
                    let end = skip_value(b, v)?;
                    self.unmapped = Some((v, end));
                    end
                } else {
                    let start = lv.out.len();
                    let end = self.attr(a, b, v, &mut lv.out, depth)?;
                    match if root { a.role } else { KEEP } {
                        KEEP => lv.members.push((n, start, lv.out.len())),
                        TIME => {
                            time = true;
                            lv.members.push((n, start, lv.out.len()));
                        }
                        TIME_DT => time_dt = Some((n, start, lv.out.len())),
                        CLASS_UID => {
                            if lv.out.get(start..) != Some(self.cuid.as_slice()) {
                                return Err(Irregular); // (another class: the caller's path)
                            }
                            class_ok = true;
                        }
                        DROP => {} // (derived: checked, not written)
                        _ => return Err(Irregular),
                    }
                    end
                };
                match at(b, end)? {
                    b',' => j = end + 1,
                    b'}' => break end + 1,
                    _ => return Err(Irregular),
                }
            }
        };
        if !class_ok {
            return Err(Irregular); // (no class_uid, or null)
        }
        if let (false, Some(m)) = (time, time_dt) {
            lv.members.push(m);
        }
        lv.members.sort_unstable_by_key(|m| m.0);
        out.push(b'{');
        for (k, &(n, s0, e0)) in lv.members.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(&spec.attrs[n].name);
            out.extend_from_slice(b"\":");
            out.extend_from_slice(&lv.out[s0..e0]);
        }
        out.push(b'}');
        self.levels[depth] = lv;
        Ok(end)
    }
}

/// Per record, its line and its own ``unmapped`` JSON text (None when absent or null), or None
/// where the record is declined (see the module docstring).
type Lines = Vec<Option<(Py<PyBytes>, Option<Py<PyBytes>>)>>;

#[pyfunction]
pub(crate) fn ocsf_lines(py: Python<'_>, tree: &Bound<'_, OcsfTree>, records: &Bound<'_, PyList>, class_uid: i64) -> PyResult<Lines> {
    let items = byte_items(records)?;
    let slices: Vec<&[u8]> = items.iter().map(Item::slice).collect();
    let tree = tree.get();
    let walked: Vec<Walked> = py.detach(|| {
        let mut w = Walk { tree, levels: Vec::new(), tmp: Vec::new(), cuid: class_uid.to_string().into_bytes(), unmapped: None };
        slices
            .iter()
            .map(|b| {
                w.unmapped = None;
                let mut out = Vec::with_capacity(b.len());
                match w.object(0, b, 0, &mut out, 0, true) {
                    Ok(end) if end == b.len() => Some((out, w.unmapped)),
                    _ => None,
                }
            })
            .collect()
    });
    walked
        .into_iter()
        .zip(&slices)
        .map(|(got, b)| {
            Ok(got.map(|(line, own)| {
                (PyBytes::new(py, &line).unbind(), own.map(|(s, e)| PyBytes::new(py, &b[s..e]).unbind()))
            }))
        })
        .collect()
}

/// The array at ``i`` (its ``[``) written to ``out`` item by item, each by ``item`` (given the item's index and ``out``,
/// it returns the index past the item); the index past the array.
fn array_into(b: &[u8], i: usize, out: &mut Vec<u8>, mut item: impl FnMut(usize, &mut Vec<u8>) -> R<usize>) -> R<usize> {
    out.push(b'[');
    let j = i + 1;
    if at(b, j)? == b']' {
        out.push(b']');
        return Ok(j + 1);
    }
    let mut j = j;
    loop {
        let end = item(j, out)?;
        match at(b, end)? {
            b',' => {
                out.push(b',');
                j = end + 1;
            }
            b']' => {
                out.push(b']');
                return Ok(end + 1);
            }
            _ => return Err(Irregular),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{int_into, integer};

    #[test]
    fn integers_written_as_msgspec_writes_them() {
        for (text, want) in [("0", "0"), ("-0", "0"), ("7", "7"), ("-15", "-15"), ("012", "12"), ("-007", "-7"),
                             ("9223372036854775807", "9223372036854775807"), ("-9223372036854775808", "-9223372036854775808")] {
            let Ok((v, end)) = integer(text.as_bytes(), 0) else { panic!("{text}") };
            assert_eq!(end, text.len());
            let mut out = Vec::new();
            int_into(text.as_bytes(), v, &mut out);
            assert_eq!(out, want.as_bytes(), "{text}");
            assert_eq!(want, v.to_string());
        }
    }
}
