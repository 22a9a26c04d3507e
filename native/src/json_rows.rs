//! JSON lines of typed records read into nested Arrow columns (`json_rows`), in place of
//! ``pyarrow.json.read_json`` where the lines were written by msgspec from typed values.
//!
//! Design: the OCSF input format (``formats/ocsf_json.py``) re-encodes each record with its OCSF
//! attributes alone, each of OCSF's type, and had Arrow's JSON reader infer nested columns from
//! them (~7.5-9.5 ms per 1000 records of 2-3 KB, a third of the format's decode). The types are
//! known by construction, so no inference is needed beyond the JSON kind of each value: one walk
//! of each line appends its values to a tree of column builders made as keys first appear (a
//! struct's fields in the order of first appearance, as Arrow's reader orders them), a child
//! padded with null rows up to its parent's row when it first appears or is absent from a row.
//! What Arrow's reader would type from no value (an array that never held an item, a struct all of
//! whose fields are such) is left out, as the format's ``_pruned`` takes it away; an object that
//! never held a key stays an empty struct, as Arrow gives it. Strings stay strings (Arrow's reader
//! made a date-like text a timestamp, and a string attribute's text was then rewritten).
//!
//! Guarantees: per line one row; JSON strings are `utf8` (unescaped), integers `int64`, numbers
//! with a fraction or exponent `float64`, booleans `bool`, objects structs, arrays lists (field
//! ``item``). Anything else -- a `null`, a key given twice in an object, an escaped key, a path
//! holding two kinds of value, an array of arrays, nesting past `DEPTH`, a column past 2 GiB, text
//! that is not JSON -- declines the whole batch (None: the caller reads it with Arrow's reader).
//! Inputs are read in bounds whatever they hold.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::{at, buf, byte_items, offsets_buf, plain_key, push_bit, skip_string, unescape, Irregular, Item, R};

const STR: u8 = b's';
const I64: u8 = b'i';
const F64: u8 = b'f';
const BOOL: u8 = b'b';
const OBJ: u8 = b'o';
const LIST: u8 = b'l';
/// Deepest nesting walked (msgspec wrote the lines, under its own guard).
const DEPTH: usize = 64;

/// One column under construction: validity, offsets (strings, lists), data (string bytes, LE
/// numbers, a byte a boolean); a struct's fields (``names``/``kids``) or a list's item (``kids[0]``).
struct Node {
    kind: u8,
    len: usize,
    nulls: usize,
    valid: Vec<u8>,
    offsets: Vec<i32>,
    data: Vec<u8>,
    names: Vec<Vec<u8>>,
    kids: Vec<Node>,
    items: usize,
}

impl Node {
    fn new(kind: u8) -> Self {
        let offsets = if kind == STR || kind == LIST { vec![0] } else { Vec::new() };
        Node { kind, len: 0, nulls: 0, valid: Vec::new(), offsets, data: Vec::new(), names: Vec::new(), kids: Vec::new(),
               items: 0 }
    }

    #[inline(always)]
    fn bit(&mut self, set: bool) {
        push_bit(&mut self.valid, &mut self.len, &mut self.nulls, set);
    }

    /// Null rows up to ``n`` rows (a struct's fields are padded when it is finished).
    fn pad(&mut self, n: usize) {
        while self.len < n {
            match self.kind {
                STR => self.offsets.push(*self.offsets.last().unwrap_or(&0)),
                LIST => self.offsets.push(*self.offsets.last().unwrap_or(&0)),
                I64 | F64 => self.data.extend_from_slice(&[0; 8]),
                BOOL => self.data.push(0),
                _ => {}
            }
            self.bit(false);
        }
    }

    fn finish(&mut self) {
        if self.kind == OBJ {
            let n = self.len;
            for kid in &mut self.kids {
                kid.pad(n);
                kid.finish();
            }
        } else if let Some(item) = self.kids.first_mut() {
            item.finish();
        }
    }
}

/// The kind of the value at ``i`` (None for ``null``).
fn kind_of(b: &[u8], i: usize) -> R<u8> {
    match at(b, i)? {
        b'"' => Ok(STR),
        b'{' => Ok(OBJ),
        b'[' => Ok(LIST),
        b't' | b'f' => Ok(BOOL),
        b'-' | b'0'..=b'9' => {
            let (_, float) = number(b, i)?;
            Ok(if float { F64 } else { I64 })
        }
        _ => Err(Irregular),
    }
}

/// End of the number at ``i`` and whether it has a fraction or an exponent.
#[inline]
fn number(b: &[u8], i: usize) -> R<(usize, bool)> {
    let mut j = i;
    let mut float = false;
    while let Some(&c) = b.get(j) {
        match c {
            b'0'..=b'9' | b'-' | b'+' => {}
            b'.' | b'e' | b'E' => float = true,
            _ => break,
        }
        j += 1;
    }
    if j == i {
        return Err(Irregular);
    }
    Ok((j, float))
}

fn offset(n: usize) -> R<i32> {
    i32::try_from(n).map_err(|_| Irregular)
}

