//! GitHub audit-log events to Arrow column buffers in one pass (``github_audit_walk``).
//!
//! Design: the records are canonical (compact, valid JSON, UTF-8: out of the split, or lines
//! of an NDJSON document checked by ``HookScanner.lines``). Each record's top-level object is
//! walked once with the ``Walker`` of ``extract`` (typed leaves, nested objects, unescaping),
//! but its ``unmapped`` keeps the top-level entries the spec does not drop *in document
//! order*, as ``formats._github_map`` builds it from msgspec's ``dict[str, Raw]`` (``extract``
//! puts its extra keys sorted), and the record is told apart as an audit event or not on the
//! way: an audit event has no ``sender``, has ``action`` and a string ``actor``; any other
//! record is rolled back out of the columns and set aside (the caller maps it as a webhook or
//! dead-letters it), as soon as the walk knows it (a ``sender`` key ends its walk). The kept
//! records' raw_data column and uids are made in the same pass, while each is in the CPU cache.
//!
//! Guarantees: what a kept record gives is what msgspec decodes of it typed as
//! ``formats.github._Audit`` and ``_github_map._Request`` (``ids``: raw leaves that must be an
//! int, a string or null, GitHub's ``int | str`` ids). Anything the walk does not decide the
//! same way (a value of another type than its mode, a duplicate or escaped top-level key, a
//! duplicate key of a spec object, a lone surrogate, a record that is not UTF-8) makes the
//! pass report the record as irregular (``bad`` >= 0, no columns), and the caller maps the
//! whole batch on its msgspec path. No input reads out of bounds or panics.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use sha2::{Digest, Sha256};

use crate::{at, build, byte_items, hex_prefix, skip_value, to_py, Buffers, Col, Irregular, Item, Names,
            Node, Obj, Walker, MAX_KEYS, R};

/// (index of the first irregular record or -1, one (validity, offsets, data, length, null
/// count) per spec entry, the same for unmapped and for raw_data, the indexes set aside, the
/// kept records' uids as 32 hex digits each).
type Walked = (i64, Vec<Buffers>, Buffers, Buffers, Vec<usize>, Py<PyBytes>);

/// Walk GitHub audit-log records into columns.
///
/// ``spec``: (dotted path, mode) pairs as for ``extract``; its top-level keys are left out of
/// ``unmapped`` but those named in ``keep``, which stay there too (in document order, with the
/// keys the spec does not name). ``ids``: top-level raw paths whose value must be a JSON
/// integer, string or null. ``uid_prefix``: the uid hash's prefix (``base.uid_prefix``).
/// The spec must name ``action`` and ``actor`` (mode ``s``).
#[pyfunction]
pub(crate) fn github_audit_walk(py: Python<'_>, records: &Bound<'_, PyList>, spec: Vec<(String, String)>, keep: Vec<Vec<u8>>,
                                ids: Vec<Vec<u8>>, uid_prefix: Vec<u8>) -> PyResult<Walked> {
    let raws = byte_items(records)?;
    let slices: Vec<&[u8]> = raws.iter().map(Item::slice).collect();
    walk_all(py, &slices, &spec, &keep, &ids, &uid_prefix)
}

/// ``github_audit_walk`` over the lines of an NDJSON document, none copied: each non-blank
/// line (trimmed) is a record, as ``HookScanner.lines`` and ``base.split_json_records`` read
/// them. ``bad`` is 0 (no columns) when a line is not one compact JSON object (the caller
/// splits the document); a line that is not UTF-8 is irregular.
#[pyfunction]
pub(crate) fn github_audit_doc(py: Python<'_>, data: &[u8], spec: Vec<(String, String)>, keep: Vec<Vec<u8>>,
                               ids: Vec<Vec<u8>>, uid_prefix: Vec<u8>) -> PyResult<Walked> {
    let spans = py.detach(|| crate::line_spans(data));
    if spans.iter().any(|&(_, _, _, ok)| !ok) {
        return Ok((0, Vec::new(), empty(py)?, empty(py)?, Vec::new(), PyBytes::new(py, b"").unbind()));
    }
    let slices: Vec<&[u8]> = spans.iter().map(|&(_, s, e, _)| &data[s..e]).collect();
    walk_all(py, &slices, &spec, &keep, &ids, &uid_prefix)
}

