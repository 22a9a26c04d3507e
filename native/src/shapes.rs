//! Top-level key signatures of JSON objects: what `secpipe.server.wire._shapes` groups the
//! documents of a request by (their format is detected once per shape), without a Python dict
//! and a `msgspec.Raw` per key of every document.
//!
//! Design: `top_keys` checks each document as one compact JSON object (`valid::value` per
//! top-level value: stricter than msgspec, see valid.rs) in valid UTF-8 whose keys hold no
//! escape; its signature is then each distinct key, in the order of first appearance (as a
//! Python dict keeps them), preceded by a `"` (no key without escapes holds one, so the
//! signature names exactly one key sequence; `{}` gives empty bytes). Any other document gives
//! None: not decided here, the caller decodes it with msgspec as before.
//!
//! Why by hand: no JSON library returns the keys without making their values too; msgspec's
//! `list[dict[str, Raw]]` cost ~2.5-3.4 us a 1.2 KB CloudTrail record, the most costly step of
//! an auto-detected `_bulk` request after the mapping. Every index is checked; no input panics.

use std::collections::HashSet;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::valid;

/// Keys past which the distinct keys are tracked in a hash set (a linear scan below).
const LINEAR_KEYS: usize = 32;

/// The signature of `doc` (see the module docstring), or None when it is not decided here.
pub(crate) fn signature(doc: &[u8]) -> Option<Vec<u8>> {
    if doc.first() != Some(&b'{') || std::str::from_utf8(doc).is_err() {
        return None;
    }
    let mut out = Vec::new();
    if doc.get(1) == Some(&b'}') {
        return (doc.len() == 2).then_some(out);
    }
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut many: Option<HashSet<&[u8]>> = None;
    let mut i = 1;
    loop {
        if doc.get(i) != Some(&b'"') {
            return None;
        }
        let (end, escaped) = valid::string_escaped(doc, i).ok()?;
        if escaped || doc.get(end) != Some(&b':') {
            return None;
        }
        let key = &doc[i + 1..end - 1];
        let new = match many.as_mut() {
            Some(set) => set.insert(key),
            None if seen.contains(&key) => false,
            None => {
                seen.push(key);
                if seen.len() > LINEAR_KEYS {
                    many = Some(seen.drain(..).collect());
                }
                true
            }
        };
        if new {
            out.push(b'"');
            out.extend_from_slice(key);
        }
        let next = valid::value(doc, end + 1).ok()?;
        match doc.get(next) {
            Some(b',') => i = next + 1,
            Some(b'}') if next + 1 == doc.len() => return Some(out),
            _ => return None,
        }
    }
}

/// Per document of ``docs`` (a list of bytes), its top-level key signature or None.
#[pyfunction]
pub(crate) fn top_keys(py: Python<'_>, docs: &Bound<'_, PyList>) -> PyResult<Vec<Option<Py<PyBytes>>>> {
    let mut out = Vec::with_capacity(docs.len());
    for item in docs.iter() {
        let doc = item.cast::<PyBytes>()?;
        out.push(signature(doc.as_bytes()).map(|s| PyBytes::new(py, &s).unbind()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn keys_in_first_order_once() {
        assert_eq!(signature(br#"{"a":1,"b":{"c":2},"a":3}"#), Some(br#""a"b"#.to_vec()));
        assert_eq!(signature(b"{}"), Some(Vec::new()));
        assert_eq!(signature(br#"{"":1}"#), Some(br#"""#.to_vec()));
    }

    #[test]
    fn undecided() {
        for doc in [&br#"{"a": 1}"#[..], br#"{"\u0061":1}"#, br#"{"a":1} "#, br#"{"a":1"#, b"[1]", b"{}x", br#"{"a":01}"#] {
            assert_eq!(signature(doc), None, "{:?}", String::from_utf8_lossy(doc));
        }
        assert_eq!(signature(b"{\"a\":\"\xff\"}"), None);
    }

    #[test]
    fn many_keys_use_the_set() {
        let doc: String = format!("{{{}}}", (0..100).map(|k| format!("\"k{}\":{}", k % 60, k)).collect::<Vec<_>>().join(","));
        let want: Vec<u8> = (0..60).flat_map(|k| format!("\"k{k}").into_bytes()).collect();
        assert_eq!(signature(doc.as_bytes()), Some(want));
    }
}
