//! Scanner report issues walked in one fused pass: compact, walk, raw_data, uid (`walk_issues`,
//! `walk_report` + `issue_uids`; `compact_into` is the compactor alone, which `compact_each` also uses).
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
//! `walk_report` goes further for a whole Snyk or Trivy report as it came: msgspec no longer
//! reads the issues before the walk (it decodes only the skeleton, the report with its issue
//! lists emptied), so each issue's compaction refuses whitespace between two tokens that are not
//! punctuation (the one error dropping whitespace could hide) and its walk is strict (the check
//! that it is JSON); the uids are hashed afterwards from raw_data (`issue_uids`), once the
//! skeleton gave each list its context (Snyk writes a project's name after its issues).
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

use crate::{build, hex_prefix, skip_value, to_py, Buffers, Col, Irregular, Names, Obj, Walker, R};

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
pub(crate) fn compact_into(src: &[u8], dst: &mut Vec<u8>) {
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
           records: usize, bytes: usize, strict: bool) -> Self {
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
        let w = Walker::new(cols, modes, unmapped, Names::new(known.iter().map(Vec::as_slice)), out, strict);
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
        self.taken.push(n);
        hash_into(rec, head, ctx, ordinal, &mut self.hexes);
        Ok(())
    }

    fn finish(self, py: Python<'_>) -> PyResult<Side_> {
        let cols = self.w.cols.into_iter().map(|c| to_py(py, c)).collect::<PyResult<Vec<_>>>()?;
        Ok((self.taken, cols, to_py(py, self.w.unmapped)?, to_py(py, self.raw)?, PyBytes::new(py, &self.hexes).unbind()))
    }
}

/// An issue's uid (see the module) appended to ``out`` as 32 hex digits.
fn hash_into(rec: &[u8], head: &Sha256, ctx: &[u8], ordinal: usize, out: &mut Vec<u8>) {
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
    hex_prefix(&h.finalize(), out);
}

