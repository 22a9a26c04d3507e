//! One pass that checks a pretty-printed JSON document, compacts it and finds its top-level
//! members and one top-level array's items (`compact_doc`, for CycloneDX BOMs).
//!
//! Design: scanner SBOMs arrive pretty-printed (a 100k-finding CycloneDX BOM is ~400 MB, a
//! third of it indentation). The sbom format read one in four passes: msgspec's top-level
//! decode (the validity check), `msgspec.json.format` of the `vulnerabilities` array and of
//! the `components` array, then `split_array`'s check of the compact vulnerabilities. Here
//! one pass does it: each token is checked as `valid::value` checks compact JSON (strings by
//! `valid::string_escaped`, numbers by `valid::value` over the token's bytes), copied to the
//! output with the whitespace between tokens dropped, and where each top-level member and
//! each item of the top-level array `key` lies in the output is noted. The caller takes the
//! members as views of the output (no msgspec pass over the top level) and the items as bytes.
//! Whitespace runs are passed 16 bytes a step (SSE2). Bench BOM (408 MB): 0.26 CPU-s, where
//! the four passes took ~1.2.
//!
//! Why by hand: a validator (serde_json, simd-json) re-emits or allocates per value; no crate
//! offers a checked whitespace-only pass that also gives member and item spans.
//!
//! Guarantees: Some only for text that is one JSON value (RFC 8259) with whitespace around
//! its tokens at most; its output is then byte for byte `msgspec.json.format(doc, indent=-1)`
//! (dropping whitespace between tokens is all that formatter does). Stricter than msgspec
//! wherever the two could differ, as `valid::value` is (nesting past `MAX_DEPTH`, a surrogate
//! escape that is not a pair); a refusal (None) means "not decided here": the caller reads
//! the document as before. UTF-8 is not checked (msgspec's formatter does not either). The
//! items are given only when `key` is a top-level key met once, unescaped (no top-level key
//! escaped at all, so msgspec's dict has no other spelling of it), with an array value; the
//! members only for an object with no key escaped (a key's bytes are then its text).
//! Iterative (an explicit stack), every index checked.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::{at, buf, valid, Buf, Irregular, R};

/// Deepest nesting decided here (as `valid::value`).
const MAX_DEPTH: usize = 256;

#[inline(always)]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// Index of the first byte at or after ``i`` that is not JSON whitespace (or the length).
/// After a whitespace byte, a run of spaces (indentation) is passed 16 bytes a step.
#[inline(always)]
fn ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|&c| is_ws(c)) {
        i += 1;
        while let Some(m) = spaces16(b, i) {
            if m != 0xFFFF {
                i += (!m).trailing_zeros() as usize;
                break;
            }
            i += 16;
        }
    }
    i
}

/// Bit k set where ``b[j + k]`` is a space, for the 16 bytes at ``j`` (SSE2, part of x86-64);
/// None past the end, or without SSE2 (the byte loop then passes the run).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn spaces16(b: &[u8], j: usize) -> Option<u32> {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let chunk = b.get(j..j + 16)?;
    // SAFETY: ``chunk`` holds 16 readable bytes (unaligned load); SSE2 is part of x86-64.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        Some(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8))) as u32)
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn spaces16(_b: &[u8], _j: usize) -> Option<u32> {
    None
}

/// The compacted document and where it went.
struct Compacted {
    out: Vec<u8>,
    /// (start, end) in ``out`` of each item of the array ``key``
    items: Vec<(usize, usize)>,
    /// ``key`` was met once, with an array value, and no top-level key is escaped
    plain: bool,
    /// (key start, key end, value start, value end) in ``out`` of each top-level member, in
    /// order (the key without its quotes), when the document is an object
    top: Vec<(usize, usize, usize, usize)>,
    /// no top-level key is escaped
    keys_plain: bool,
}

/// The string at ``i`` (an opening quote) copied to ``out``; the index past it and whether it
/// holds an escape.
#[inline(always)]
fn string(b: &[u8], i: usize, out: &mut Vec<u8>) -> R<(usize, bool)> {
    let (end, escaped) = valid::string_escaped(b, i)?;
    out.extend_from_slice(&b[i..end]);
    Ok((end, escaped))
}