fn empty(py: Python<'_>) -> PyResult<Buffers> {
    to_py(py, Col::new())
}

fn walk_all(py: Python<'_>, slices: &[&[u8]], spec: &[(String, String)], keep: &[Vec<u8>], ids: &[Vec<u8>],
            uid_prefix: &[u8]) -> PyResult<Walked> {
    let root = build(spec)?;
    let total: usize = slices.iter().map(|s| s.len()).sum();
    let role = |name: &[u8]| {
        let mut r = if keep.iter().any(|k| k == name) { KEEP } else { 0 };
        if ids.iter().any(|k| k == name) {
            r |= ID;
        }
        match name {
            b"action" => r | ACTION,
            b"actor" => r | ACTOR,
            _ => r,
        }
    };
    let roles: Vec<u8> = root.keys.iter().map(|(k, _)| role(k)).collect();
    if !roles.iter().any(|r| r & ACTION != 0) || !roles.iter().any(|r| r & ACTOR != 0) {
        return Err(pyo3::exceptions::PyValueError::new_err("the spec names no action or actor"));
    }
    let mut w = Walker::new((0..spec.len()).map(|_| Col::new()).collect(),
                            spec.iter().map(|(_, m)| m.as_bytes().first().copied().unwrap_or(0)).collect(), &[],
                            Names::new(std::iter::empty()), Col::new(), false);
    w.unmapped.data.reserve(total + 2 * slices.len());
    let mut pass = AuditPass { root: &root, roles, rawcol: Col::new(), hexes: Vec::with_capacity(slices.len() * 32),
                               hasher: { let mut h = Sha256::new(); h.update(uid_prefix); h },
                               aside: Vec::new(), extras: Vec::new(), snaps: Vec::with_capacity(spec.len() + 1) };
    pass.rawcol.data.reserve(total);
    let bad = py.detach(|| {
        for (n, rec) in slices.iter().enumerate() {
            match pass.one(&mut w, rec) {
                Ok(true) => {}
                Ok(false) => pass.aside.push(n),
                Err(Irregular) => return n as i64,
            }
        }
        -1
    });
    if bad >= 0 {
        return Ok((bad, Vec::new(), empty(py)?, empty(py)?, Vec::new(), PyBytes::new(py, b"").unbind()));
    }
    let cols = w.cols.into_iter().map(|c| to_py(py, c)).collect::<PyResult<Vec<_>>>()?;
    Ok((bad, cols, to_py(py, w.unmapped)?, to_py(py, pass.rawcol)?, pass.aside, PyBytes::new(py, &pass.hexes).unbind()))
}

/// Roles of a top-level spec key (bits).
const KEEP: u8 = 1; // also stays in unmapped
const ID: u8 = 2; // int | str | null
const ACTION: u8 = 4;
const ACTOR: u8 = 8;

struct AuditPass<'a> {
    root: &'a Obj,
    /// ``role`` bits of each of ``root.keys``
    roles: Vec<u8>,
    rawcol: Col,
    hexes: Vec<u8>,
    hasher: Sha256,
    aside: Vec<usize>,
    /// the columns' sizes before the record, to roll it back; reused
    snaps: Vec<[usize; 5]>,
    /// (key start, key end, value start, value end) of the entries for unmapped; reused
    extras: Vec<(usize, usize, usize, usize)>,
}

