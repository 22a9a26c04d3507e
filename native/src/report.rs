//! Scanner report issues walked in one fused pass (`walk_issues`): compact, walk, raw_data, uid.
//!
//! Design: a scanner report (Snyk, Trivy) arrives pretty-printed and msgspec has checked it and
//! handed its issues over as slices (`msgspec.Raw`). Before, each issue was compacted into a bytes
//! object of its own (`compact_each`), walked into columns while its bytes were copied into the
//! raw_data column (`extract` with ``whole``), then read once more to hash its uid (`uids`): four
//! passes over the issues and ~1 GB of fresh memory for a 440 MB report. Here each issue is
//! compacted into a small reused scratch buffer (SSE2 steps over indentation and string bytes),
//! and while it is in the CPU cache it is walked (the `Walker` of `extract`), appended to its
//! class's raw_data column and hashed: one read of the report's bytes and one write of raw_data.
//!
//! Issues may go to one of two classes (Snyk: license issues are compliance findings): a group
//! flagged ``second`` goes to the second class; otherwise, with ``split`` = (spec index of a
//! top-level string path, value, prefix), an issue whose walked value at that path equals
//! ``value`` goes to the second class and any other to the first. An issue starting with
//! ``prefix`` is walked into the second class first; the class a walk contradicts is rolled back
//! and the issue walked into the other, so the split is always the walked value's.
//!
//! Why by hand: see `compact.rs` and `lib.rs` (no crate does a whitespace-only compaction of
//! checked JSON, nor a walk to chosen Arrow columns keeping the record's bytes).
//!
//! Guarantees: per class, the same columns `extract(records, spec, ..., whole=True,
//! uid_prefix=...)` gives for the issues compacted as `compact_each` compacts them (byte for byte
//! what `msgspec.json.format(item, indent=-1)` gives for valid JSON), with each uid hashed over
//! ``uid_prefix``, the group's context, the issue's ordinal in its group (decimal), a NUL and the
//! compact issue (as `uids` with contexts ``context + ordinal``). None when any issue is irregular
//! for the walker or not UTF-8, or a raw_data column would pass 2 GiB: the caller's path decides.
//! Inputs are read in bounds whatever they hold.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};
use sha2::{Digest, Sha256};

use crate::{build, hex_prefix, to_py, Buffers, Col, Irregular, Names, Obj, Walker, R};

#[inline(always)]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// Bits of the 16 bytes at ``j``: (whitespace, quote or backslash); None past the end or without SSE2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classes16(b: &[u8], j: usize) -> Option<(u32, u32)> {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    let chunk = b.get(j..j + 16)?;
    // SAFETY: ``chunk`` holds 16 readable bytes (unaligned load); SSE2 is part of x86-64.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
        let ws = _mm_or_si128(_mm_or_si128(eq(b' '), eq(b'\n')), _mm_or_si128(eq(b'\t'), eq(b'\r')));
        let special = _mm_or_si128(eq(b'"'), eq(b'\\'));
        Some((_mm_movemask_epi8(ws) as u32, _mm_movemask_epi8(special) as u32))
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn classes16(_b: &[u8], _j: usize) -> Option<(u32, u32)> {
    None
}

/// Index just past the string opening at ``i`` (``src.len()`` when it is not closed).
#[inline(always)]
fn string_end(src: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    loop {
        if let Some((_, m)) = classes16(src, j) {
            if m == 0 {
                j += 16;
                continue;
            }
            j += m.trailing_zeros() as usize;
        }
        match src.get(j) {
            Some(b'"') => return j + 1,
            Some(b'\\') => j += 2,
            Some(_) => j += 1,
            None => return src.len(),
        }
    }
}

/// Index of the first byte at or after ``i`` that is not JSON whitespace.
#[inline(always)]
fn skip_ws(src: &[u8], mut i: usize) -> usize {
    loop {
        if let Some((ws, _)) = classes16(src, i) {
            if ws == 0xFFFF {
                i += 16;
                continue;
            }
            return i + (!ws).trailing_zeros() as usize;
        }
        while src.get(i).copied().is_some_and(is_ws) {
            i += 1;
        }
        return i;
    }
}