/// The object key at ``i`` (after whitespace) and its colon copied to ``out``; the index of
/// the value (whitespace skipped), and the key's bytes with whether it is escaped.
fn key<'a>(b: &'a [u8], i: usize, out: &mut Vec<u8>) -> R<(usize, &'a [u8], bool)> {
    let i = ws(b, i);
    if at(b, i)? != b'"' {
        return Err(Irregular);
    }
    let (end, escaped) = string(b, i, out)?;
    let colon = ws(b, end);
    if at(b, colon)? != b':' {
        return Err(Irregular);
    }
    out.push(b':');
    Ok((ws(b, colon + 1), &b[i + 1..end - 1], escaped))
}

/// ``b`` checked and compacted, with the items of its top-level array ``key`` (an empty ``key``:
/// of the document when it is an array).
fn compact_checked(b: &[u8], key_name: &[u8]) -> R<Compacted> {
    let mut out = crate::big_vec(b.len());
    let mut items = Vec::new();
    let mut open: Vec<u8> = Vec::new();
    let whole = key_name.is_empty(); // the items are the document's own (a top-level array)
    let level = if whole { 1 } else { 2 }; // open containers while the items are walked
    let (mut met, mut plain) = (usize::from(whole), true);
    let mut target = false; // the top-level key just read is ``key``
    let mut inside = false; // walking the items of ``key``'s array (open.len() == level)
    let mut top: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut keys_plain = true;
    let mut j = ws(b, 0);
    loop {
        // a value starts at j
        if inside && open.len() == level {
            items.push((out.len(), 0));
        }
        if open.len() == 1 && open[0] == b'{' {
            if let Some(last) = top.last_mut() {
                last.2 = out.len(); // a top-level member's value starts
            }
            if target && at(b, j)? != b'[' {
                plain = false;
            }
        }
        match at(b, j)? {
            c @ (b'{' | b'[') => {
                let close = if c == b'{' { b'}' } else { b']' };
                out.push(c);
                let next = ws(b, j + 1);
                if at(b, next)? == close {
                    out.push(close);
                    j = next + 1;
                } else {
                    if open.len() >= MAX_DEPTH {
                        return Err(Irregular);
                    }
                    if c == b'[' && ((open.len() == 1 && target) || (whole && open.is_empty())) {
                        inside = true;
                    }
                    open.push(c);
                    j = if c == b'{' {
                        let start = out.len();
                        let (v, k, escaped) = key(b, next, &mut out)?;
                        if open.len() == 1 {
                            (target, plain) = top_key(k, escaped, key_name, &mut met, plain);
                            keys_plain &= !escaped;
                            top.push((start + 1, out.len() - 2, 0, 0));
                        }
                        v
                    } else {
                        next
                    };
                    continue;
                }
            }
            b'"' => j = string(b, j, &mut out)?.0,
            _ => {
                // a number or literal: its bytes up to the next delimiter, checked as compact JSON
                let mut e = j;
                while b.get(e).is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')) {
                    e += 1;
                }
                let word = &b[j..e];
                if valid::value(word, 0)? != word.len() {
                    return Err(Irregular);
                }
                out.extend_from_slice(word);
                j = e;
            }
        }
        // a value ended at j: close containers until the next value starts
        loop {
            j = ws(b, j);
            if inside && open.len() == level {
                if let Some(last) = items.last_mut() {
                    last.1 = out.len();
                }
            }
            if open.len() == 1 && open[0] == b'{' {
                if let Some(last) = top.last_mut() {
                    last.3 = out.len(); // a top-level member's value ended
                }
            }
            let Some(&c) = open.last() else {
                return if j == b.len() {
                    let plain = plain && met == 1 && (!whole || out.first() == Some(&b'['));
                    Ok(Compacted { out, items, plain, top, keys_plain })
                } else {
                    Err(Irregular)
                };
            };
            match at(b, j)? {
                b',' => {
                    out.push(b',');
                    j = if c == b'{' {
                        let start = out.len();
                        let (v, k, escaped) = key(b, j + 1, &mut out)?;
                        if open.len() == 1 {
                            (target, plain) = top_key(k, escaped, key_name, &mut met, plain);
                            keys_plain &= !escaped;
                            top.push((start + 1, out.len() - 2, 0, 0));
                        }
                        v
                    } else {
                        ws(b, j + 1)
                    };
                    break;
                }
                close @ (b'}' | b']') if close == if c == b'{' { b'}' } else { b']' } => {
                    open.pop();
                    out.push(close);
                    if open.len() + 1 == level {
                        inside = false;
                    }
                    j += 1;
                }
                _ => return Err(Irregular),
            }
        }
    }
}