impl AuditPass<'_> {
    /// Walk one record: Ok(true) kept (an audit event), Ok(false) set aside (rolled back).
    fn one(&mut self, w: &mut Walker<'_>, b: &[u8]) -> R<bool> {
        self.snaps.clear();
        self.snaps.extend(w.cols.iter().chain([&w.unmapped]).map(Col::snapshot));
        match self.walk(w, b)? {
            true => {
                std::str::from_utf8(b).map_err(|_| Irregular)?;
                self.rawcol.bytes(b)?;
                let mut h = self.hasher.clone();
                h.update(b);
                hex_prefix(&h.finalize(), &mut self.hexes);
                Ok(true)
            }
            false => {
                let (last, cols) = self.snaps.split_last().ok_or(Irregular)?;
                for (col, snap) in w.cols.iter_mut().zip(cols) {
                    col.restore(*snap);
                }
                w.unmapped.restore(*last);
                Ok(false)
            }
        }
    }

    /// The top-level object of ``b`` into the columns and unmapped; false: not an audit event
    /// (the columns are then left partly written: ``one`` rolls them back).
    fn walk(&mut self, w: &mut Walker<'_>, b: &[u8]) -> R<bool> {
        let root = self.root;
        w.marks.clear(); // rows a walk declined left open
        let marks = w.marks(&root.scope);
        self.extras.clear();
        let (mut action, mut actor) = (false, false);
        if at(b, 0)? != b'{' {
            return Err(Irregular);
        }
        let mut j = 1;
        let mut seen = [0u64; MAX_KEYS / 64];
        if at(b, j)? != b'}' {
            loop {
                let mut unescaped = Vec::new();
                let (key, kend, escaped) = w.key(b, j, &mut unescaped)?;
                if key == b"sender" {
                    return Ok(false); // a webhook payload
                }
                let v = kend + 1;
                let found = root.find(key);
                let mut keep = found.is_none();
                let end = match found {
                    Some((n, node)) => {
                        let (word, bit) = (n / 64, 1u64 << (n % 64));
                        if seen[word] & bit != 0 {
                            return Err(Irregular); // a duplicate key: msgspec keeps the last value
                        }
                        seen[word] |= bit;
                        let role = self.roles[n];
                        keep = role & KEEP != 0;
                        if role & ACTOR != 0 {
                            if at(b, v)? != b'"' {
                                return Ok(false); // not a string actor: not an audit event
                            }
                            actor = true;
                        }
                        action |= role & ACTION != 0;
                        let end = match node {
                            Node::Leaf { slot, mode } => w.leaf(b, v, *slot, *mode)?,
                            Node::Obj(child) => w.nested(b, v, child)?,
                            Node::List { slot, item } => w.list(b, v, *slot, item)?,
                        };
                        if role & ID != 0 && !int_str_null(&b[v..end]) {
                            return Err(Irregular); // msgspec's ``int | str`` refuses it: left in unmapped there
                        }
                        end
                    }
                    None => skip_value(b, v)?,
                };
                if keep {
                    if escaped {
                        return Err(Irregular); // an unmapped key is re-encoded by msgspec
                    }
                    self.extras.push((j, kend, v, end));
                }
                match at(b, end)? {
                    b',' => j = end + 1,
                    b'}' => break,
                    _ => return Err(Irregular),
                }
            }
        }
        w.close(&root.scope, marks)?;
        if !(action && actor) {
            return Ok(false);
        }
        let keys = |e: &(usize, usize, usize, usize)| &b[e.0..e.1];
        if self.extras.len() > 1 {
            let mut names: Vec<&[u8]> = self.extras.iter().map(keys).collect();
            names.sort_unstable();
            if names.windows(2).any(|p| p[0] == p[1]) {
                return Err(Irregular); // a duplicate unmapped key
            }
        }
        let out = &mut w.unmapped;
        if self.extras.is_empty() {
            out.null()?;
            return Ok(true);
        }
        for (k, &(ks, ke, v, e)) in self.extras.iter().enumerate() {
            out.data.push(if k == 0 { b'{' } else { b',' });
            out.data.extend_from_slice(&b[ks..ke]);
            out.data.push(b':');
            out.data.extend_from_slice(&b[v..e]);
        }
        out.data.push(b'}');
        out.end(true)?;
        Ok(true)
    }
}

/// A JSON integer (no fraction or exponent), a string or null: what msgspec takes as ``int | str | None``.
fn int_str_null(v: &[u8]) -> bool {
    match v.first() {
        Some(b'"') => true,
        Some(b'-' | b'0'..=b'9') => v.iter().all(|c| c.is_ascii_digit() || *c == b'-'),
        _ => v == b"null",
    }
}

#[cfg(test)]
mod tests {
    use super::int_str_null;

    #[test]
    fn ids_are_ints_strings_or_null() {
        for ok in [&b"1"[..], b"-12", b"0", b"\"x\"", b"null", b"123456789012345678901234"] {
            assert!(int_str_null(ok), "{ok:?}");
        }
        for no in [&b"1.5"[..], b"1e3", b"-1E3", b"true", b"false", b"{}", b"[]", b""] {
            assert!(!int_str_null(no), "{no:?}");
        }
    }
}