/// Walk the compact issue ``rec`` into its class (see the module); returns the class.
fn place(sides: &mut [Side<'_>; 2], rec: &[u8], second: bool, split: &Option<(usize, Vec<u8>, Vec<u8>)>, root: &Obj,
         snaps: &mut Vec<[usize; 5]>) -> R<usize> {
    let guess = match split {
        _ if second => 1,
        None => 0,
        Some((_, _, prefix)) => usize::from(rec.starts_with(prefix)),
    };
    if !sides[guess].walk(rec, root, snaps) {
        return Err(Irregular);
    }
    let Some((slot, value, _)) = split.as_ref().filter(|_| !second) else {
        return Ok(guess);
    };
    let got = usize::from(sides[guess].w.cols[*slot].last() == Some(value.as_slice()));
    if got != guess {
        sides[guess].rollback(snaps);
        if !sides[got].walk(rec, root, snaps) {
            return Err(Irregular);
        }
    }
    Ok(got)
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
        Side::new(&spec, &unmapped, &known, reserve.0.as_ref(), records, bytes, false),
        Side::new(&spec, &unmapped, &known, reserve.1.as_ref(), records / 16 + 1, second_bytes.max(bytes / 16), false),
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
                let side = place(&mut sides, rec, second, &split, &root, &mut snaps)?;
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


/// A JSON byte that is punctuation: whitespace may stand next to it (between two other tokens
/// it never may: ``1 2`` is not JSON, though dropping the space would make it so).
#[inline(always)]
fn structural(c: u8) -> bool {
    matches!(c, b'{' | b'}' | b'[' | b']' | b',' | b':')
}

/// The value (an object or array) opening at ``j`` of ``src`` compacted into ``dst``; the index
/// just past it. Checked as far as compaction could hide an error: whitespace between two tokens
/// that are not punctuation is irregular; the rest is the strict walk's to check.
fn compact_value(src: &[u8], j: usize, dst: &mut Vec<u8>) -> R<usize> {
    let mut depth = 0usize;
    let mut i = j;
    loop {
        let c = *src.get(i).ok_or(Irregular)?;
        match c {
            b'"' => {
                let end = string_end(src, i);
                if end >= src.len() {
                    return Err(Irregular); // unclosed, or the document ends with the value
                }
                dst.extend_from_slice(&src[i..end]);
                i = end;
            }
            b' ' | b'\t' | b'\n' | b'\r' => {
                let k = skip_ws(src, i + 1);
                let next = *src.get(k).ok_or(Irregular)?;
                if dst.last().is_some_and(|&p| !structural(p)) && !structural(next) {
                    return Err(Irregular);
                }
                i = k;
            }
            b'{' | b'[' => {
                depth += 1;
                dst.push(c);
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1).ok_or(Irregular)?;
                dst.push(c);
                i += 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {
                dst.push(c);
                i += 1;
            }
        }
    }
}

/// Index just past the value at ``i`` of pretty JSON (not checked: the skeleton's decode checks
/// it): a string or container as ``skip_value`` passes over it (whitespace inside a container is
/// passed over too), a scalar up to the whitespace or punctuation after it.
fn skip_any(b: &[u8], i: usize) -> R<usize> {
    if matches!(b.get(i), Some(b'"' | b'{' | b'[')) {
        return skip_value(b, i);
    }
    let mut j = i;
    while b.get(j).is_some_and(|&c| !is_ws(c) && !matches!(c, b',' | b'}' | b']')) {
        j += 1;
    }
    Ok(j)
}

const ISSUE_KEYS: [&[u8]; 2] = [b"vulnerabilities", b"infrastructureAsCodeIssues"];

/// One pass over a scanner report as it came (see ``walk_report``).
struct Nav<'a, 'b> {
    b: &'a [u8],
    skeleton: Vec<u8>,
    /// start of the bytes not yet copied into ``skeleton``
    mark: usize,
    /// the issue lists in document order
    arrays: Vec<List>,
    sides: [Side<'b>; 2],
    root: &'a Obj,
    split: &'a Option<(usize, Vec<u8>, Vec<u8>)>,
    snaps: Vec<[usize; 5]>,
    n: usize,
}

impl<'a> Nav<'a, '_> {
    fn ws(&self, i: usize) -> usize {
        skip_ws(self.b, i)
    }

    fn at(&self, i: usize) -> R<u8> {
        self.b.get(i).copied().ok_or(Irregular)
    }

    /// The whole document, whitespace around it: a Snyk project object or an array of them, or
    /// (``trivy``) a Trivy report object.
    fn document(&mut self, trivy: bool) -> R<()> {
        let i = self.ws(0);
        let end = match (self.at(i)?, trivy) {
            (b'{', false) => self.project(i, 0, -1)?,
            (b'[', false) => {
                let (end, projects) = self.items(i, |nav, j, k| nav.project(j, k as usize, -1))?;
                if projects == 0 {
                    return Err(Irregular); // no project: the usual path says what that is
                }
                end
            }
            (b'{', true) => self.trivy_report(i)?,
            _ => return Err(Irregular),
        };
        if self.ws(end) != self.b.len() {
            return Err(Irregular);
        }
        self.skeleton.extend_from_slice(&self.b[self.mark..]);
        Ok(())
    }

    /// Over the members of the object at ``i``: ``value(nav, key, at)`` passes over each value and
    /// returns the index just past it. An escaped key is irregular (msgspec matches it unescaped).
    fn members(&mut self, i: usize, mut value: impl FnMut(&mut Self, &'a [u8], usize) -> R<usize>) -> R<usize> {
        let b = self.b;
        if self.at(i)? != b'{' {
            return Err(Irregular);
        }
        let mut j = self.ws(i + 1);
        if self.at(j)? == b'}' {
            return Ok(j + 1);
        }
        loop {
            if self.at(j)? != b'"' {
                return Err(Irregular);
            }
            let kend = string_end(b, j);
            let key = b.get(j + 1..kend.saturating_sub(1)).ok_or(Irregular)?;
            if kend >= b.len() || key.contains(&b'\\') {
                return Err(Irregular);
            }
            let c = self.ws(kend);
            if self.at(c)? != b':' {
                return Err(Irregular);
            }
            let v = self.ws(c + 1);
            let end = value(self, key, v)?;
            j = self.ws(end);
            match self.at(j)? {
                b',' => j = self.ws(j + 1),
                b'}' => return Ok(j + 1),
                _ => return Err(Irregular),
            }
        }
    }

    /// Over the items of the array at ``v``, each an object: ``item(nav, at, k)``; (the index just
    /// past the array, the items).
    fn items(&mut self, v: usize, mut item: impl FnMut(&mut Self, usize, i64) -> R<usize>) -> R<(usize, i64)> {
        let mut j = self.ws(v + 1);
        if self.at(j)? == b']' {
            return Ok((j + 1, 0));
        }
        let mut k = 0i64;
        loop {
            if self.at(j)? != b'{' {
                return Err(Irregular);
            }
            let end = item(self, j, k)?;
            j = self.ws(end);
            k += 1;
            match self.at(j)? {
                b',' => j = self.ws(j + 1),
                b']' => return Ok((j + 1, k)),
                _ => return Err(Irregular),
            }
        }
    }

    /// A Snyk project object at ``i`` (top-level project ``top``, its application ``app`` or -1):
    /// its issue lists walked, its applications' too.
    fn project(&mut self, i: usize, top: usize, app: i64) -> R<usize> {
        // a key written twice, whatever its values (a list then null): msgspec keeps the last
        let mut seen = [false; 3];
        self.members(i, |nav, key, v| {
            let list = ISSUE_KEYS.iter().position(|k| *k == key);
            let apps = key == b"applications" && app < 0;
            if let Some(k) = list.or(if apps { Some(2) } else { None }) {
                if std::mem::replace(&mut seen[k], true) {
                    return Err(Irregular);
                }
            }
            if let (Some(k), b'[') = (list, nav.at(v)?) {
                nav.issues(v, top, app, k as u8)
            } else if apps && nav.at(v)? == b'[' {
                Ok(nav.items(v, |nav, j, k| nav.project(j, top, k))?.0)
            } else {
                skip_any(nav.b, v)
            }
        })
    }

    /// A Trivy report object at ``i``: each result's ``Vulnerabilities`` walked (list 0 of
    /// project ``result``, application -1).
    fn trivy_report(&mut self, i: usize) -> R<usize> {
        let mut seen = false;
        self.members(i, |nav, key, v| {
            if let Some(end) = nav.other(key, b"Results", v, &mut seen)? {
                return Ok(end);
            }
            Ok(nav.items(v, |nav, j, result| {
                let mut vulns = false;
                nav.members(j, |nav, key, v| match nav.other(key, b"Vulnerabilities", v, &mut vulns)? {
                    Some(end) => Ok(end),
                    None => nav.issues(v, result as usize, -1, 0),
                })
            })?
            .0)
        })
    }

    /// None when the member ``key`` at ``v`` is the array ``want``, else the index just past the
    /// value. ``want`` written twice, whatever its values (a list then null), is irregular:
    /// msgspec keeps the last (``seen`` is set at the first).
    fn other(&self, key: &[u8], want: &[u8], v: usize, seen: &mut bool) -> R<Option<usize>> {
        if key == want && std::mem::replace(seen, true) {
            return Err(Irregular);
        }
        if key != want || self.at(v)? != b'[' {
            return skip_any(self.b, v).map(Some);
        }
        Ok(None)
    }

    /// An issue list at ``v``: each issue compacted, walked strictly and kept; the list's items
    /// left out of the skeleton (``[]`` stays).
    fn issues(&mut self, v: usize, top: usize, app: i64, list: u8) -> R<usize> {
        if let Some(&(t, a, l, _)) = self.arrays.last() {
            if (t, a, l) >= (top, app, list) {
                return Err(Irregular); // not in the order the mapping numbers issues
            }
        }
        self.skeleton.extend_from_slice(&self.b[self.mark..v + 1]);
        let mut j = self.ws(v + 1);
        let mut count = 0usize;
        if self.at(j)? != b']' {
            loop {
                if self.at(j)? != b'{' {
                    return Err(Irregular);
                }
                // compacted straight into the raw_data of the class it is likely to go to (the
                // walk reads it there, in the CPU cache), moved when the walk says otherwise
                let guess = usize::from(list == 1);
                let mut raw = std::mem::take(&mut self.sides[guess].raw.data);
                let start = raw.len();
                let end = compact_value(self.b, j, &mut raw)?;
                let rec = &raw[start..];
                std::str::from_utf8(rec).map_err(|_| Irregular)?;
                let side = place(&mut self.sides, rec, list == 1, self.split, self.root, &mut self.snaps)?;
                if side != guess {
                    self.sides[side].raw.bytes(rec)?;
                    raw.truncate(start);
                }
                self.sides[guess].raw.data = raw;
                if side == guess {
                    self.sides[side].raw.end(true)?;
                }
                self.sides[side].taken.push(self.n);
                self.n += 1;
                count += 1;
                j = self.ws(end);
                match self.at(j)? {
                    b',' => j = self.ws(j + 1),
                    b']' => break,
                    _ => return Err(Irregular),
                }
            }
        }
        self.mark = j;
        self.arrays.push((top, app, list, count));
        Ok(j + 1)
    }
}

/// A class's result without uids (see ``Side_``).
type Walked = (Vec<usize>, Vec<Buffers>, Buffers, Buffers);
/// An issue list: (top-level project, application or -1, 0 vulnerabilities / 1 IaC, issues).
type List = (usize, i64, u8, usize);
/// What ``walk_report`` returns: (skeleton, lists in document order, per class).
type Report = (Py<PyBytes>, Vec<List>, (Walked, Walked));

/// A Snyk report as it came (pretty or not), walked in one pass: each issue of every project's
/// ``vulnerabilities`` and ``infrastructureAsCodeIssues`` (also those of its ``applications``)
/// compacted, walked strictly (the walk is the check that it is JSON) into its class's columns
/// (see ``walk_issues``; an IaC issue in the second class) and copied into that class's raw_data.
/// With ``layout`` ``trivy``, a Trivy report object: the ``Vulnerabilities`` of each of its
/// ``Results`` (result k is project k, list 0).
///
/// Returns (the skeleton: the document with those lists emptied, for msgspec to decode and check;
/// the lists as (top-level project, application or -1, 0 vulnerabilities / 1 IaC, issues) in
/// document order; per class (issues taken, columns, unmapped, raw_data)), or None for anything
/// this does not decide as msgspec and the usual path would (a key written twice or escaped, an
/// issue that is not an object or not regular, lists not in project order, a document that is
/// not a project or a non-empty array of project objects, or a Trivy report object): the caller
/// reads it the usual way.
/// Issues are numbered in document order; their uids are made by ``issue_uids`` once the
/// skeleton gave each list its context. Whatever is not in an issue list stays in the skeleton,
/// so a document that is not JSON gives a skeleton that is not JSON either.
#[pyfunction]
#[pyo3(signature = (doc, spec, unmapped, known, split, reserve, layout="snyk"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn walk_report(
    py: Python<'_>,
    doc: &[u8],
    spec: Vec<(String, String)>,
    unmapped: Vec<Vec<u8>>,
    known: Vec<Vec<u8>>,
    split: Option<(usize, Vec<u8>, Vec<u8>)>,
    reserve: (Option<Vec<usize>>, Option<Vec<usize>>),
    layout: &str,
) -> PyResult<Option<Report>> {
    let trivy = match layout {
        "snyk" => false,
        "trivy" => true,
        _ => return Err(PyValueError::new_err("layout is snyk or trivy")),
    };
    let root = build(&spec)?;
    if let Some((slot, _, _)) = &split {
        if *slot >= spec.len() || spec[*slot].1 != "s" || spec[*slot].0.contains('.') {
            return Err(PyValueError::new_err("split names a top-level string path of the spec"));
        }
    }
    let records = doc.len() / 2048 + 1; // a Snyk issue is a few KB: rows grow past this as usual
    let sides = [
        Side::new(&spec, &unmapped, &known, reserve.0.as_ref(), records, doc.len(), true),
        Side::new(&spec, &unmapped, &known, reserve.1.as_ref(), records / 16 + 1, doc.len() / 16, true),
    ];
    let mut nav = Nav { b: doc, skeleton: Vec::new(), mark: 0, arrays: Vec::new(), sides, root: &root, split: &split,
                        snaps: Vec::with_capacity(spec.len() + 1), n: 0 };
    if py.detach(|| nav.document(trivy)).is_err() {
        return Ok(None);
    }
    let Nav { skeleton, arrays, sides, .. } = nav;
    let mut out = Vec::with_capacity(2);
    for side in sides {
        let cols = side.w.cols.into_iter().map(|c| to_py(py, c)).collect::<PyResult<Vec<_>>>()?;
        out.push((side.taken, cols, to_py(py, side.w.unmapped)?, to_py(py, side.raw)?));
    }
    let second = out.pop();
    let first = out.pop();
    match (first, second) {
        (Some(a), Some(b)) => Ok(Some((PyBytes::new(py, &skeleton).unbind(), arrays, (a, b)))),
        _ => Ok(None),
    }
}

/// The uids of issues ``walk_report`` walked: for each of ``taken`` (issue numbers, ascending),
/// the issue in row k of the raw_data column (``offsets``: int32, ``data``) hashed as
/// ``walk_issues`` hashes it, with its list's context (``contexts[g]`` for the ``counts[g]``
/// issues of list g, numbered on across the lists) and its ordinal in that list.
#[pyfunction]
pub(crate) fn issue_uids(py: Python<'_>, prefix: &[u8], contexts: Vec<Vec<u8>>, counts: Vec<usize>, taken: Vec<usize>,
                         offsets: &Bound<'_, PyAny>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyBytes>> {
    let off = held(offsets.clone())?;
    let dat = held(data.clone())?;
    let (off, dat) = (off.slice(), dat.slice());
    if contexts.len() != counts.len() || off.len() < 4 * (taken.len() + 1) {
        return Err(PyValueError::new_err("one context per list, one offset per issue and one more"));
    }
    let hexes = py.detach(|| -> R<Vec<u8>> {
        let head = {
            let mut h = Sha256::new();
            h.update(prefix);
            h
        };
        let row = |k: usize| -> R<usize> {
            let b = off.get(4 * k..4 * k + 4).ok_or(Irregular)?;
            usize::try_from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])).map_err(|_| Irregular)
        };
        let mut out = Vec::with_capacity(taken.len() * 32);
        let (mut g, mut first) = (0usize, 0usize);
        for (k, &n) in taken.iter().enumerate() {
            while g < counts.len() && n >= first + counts[g] {
                first += counts[g];
                g += 1;
            }
            let ctx = contexts.get(g).ok_or(Irregular)?;
            let rec = dat.get(row(k)?..row(k + 1)?).ok_or(Irregular)?;
            hash_into(rec, &head, ctx, n - first, &mut out);
        }
        Ok(out)
    });
    match hexes {
        Ok(h) => Ok(PyBytes::new(py, &h).unbind()),
        Err(_) => Err(PyValueError::new_err("an issue number past the lists, or offsets past the data")),
    }
}