/// ``src`` with the whitespace between tokens dropped, appended to ``dst``: what `compact_each`
/// gives (strings, escapes and every other byte as they are; an unclosed string kept to the end).
fn compact_into(src: &[u8], dst: &mut Vec<u8>) {
    dst.reserve(src.len());
    let mut i = 0;
    while let Some(&c) = src.get(i) {
        if c == b'"' {
            let end = string_end(src, i);
            dst.extend_from_slice(&src[i..end]);
            i = end;
        } else if is_ws(c) {
            i = skip_ws(src, i + 1);
        } else {
            dst.push(c);
            i += 1;
        }
    }
}

/// One class's walk: its columns, raw_data, uids and the issues it took (their batch-wide numbers).
struct Side<'a> {
    w: Walker<'a>,
    raw: Col,
    hexes: Vec<u8>,
    taken: Vec<usize>,
}

impl<'a> Side<'a> {
    fn new(spec: &[(String, String)], unmapped: &'a [Vec<u8>], known: &[Vec<u8>], reserve: Option<&Vec<usize>>,
           records: usize, bytes: usize) -> Self {
        let modes: Vec<u8> = spec.iter().map(|(_, m)| m.as_bytes().first().copied().unwrap_or(0)).collect();
        let mut cols: Vec<Col> = (0..spec.len()).map(|_| Col::new()).collect();
        for (k, col) in cols.iter_mut().enumerate() {
            col.offsets.reserve(records + 1);
            col.valid.reserve(records / 8 + 1);
            if let Some(b) = reserve.and_then(|r| r.get(k)) {
                col.data.reserve(*b);
            }
        }
        // unmapped and raw_data: what the caller reserves (the last batch's figures), else at most
        // the issues' bytes (virtual memory, touched only as written)
        let n = spec.len();
        let mut out = Col::new();
        out.data.reserve(reserve.and_then(|r| r.get(n)).copied().unwrap_or(bytes + 2 * records));
        let mut raw = Col::new();
        raw.data.reserve(reserve.and_then(|r| r.get(n + 1)).copied().unwrap_or(bytes));
        raw.offsets.reserve(records + 1);
        let w = Walker { cols, modes, unmapped_names: unmapped, unmapped_index: Names::new(unmapped.iter().map(Vec::as_slice)),
                         unmapped: out, known: Names::new(known.iter().map(Vec::as_slice)), strict: false };
        Side { w, raw, hexes: Vec::with_capacity(records * 32), taken: Vec::with_capacity(records) }
    }

    /// Walk the compact issue ``rec`` (all of it), or roll the columns back and say so.
    fn walk(&mut self, rec: &[u8], root: &Obj, snaps: &mut Vec<[usize; 5]>) -> bool {
        snaps.clear();
        snaps.extend(self.w.cols.iter().chain([&self.w.unmapped]).map(Col::snapshot));
        if self.w.record(rec, 0, root).is_ok_and(|end| end == rec.len()) {
            return true;
        }
        self.rollback(snaps);
        false
    }

    fn rollback(&mut self, snaps: &[[usize; 5]]) {
        if let Some((last, cols)) = snaps.split_last() {
            for (col, snap) in self.w.cols.iter_mut().zip(cols) {
                col.restore(*snap);
            }
            self.w.unmapped.restore(*last);
        }
    }

    /// Keep the walked issue ``rec``: its raw_data row and uid.
    fn keep(&mut self, rec: &[u8], n: usize, head: &Sha256, ctx: &[u8], ordinal: usize) -> R<()> {
        self.raw.bytes(rec)?;
        let mut h = head.clone();
        h.update(ctx);
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut k = ordinal;
        loop {
            at -= 1;
            digits[at] = b'0' + (k % 10) as u8;
            k /= 10;
            if k == 0 {
                break;
            }
        }
        h.update(&digits[at..]);
        h.update([0u8]);
        h.update(rec);
        hex_prefix(&h.finalize(), &mut self.hexes);
        self.taken.push(n);
        Ok(())
    }

    fn finish(self, py: Python<'_>) -> PyResult<Side_> {
        let cols = self.w.cols.into_iter().map(|c| to_py(py, c)).collect::<PyResult<Vec<_>>>()?;
        Ok((self.taken, cols, to_py(py, self.w.unmapped)?, to_py(py, self.raw)?, PyBytes::new(py, &self.hexes).unbind()))
    }
}