/// Append the value at ``i`` to ``node`` (one row); returns the index past it.
fn value(node: &mut Node, b: &[u8], i: usize, depth: usize) -> R<usize> {
    match node.kind {
        STR => {
            if at(b, i)? != b'"' {
                return Err(Irregular);
            }
            let (end, escaped) = skip_string(b, i)?;
            if escaped {
                unescape(&b[i + 1..end - 1], &mut node.data)?;
            } else {
                node.data.extend_from_slice(&b[i + 1..end - 1]);
            }
            let off = offset(node.data.len())?;
            node.offsets.push(off);
            node.bit(true);
            Ok(end)
        }
        I64 | F64 => {
            let (end, float) = number(b, i)?;
            if float != (node.kind == F64) {
                return Err(Irregular); // (an integer and a fraction at one path: Arrow's reader decides)
            }
            let text = std::str::from_utf8(&b[i..end]).map_err(|_| Irregular)?;
            if float {
                let v: f64 = text.parse().map_err(|_| Irregular)?;
                node.data.extend_from_slice(&v.to_le_bytes());
            } else {
                let v: i64 = text.parse().map_err(|_| Irregular)?;
                node.data.extend_from_slice(&v.to_le_bytes());
            }
            node.bit(true);
            Ok(end)
        }
        BOOL => {
            let v = if b.get(i..i + 4) == Some(b"true") {
                true
            } else if b.get(i..i + 5) == Some(b"false") {
                false
            } else {
                return Err(Irregular);
            };
            node.data.push(u8::from(v));
            node.bit(true);
            Ok(i + if v { 4 } else { 5 })
        }
        OBJ => object(node, b, i, depth),
        LIST => list(node, b, i, depth),
        _ => Err(Irregular),
    }
}

fn object(node: &mut Node, b: &[u8], i: usize, depth: usize) -> R<usize> {
    if at(b, i)? != b'{' || depth > DEPTH {
        return Err(Irregular);
    }
    let row = node.len;
    node.bit(true);
    let mut j = i + 1;
    if at(b, j)? == b'}' {
        return Ok(j + 1);
    }
    let mut next = 0; // the field after the last one found: keys mostly come in the same order
    loop {
        let (key, v) = plain_key(b, j)?;
        let k = if node.names.get(next).is_some_and(|n| n == key) {
            next
        } else if let Some(k) = node.names.iter().position(|n| n == key) {
            k
        } else {
            node.names.push(key.to_vec());
            node.kids.push(Node::new(kind_of(b, v)?));
            node.kids.len() - 1
        };
        let kid = &mut node.kids[k];
        if kid.len > row {
            return Err(Irregular); // a key given twice
        }
        kid.pad(row);
        let end = value(kid, b, v, depth + 1)?;
        next = k + 1;
        match at(b, end)? {
            b',' => j = end + 1,
            b'}' => return Ok(end + 1),
            _ => return Err(Irregular),
        }
    }
}

fn list(node: &mut Node, b: &[u8], i: usize, depth: usize) -> R<usize> {
    if at(b, i)? != b'[' || depth > DEPTH {
        return Err(Irregular);
    }
    let mut j = i + 1;
    if at(b, j)? != b']' {
        loop {
            if node.kids.is_empty() {
                let kind = kind_of(b, j)?;
                if kind == LIST {
                    return Err(Irregular);
                }
                node.kids.push(Node::new(kind));
            }
            let end = value(&mut node.kids[0], b, j, depth + 1)?;
            node.items += 1;
            match at(b, end)? {
                b',' => j = end + 1,
                b']' => {
                    j = end;
                    break;
                }
                _ => return Err(Irregular),
            }
        }
    }
    let off = offset(node.items)?;
    node.offsets.push(off);
    node.bit(true);
    Ok(j + 1)
}

/// A finished column for Python: (kind, rows, nulls, validity, offsets, data, field names, children);
/// None when nothing of it is left (see the module docstring).
fn to_py(py: Python<'_>, node: Node) -> PyResult<Option<Py<PyTuple>>> {
    let Node { kind, len, nulls, valid, offsets, data, names, kids, .. } = node;
    let mut out_names: Vec<String> = Vec::new();
    let mut out_kids: Vec<Py<PyTuple>> = Vec::new();
    let had = !kids.is_empty();
    for (k, kid) in kids.into_iter().enumerate() {
        if let Some(t) = to_py(py, kid)? {
            if kind == OBJ {
                out_names.push(String::from_utf8_lossy(&names[k]).into_owned());
            }
            out_kids.push(t);
        }
    }
    if (kind == LIST && out_kids.is_empty()) || (kind == OBJ && had && out_kids.is_empty()) {
        return Ok(None);
    }
    let valid = if nulls > 0 { Some(buf(py, valid)?) } else { None };
    let offsets = if kind == STR || kind == LIST { Some(offsets_buf(py, offsets)?) } else { None };
    let data = match kind {
        STR | I64 | F64 => Some(buf(py, data)?),
        BOOL => {
            let mut bits = vec![0u8; len.div_ceil(8)];
            for (r, &v) in data.iter().enumerate() {
                bits[r / 8] |= v << (r % 8);
            }
            Some(buf(py, bits)?)
        }
        _ => None,
    };
    let t = (kind, len, nulls, valid, offsets, data, out_names, out_kids).into_pyobject(py)?;
    Ok(Some(t.unbind()))
}

/// Top-level columns as (name, column) pairs (see ``to_py``).
type Columns = Vec<(String, Py<PyTuple>)>;

/// The lines' columns, or None when a line is declined.
#[pyfunction]
pub(crate) fn json_rows(py: Python<'_>, lines: &Bound<'_, PyList>) -> PyResult<Option<Columns>> {
    let items = byte_items(lines)?;
    let slices: Vec<&[u8]> = items.iter().map(Item::slice).collect();
    let root = py.detach(|| -> R<Node> {
        let mut root = Node::new(OBJ);
        for s in &slices {
            let end = object(&mut root, s, 0, 0)?;
            if end != s.len() {
                return Err(Irregular);
            }
        }
        root.finish();
        Ok(root)
    });
    let Ok(root) = root else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(root.kids.len());
    for (name, kid) in root.names.into_iter().zip(root.kids) {
        if let Some(t) = to_py(py, kid)? {
            out.push((String::from_utf8_lossy(&name).into_owned(), t));
        }
    }
    Ok(Some(out))
}