#[cfg(test)]
mod tests {
    use super::{compact_into, compact_value};

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
        for s in ["\"", "\"\\", "\"abc\\", "{\"a\":\"\\\"", "\\\"", " \" \\\" "] {
            assert_eq!(c(s.as_bytes()), reference(s.as_bytes()), "{s:?}"); // unclosed strings, a dangling backslash
        }
        let spaces = [b' '; 40];
        for k in 0..40 {
            let s = [&b"[1,"[..], &spaces[..k], &b"2]"[..]].concat();
            assert_eq!(c(&s), b"[1,2]");
        }
    }

    #[test]
    fn a_value_compacts_as_the_byte_loop_and_hides_no_error() {
        let doc: &[u8] = b"{ \"a\" : [ 1 , 2.5e3 , true , null , \"x y\" ] ,\n  \"b\":{\"c\":\"\\\" ]\"} } , 7";
        let mut out = Vec::new();
        let end = compact_value(doc, 0, &mut out).unwrap_or(0);
        assert_eq!(&doc[end..], b" , 7");
        assert_eq!(out, reference(&doc[..end]));
        for bad in [&b"{\"a\": 1 2}"[..], b"{\"a\": tr ue}", b"{\"a\": \"x\" \"y\"}", b"{\"a\": [1 .5]}", b"{\"a\": 1", b"}"] {
            assert!(compact_value(bad, 0, &mut Vec::new()).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