/// A class's result: (the issues it took, one (validity, offsets, data, length, null count) per
/// spec entry, the same for unmapped and for raw_data, the uids as 32 hex digits each).
#[allow(non_camel_case_types)]
type Side_ = (Vec<usize>, Vec<Buffers>, Buffers, Buffers, Py<PyBytes>);

/// A group's issue as passed in: ``bytes`` (borrowed) or another buffer (``msgspec.Raw``,
/// borrowed when it is read-only and contiguous, else copied).
enum Held<'py> {
    Bytes(Bound<'py, PyBytes>),
    Buf(PyBuffer<u8>),
    Owned(Vec<u8>),
}

impl Held<'_> {
    fn slice(&self) -> &[u8] {
        match self {
            Held::Bytes(b) => b.as_bytes(),
            // SAFETY: a read-only, C-contiguous buffer (checked when it was taken) of
            // ``len_bytes`` bytes, exported for as long as ``self`` holds it: valid, never written.
            Held::Buf(buf) => unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, buf.len_bytes()) },
            Held::Owned(v) => v,
        }
    }
}

fn held<'py>(item: Bound<'py, PyAny>) -> PyResult<Held<'py>> {
    match item.cast_into::<PyBytes>() {
        Ok(b) => Ok(Held::Bytes(b)),
        Err(e) => {
            let obj = e.into_inner();
            let buf: PyBuffer<u8> = PyBuffer::get(&obj)?;
            if buf.is_c_contiguous() && buf.readonly() {
                Ok(Held::Buf(buf))
            } else {
                Ok(Held::Owned(buf.to_vec(obj.py())?))
            }
        }
    }
}