/// A top-level key read: whether it is ``key`` (counted in ``met``), and ``plain`` still
/// (no top-level key escaped).
#[inline(always)]
fn top_key(k: &[u8], escaped: bool, key_name: &[u8], met: &mut usize, plain: bool) -> (bool, bool) {
    let target = !escaped && k == key_name;
    *met += usize::from(target);
    (target, plain && !escaped)
}

/// The items of the array ``key`` as bytes, when given.
type Items = Option<Vec<Py<PyBytes>>>;
/// The top-level members' (key start, key end, value start, value end), when given.
type Members = Option<Vec<(usize, usize, usize, usize)>>;

/// ``doc`` compacted (as ``msgspec.json.format(doc, indent=-1)``) when it is one valid JSON
/// value, as a read-only buffer, with the items of its top-level array ``key`` as bytes (None
/// when ``key`` is not met exactly once with an array value, or a top-level key is escaped; an
/// empty ``key``: the items of the document itself, None unless it is an array),
/// and where each top-level member lies in the buffer: (key start, key end, value start, value
/// end), the key without its quotes, in document order (None when the document is not an
/// object or a top-level key is escaped). None for a document not decided here (the caller
/// reads it as before); with ``utf8``, also for one that is not UTF-8 (checked on the compacted
/// output while it is in the CPU cache: the whitespace dropped is ASCII, so the document is UTF-8
/// exactly when its output is; a caller's own pass over the pretty document cost ~0.6 us a 5 KB
/// ASFF finding, this one ~0.1).
#[pyfunction]
#[pyo3(signature = (doc, key, utf8=false))]
pub(crate) fn compact_doc(py: Python<'_>, doc: &[u8], key: &[u8], utf8: bool) -> PyResult<Option<(Py<Buf>, Items, Members)>> {
    let checked = |c: Compacted| if !utf8 || std::str::from_utf8(&c.out).is_ok() { Ok(c) } else { Err(Irregular) };
    let Ok(c) = py.detach(|| compact_checked(doc, key).and_then(checked)) else { return Ok(None) };
    let items = c.plain.then(|| c.items.iter().map(|&(s, e)| PyBytes::new(py, &c.out[s..e]).unbind()).collect());
    let object = c.out.first() == Some(&b'{');
    let members = (object && c.keys_plain).then_some(c.top);
    Ok(Some((buf(py, c.out)?, items, members)))
}

#[cfg(test)]
mod tests {
    use super::compact_checked;

    fn c(s: &str, key: &str) -> Option<(String, Option<Vec<String>>)> {
        let got = compact_checked(s.as_bytes(), key.as_bytes()).ok()?;
        let text = |a: usize, b: usize| String::from_utf8(got.out[a..b].to_vec()).unwrap();
        let items = got.plain.then(|| got.items.iter().map(|&(a, b)| text(a, b)).collect());
        Some((text(0, got.out.len()), items))
    }