/// Walk the issues of a report's groups into the columns of one or two classes (see the module).
///
/// ``groups``: (context: bytes, second: bool, issues: list of JSON texts msgspec has decoded).
/// ``spec``, ``unmapped``, ``known``: as `extract`. ``split``: (spec index of a top-level string
/// path, the value sending an issue to the second class, the prefix that guesses it) or None.
/// ``reserve``: per class, bytes to reserve for each spec entry's data, then for unmapped and for
/// raw_data (or None: at most the issues' bytes for those two). Returns one result per class
/// (see ``Side_``), or None when the walk does not decide an issue.
#[pyfunction]
#[pyo3(signature = (groups, spec, unmapped, known, split, reserve, uid_prefix))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn walk_issues(
    py: Python<'_>,
    groups: &Bound<'_, PyList>,
    spec: Vec<(String, String)>,
    unmapped: Vec<Vec<u8>>,
    known: Vec<Vec<u8>>,
    split: Option<(usize, Vec<u8>, Vec<u8>)>,
    reserve: (Option<Vec<usize>>, Option<Vec<usize>>),
    uid_prefix: Vec<u8>,
) -> PyResult<Option<(Side_, Side_)>> {
    let root = build(&spec)?;
    if let Some((slot, _, _)) = &split {
        if *slot >= spec.len() || spec[*slot].1 != "s" || spec[*slot].0.contains('.') {
            return Err(PyValueError::new_err("split names a top-level string path of the spec"));
        }
    }
    let mut ctxs: Vec<Vec<u8>> = Vec::with_capacity(groups.len());
    let mut seconds: Vec<bool> = Vec::with_capacity(groups.len());
    let mut items: Vec<Vec<Held<'_>>> = Vec::with_capacity(groups.len());
    for g in groups.iter() {
        let g = g.cast_into::<PyTuple>().map_err(|_| PyValueError::new_err("a group is (context, second, issues)"))?;
        let (ctx, second, list): (Vec<u8>, bool, Bound<'_, PyList>) = g.extract()?;
        ctxs.push(ctx);
        seconds.push(second);
        items.push(list.iter().map(held).collect::<PyResult<Vec<_>>>()?);
    }
    let slices: Vec<Vec<&[u8]>> = items.iter().map(|g| g.iter().map(Held::slice).collect()).collect();
    let records: usize = slices.iter().map(Vec::len).sum();
    let bytes: usize = slices.iter().flatten().map(|s| s.len()).sum();
    let second_bytes: usize = slices.iter().zip(&seconds).filter(|(_, s)| **s).flat_map(|(g, _)| g.iter().map(|s| s.len())).sum();
    let mut sides = [
        Side::new(&spec, &unmapped, &known, reserve.0.as_ref(), records, bytes),
        Side::new(&spec, &unmapped, &known, reserve.1.as_ref(), records / 16 + 1, second_bytes.max(bytes / 16)),
    ];
    let ok = py.detach(|| -> R<()> {
        let head = {
            let mut h = Sha256::new();
            h.update(&uid_prefix);
            h
        };
        let mut scratch: Vec<u8> = Vec::new();
        let mut snaps: Vec<[usize; 5]> = Vec::with_capacity(spec.len() + 1);
        let mut n = 0usize;
        for ((group, ctx), &second) in slices.iter().zip(&ctxs).zip(&seconds) {
            for (ordinal, src) in group.iter().enumerate() {
                scratch.clear();
                compact_into(src, &mut scratch);
                let rec = scratch.as_slice();
                std::str::from_utf8(rec).map_err(|_| Irregular)?; // raw_data is a string column
                let side = match &split {
                    _ if second => {
                        if !sides[1].walk(rec, &root, &mut snaps) {
                            return Err(Irregular);
                        }
                        1
                    }
                    None => {
                        if !sides[0].walk(rec, &root, &mut snaps) {
                            return Err(Irregular);
                        }
                        0
                    }
                    Some((slot, value, prefix)) => {
                        let guess = usize::from(rec.starts_with(prefix));
                        if !sides[guess].walk(rec, &root, &mut snaps) {
                            return Err(Irregular);
                        }
                        let got = usize::from(sides[guess].w.cols[*slot].last() == Some(value.as_slice()));
                        if got != guess {
                            sides[guess].rollback(&snaps);
                            if !sides[got].walk(rec, &root, &mut snaps) {
                                return Err(Irregular);
                            }
                        }
                        got
                    }
                };
                sides[side].keep(rec, n, &head, ctx, ordinal)?;
                n += 1;
            }
        }
        Ok(())
    });
    if ok.is_err() {
        return Ok(None);
    }
    let [first, second] = sides;
    Ok(Some((first.finish(py)?, second.finish(py)?)))
}

#[cfg(test)]
mod tests {
    use super::compact_into;

    /// The reference: whitespace dropped outside strings, byte by byte (as `compact.rs` does).
    fn reference(s: &[u8]) -> Vec<u8> {
        let (mut out, mut in_str, mut esc) = (Vec::new(), false, false);
        for &c in s {
            if in_str {
                out.push(c);
                if esc {
                    esc = false;
                } else if c == b'\\' {
                    esc = true;
                } else if c == b'"' {
                    in_str = false;
                }
            } else if c == b'"' {
                in_str = true;
                out.push(c);
            } else if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                out.push(c);
            }
        }
        out
    }

    fn c(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        compact_into(s, &mut out);
        out
    }

    #[test]
    fn drops_whitespace_between_tokens_only() {
        assert_eq!(c(b"{ \"a b\" : [ 1 ,\n\t2 ] ,\r\n \"c\\\" d\": \"e\\\\\" }"), b"{\"a b\":[1,2],\"c\\\" d\":\"e\\\\\"}");
        assert_eq!(c(b"  \"\\u0022 x \"  "), b"\"\\u0022 x \"");
        assert_eq!(c(b" true "), b"true");
    }

    #[test]
    fn matches_the_byte_loop_at_every_length_and_offset() {
        let unit: &[u8] = b"{\n        \"k\": \"a long value with \\\"quotes\\\" and \\\\ and \\n escapes, more than sixteen bytes\",\n  \"n\": [1, 2,\t3]\r\n}";
        for start in 0..unit.len() {
            for end in start..=unit.len() {
                let s = &unit[start..end];
                assert_eq!(c(s), reference(s), "{:?}", String::from_utf8_lossy(s));
            }
        }
        let spaces = [b' '; 40];
        for k in 0..40 {
            let s = [&b"[1,"[..], &spaces[..k], &b"2]"[..]].concat();
            assert_eq!(c(&s), b"[1,2]");
        }
    }
}