    #[test]
    fn compacts_and_finds_the_items() {
        let doc = " {\n  \"a\" : [ 1 , {\"b\": [ ] } ],\n  \"v\": [\n {\"x\": \"y z\"} ,[ true, null ], -1.5e3, \"s\" ]\t}\r\n";
        let (out, items) = c(doc, "v").unwrap();
        assert_eq!(out, "{\"a\":[1,{\"b\":[]}],\"v\":[{\"x\":\"y z\"},[true,null],-1.5e3,\"s\"]}");
        assert_eq!(items.unwrap(), ["{\"x\":\"y z\"}", "[true,null]", "-1.5e3", "\"s\""]);
        let got = compact_checked(doc.as_bytes(), b"v").ok().unwrap();
        let text = |a: usize, b: usize| String::from_utf8(got.out[a..b].to_vec()).unwrap();
        let members: Vec<(String, String)> = got.top.iter().map(|&(a, b, c, d)| (text(a, b), text(c, d))).collect();
        assert_eq!(members, [("a".into(), "[1,{\"b\":[]}]".into()), ("v".into(), "[{\"x\":\"y z\"},[true,null],-1.5e3,\"s\"]".into())]);
        assert_eq!(c("{\"v\": []}", "v").unwrap().1.unwrap(), Vec::<String>::new());
        assert_eq!(c("{\"v\": [ {} ]}", "v").unwrap().1.unwrap(), ["{}"]);
    }

    #[test]
    fn long_whitespace_runs() {
        for n in [0, 1, 15, 16, 17, 31, 32, 33, 100] {
            let pad = " ".repeat(n);
            let doc = format!("{pad}{{{pad}\"v\"{pad}:\n{pad}[{pad}1{pad},\t{pad}\"{pad}\"\r\n{pad}]{pad}}}{pad}");
            assert_eq!(c(&doc, "v").unwrap(), (format!("{{\"v\":[1,\"{pad}\"]}}"), Some(vec!["1".into(), format!("\"{pad}\"")])));
        }
    }

    #[test]
    fn items_only_for_one_plain_array() {
        assert_eq!(c("{\"v\": null}", "v").unwrap().1, None);
        assert_eq!(c("{\"v\": [1], \"v\": [2]}", "v").unwrap().1, None);
        assert_eq!(c("{\"\\u0076\": [1]}", "v").unwrap().1, None);
        assert_eq!(c("{\"w\": [1]}", "v").unwrap().1, None);
        assert_eq!(c("[[1]]", "v").unwrap().1, None);
        assert_eq!(c("{\"w\": {\"v\": [1]}, \"v\": [2]}", "v").unwrap().1.unwrap(), ["2"]);
    }

    #[test]
    fn items_of_a_top_level_array() {
        assert_eq!(c(" [\n {\"a\": [1, {\"b\": 2}]} ,\n [ 3 ], \"s\", 4 ]\n", "").unwrap(),
                   ("[{\"a\":[1,{\"b\":2}]},[3],\"s\",4]".into(),
                    Some(vec!["{\"a\":[1,{\"b\":2}]}".into(), "[3]".into(), "\"s\"".into(), "4".into()])));
        assert_eq!(c("[ ]", "").unwrap().1.unwrap(), Vec::<String>::new());
        assert_eq!(c("[{}]", "").unwrap().1.unwrap(), ["{}"]);
        assert_eq!(c("{\"v\": [1]}", "").unwrap().1, None);
        assert_eq!(c("\"x\"", "").unwrap().1, None);
        assert_eq!(c("[[1], [2]]", "v").unwrap().1, None);
    }

    #[test]
    fn refuses_what_is_not_json() {
        for s in ["", " ", "[1 2]", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "tru e", "- 1", "1 .5", "01", "[01]", "1.", "\"a\" \"b\"",
                  "[\"a\\x\"]", "[\"\\ud800\"]", "[\"\u{1}\"]", "{1:2}", "[}", "{]", "[", "{", "nul", "[truex]", "1e", "[+1]",
                  "[1]x", "\u{b}1", "{\"a\":1}}", "[Infinity]", "[NaN]"] {
            assert!(c(s, "v").is_none(), "{s:?}");
        }
        let deep = "[".repeat(258) + &"]".repeat(258); // 257 open (the innermost is empty)
        assert!(c(&deep, "v").is_none());
        let ok = "[".repeat(257) + &"]".repeat(257);
        assert!(c(&ok, "v").is_some());
    }
}
