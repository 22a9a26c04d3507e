//! Elasticsearch `_bulk` bodies: the lines and the JSON nesting depth in one pass.
//!
//! Design: `bulk_split` walks the body 64 bytes at a time. Per block it makes bit masks of the
//! bytes that matter (quote, backslash, brackets, newline; SSE2 on x86-64, a byte loop
//! elsewhere); a block without a backslash (nearly every block of a shipper's documents) is
//! settled on those masks: which brackets lie outside strings is a prefix XOR of the quotes,
//! cut at each newline (a line is a text of its own), and only the brackets are visited one by
//! one. A block with a backslash, or one an escape runs into, is walked byte by byte with
//! `json_depth`'s own loop. The newlines found on the way cut the lines as
//! `secpipe.server.es_bulk.bulk_lines` does (trailing blank lines dropped, `\r` trimmed from
//! line ends); when they alternate one action line, the same on every item, and a document
//! line (what shippers send), the action line and the documents come back as bytes objects.
//!
//! Why by hand: the depth must be the figure `json_depth(body, lines=True)` gives for any bytes
//! (the 400 and its message depend on it), and no JSON library returns that for invalid input;
//! the scalar loop ran at ~1.1 GB/s, the most costly step of a `_bulk` request on the event loop.
//!
//! `hec_split` cuts a Splunk HEC body (JSON objects one after the other) the same way: each
//! object checked as compact JSON (`valid::value`) and its span kept, the depth from the same
//! block pass; a body it does not decide that way goes to the Python path.
//!
//! Guarantees: the depth equals `json_depth(body, lines=True)` for every input; the split equals
//! `bulk_lines` followed by the uniform check of `parse_lines` (tests compare both on real and
//! mutated bodies). Every index is checked; no input makes it panic.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::prefix_xor;

/// Bit masks of one 64-byte block: quote, backslash, opening, closing, newline.
#[derive(Default)]
struct Masks {
    quote: u64,
    slash: u64,
    open: u64,
    close: u64,
    newline: u64,
}

/// The bytes a block is compared with: quote, backslash, `{`, `}`, newline, and the bit that
/// folds `[` and `]` onto `{` and `}` (0x5b | 0x20 = 0x7b, 0x5d | 0x20 = 0x7d: with it set, a
/// byte equals `{` only when it is `{` or `[`).
#[cfg(target_arch = "x86_64")]
const NEEDLES: [u8; 6] = [b'"', b'\\', b'{', b'}', b'\n', 0x20];

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn masks(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86-64 baseline; the loads read 4 x 16 bytes of `block`
    // (64 bytes) without alignment requirements
    unsafe {
        let ptr = block.as_ptr();
        let [q, s, o, c, n, case] = NEEDLES.map(|c| _mm_set1_epi8(c as i8));
        let mut m = Masks::default();
        for k in 0..4 {
            let v = _mm_loadu_si128(ptr.add(16 * k) as *const __m128i);
            let folded = _mm_or_si128(v, case);
            let bits = |eq: __m128i| u64::from(_mm_movemask_epi8(eq) as u16) << (16 * k);
            m.quote |= bits(_mm_cmpeq_epi8(v, q));
            m.slash |= bits(_mm_cmpeq_epi8(v, s));
            m.open |= bits(_mm_cmpeq_epi8(folded, o));
            m.close |= bits(_mm_cmpeq_epi8(folded, c));
            m.newline |= bits(_mm_cmpeq_epi8(v, n));
        }
        m
    }
}

/// [`masks`] with AVX2: two 32-byte halves.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn masks_avx2(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::*;
    let ptr = block.as_ptr();
    let [q, s, o, c, n, case] = NEEDLES.map(|c| _mm256_set1_epi8(c as i8));
    // SAFETY: the loads read 2 x 32 bytes of `block` (64 bytes) without alignment requirements
    let (lo, hi) = unsafe {
        (
            _mm256_loadu_si256(ptr as *const __m256i),
            _mm256_loadu_si256(ptr.add(32) as *const __m256i),
        )
    };
    let (flo, fhi) = (_mm256_or_si256(lo, case), _mm256_or_si256(hi, case));
    let bits = |a: __m256i, b: __m256i, w: __m256i| {
        u64::from(_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, w)) as u32)
            | u64::from(_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, w)) as u32) << 32
    };
    Masks {
        quote: bits(lo, hi, q),
        slash: bits(lo, hi, s),
        open: bits(flo, fhi, o),
        close: bits(flo, fhi, c),
        newline: bits(lo, hi, n),
    }
}

/// [`prefix_xor`] with one carry-less multiplication by all ones.
///
/// # Safety
/// The CPU must have PCLMULQDQ.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
#[inline]
unsafe fn prefix_xor_clmul(x: u64) -> u64 {
    use std::arch::x86_64::*;
    let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0);
    _mm_cvtsi128_si64(product) as u64
}

#[cfg(not(target_arch = "x86_64"))]
fn masks(block: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (k, &c) in block.iter().enumerate() {
        let bit = 1u64 << k;
        match c {
            b'"' => m.quote |= bit,
            b'\\' => m.slash |= bit,
            b'{' | b'[' => m.open |= bit,
            b'}' | b']' => m.close |= bit,
            b'\n' => m.newline |= bit,
            _ => {}
        }
    }
    m
}

/// The running state of `json_depth`'s loop (per line: depth, deepest, inside a string).
#[derive(Default)]
struct Depth {
    depth: i64,
    max: i64,
    in_str: bool,
    /// The byte at this index is escaped (an escape at the end of the previous block).
    skip_to: usize,
    newlines: Vec<usize>,
}

impl Depth {
    /// `json_depth`'s loop (lines mode) over ``data[from..to]``, whose newlines are recorded.
    fn scalar(&mut self, data: &[u8], from: usize, to: usize) {
        let mut i = from.max(self.skip_to);
        while i < to {
            if self.in_str {
                // inside a string only a quote, an escape or a line end can matter
                match memchr::memchr3(b'"', b'\\', b'\n', &data[i..to]) {
                    Some(k) => i += k,
                    None => break,
                }
            }
            let c = data[i];
            i += 1;
            match c {
                b'"' => self.in_str = !self.in_str,
                // an escape: the next byte is not structure, but a line still ends at its newline
                b'\\' if data.get(i) != Some(&b'\n') => i += 1,
                b'{' | b'[' if !self.in_str => {
                    self.depth += 1;
                    self.max = self.max.max(self.depth);
                }
                b'}' | b']' if !self.in_str => self.depth -= 1,
                b'\n' => {
                    self.newlines.push(i - 1);
                    self.depth = 0;
                    self.in_str = false;
                }
                _ => {}
            }
        }
        self.skip_to = i; // past `to` when the last byte was an escape
    }

    /// The block at ``at`` settled on its masks (it holds no backslash and starts unescaped).
    #[inline(always)]
    fn block(&mut self, at: usize, m: &Masks, prefix_xor: impl Fn(u64) -> u64) {
        let mut start = 0u32;
        let mut nl = m.newline;
        loop {
            let end = if nl == 0 { 64 } else { nl.trailing_zeros() };
            // the bits from start (inclusive) to end (exclusive)
            let seg = (if end == 64 { !0u64 } else { (1u64 << end) - 1 }) & (!0u64 << start);
            let quotes = m.quote & seg;
            let flips = prefix_xor(quotes); // bit 63: the parity of the segment's quotes
            let inside = flips ^ if self.in_str { !0u64 } else { 0 };
            let opens = m.open & seg & !inside;
            let closes = m.close & seg & !inside;
            let mut brackets = opens | closes;
            if self.depth + i64::from(opens.count_ones()) <= self.max {
                // the deepest point cannot pass the deepest so far: only the end depth counts
                self.depth += i64::from(opens.count_ones()) - i64::from(closes.count_ones());
                brackets = 0;
            }
            while brackets != 0 {
                let bit = brackets & brackets.wrapping_neg();
                if m.open & bit != 0 {
                    self.depth += 1;
                    self.max = self.max.max(self.depth);
                } else {
                    self.depth -= 1;
                }
                brackets ^= bit;
            }
            self.in_str ^= flips >> 63 == 1;
            if nl == 0 {
                break;
            }
            self.newlines.push(at + end as usize);
            self.depth = 0;
            self.in_str = false;
            start = end + 1;
            nl &= nl - 1;
            if start == 64 {
                break; // the block ended with its newline
            }
        }
    }
}

/// The deepest line of ``data`` (as `json_depth(data, lines=True)`) and where its newlines are.
fn depth_and_newlines(data: &[u8]) -> (i64, Vec<usize>) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("pclmulqdq")
        && is_x86_feature_detected!("popcnt")
    {
        // SAFETY: the features were just detected
        return unsafe { walk_avx2(data) };
    }
    walk(data, masks, prefix_xor)
}

/// [`walk`] compiled for AVX2, PCLMULQDQ and POPCNT.
///
/// # Safety
/// The CPU must have AVX2, PCLMULQDQ and POPCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,pclmulqdq,popcnt")]
unsafe fn walk_avx2(data: &[u8]) -> (i64, Vec<usize>) {
    // SAFETY: the caller checked the features
    walk(data, |b| unsafe { masks_avx2(b) }, |x| unsafe { prefix_xor_clmul(x) })
}

/// The block pass with the given mask and prefix-XOR functions.
#[inline(always)]
fn walk(
    data: &[u8],
    masks: impl Fn(&[u8; 64]) -> Masks,
    prefix_xor: impl Fn(u64) -> u64 + Copy,
) -> (i64, Vec<usize>) {
    let mut st = Depth {
        newlines: Vec::with_capacity(data.len() / 256),
        ..Default::default()
    };
    let mut at = 0usize;
    while at + 64 <= data.len() {
        let block: &[u8; 64] = data[at..at + 64].try_into().expect("64 bytes");
        let m = masks(block);
        if m.slash == 0 && st.skip_to <= at {
            st.block(at, &m, prefix_xor);
        } else {
            st.scalar(data, at, at + 64);
        }
        at += 64;
    }
    st.scalar(data, at, data.len());
    (st.max, st.newlines)
}

fn blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) // what bytes.strip() removes
}

/// The lines of a `_bulk` body as `bulk_lines` cuts them: (start, end) of each.
fn lines(data: &[u8], newlines: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(newlines.len() + 1);
    let mut start = 0;
    for &nl in newlines.iter().chain(std::iter::once(&data.len())) {
        out.push((start, nl));
        start = nl + 1;
    }
    while out
        .last()
        .is_some_and(|&(s, e)| data[s..e].iter().all(|&c| blank(c)))
    {
        out.pop();
    }
    for line in &mut out {
        while line.1 > line.0 && data[line.1 - 1] == b'\r' {
            line.1 -= 1;
        }
    }
    out
}

/// The action line and documents when the lines alternate one same action line and a document.
fn uniform(data: &[u8], lines: &[(usize, usize)]) -> Option<((usize, usize), Vec<(usize, usize)>)> {
    if lines.is_empty() || !lines.len().is_multiple_of(2) {
        return None;
    }
    let (hs, he) = lines[0];
    let head = &data[hs..he];
    let mut docs = Vec::with_capacity(lines.len() / 2);
    for pair in lines.chunks_exact(2) {
        if &data[pair[0].0..pair[0].1] != head {
            return None;
        }
        docs.push(pair[1]);
    }
    Some(((hs, he), docs))
}

/// A `_bulk` body's deepest line (the figure of `json_depth(body, lines=True)`) and, when every
/// item is one same action line followed by a document line, that action line and the
/// documents (else None and None): see the module docstring.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub(crate) fn bulk_split(
    py: Python<'_>,
    body: &[u8],
) -> (i64, Option<Py<PyBytes>>, Option<Vec<Py<PyBytes>>>) {
    let (depth, found) = py.detach(|| {
        let (depth, newlines) = depth_and_newlines(body);
        (depth, uniform(body, &lines(body, &newlines)))
    });
    match found {
        None => (depth, None, None),
        Some(((hs, he), docs)) => {
            let head = PyBytes::new(py, &body[hs..he]).unbind();
            (
                depth,
                Some(head),
                Some(
                    docs.into_iter()
                        .map(|(s, e)| PyBytes::new(py, &body[s..e]).unbind())
                        .collect(),
                ),
            )
        }
    }
}

/// What `bytes.strip()` and the regex `\s` take for whitespace.
fn ascii_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The spans of the compact JSON objects ``body`` holds one after the other (whitespace around
/// and between them), when it is UTF-8 and nothing else; else None.
fn object_spans(body: &[u8]) -> Option<Vec<(usize, usize)>> {
    std::str::from_utf8(body).ok()?;
    let end = body.len() - body.iter().rev().take_while(|&&c| ascii_space(c)).count();
    let text = &body[..end];
    let mut i = text.iter().take_while(|&&c| ascii_space(c)).count();
    if i == end {
        return None;
    }
    let mut spans = Vec::with_capacity(end / 512 + 1);
    loop {
        if text[i] != b'{' {
            return None;
        }
        let e = crate::valid::value(text, i).ok()?;
        spans.push((i, e));
        i = e;
        while i < end && ascii_space(text[i]) {
            i += 1;
        }
        if i == end {
            return Some(spans);
        }
    }
}

/// A Splunk HEC body of JSON objects one after the other: (the deepest nesting, as
/// `json_depth(body, lines=True)` gives it, each object's bytes, the objects as one JSON array
/// ``[o1,o2,...]``), when every object is compact JSON (`valid::value`), the body is UTF-8 and
/// holds nothing but them and whitespace; else None (the caller's Python path decides).
#[pyfunction]
#[allow(clippy::type_complexity)]
pub(crate) fn hec_split(py: Python<'_>, body: &[u8]) -> Option<(i64, Vec<Py<PyBytes>>, Py<PyBytes>)> {
    let (depth, spans, array) = py.detach(|| {
        let spans = object_spans(body)?;
        let (depth, _newlines) = depth_and_newlines(body);
        let mut array = crate::big_vec(body.len() + 2);
        array.push(b'[');
        for (k, &(s, e)) in spans.iter().enumerate() {
            if k > 0 {
                array.push(b',');
            }
            array.extend_from_slice(&body[s..e]);
        }
        array.push(b']');
        Some((depth, spans, array))
    })?;
    let objects = spans.into_iter().map(|(s, e)| PyBytes::new(py, &body[s..e]).unbind()).collect();
    Some((depth, objects, PyBytes::new(py, &array).unbind()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `json_depth`'s loop as it is in lib.rs (lines mode), for comparison.
    fn reference(data: &[u8]) -> i64 {
        let mut st = Depth::default();
        st.scalar(data, 0, data.len());
        st.max
    }

    #[test]
    fn blocks_agree_with_the_byte_loop() {
        let mut seed = 7u64;
        // with escapes everywhere (byte loop), rare (both ways) and none (masks)
        for alphabet in [
            &b"{}[]\"\\\n\r ax:,"[..],
            b"{}[]\"\n\r ax:,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\",
            b"{}[]\"\n ax:,",
        ] {
            for len in [0usize, 1, 63, 64, 65, 127, 128, 200, 1000] {
                for _ in 0..300 {
                    let data: Vec<u8> = (0..len)
                        .map(|_| {
                            seed = seed
                                .wrapping_mul(6364136223846793005)
                                .wrapping_add(1442695040888963407);
                            alphabet[(seed >> 33) as usize % alphabet.len()]
                        })
                        .collect();
                    let (d, nls) = depth_and_newlines(&data);
                    assert_eq!(d, reference(&data), "{:?}", String::from_utf8_lossy(&data));
                    // the baseline path (SSE2 masks, prefix XOR by shifts) where AVX2 is taken
                    assert_eq!(walk(&data, masks, prefix_xor), (d, nls.clone()));
                    let want: Vec<usize> = data
                        .iter()
                        .enumerate()
                        .filter(|(_, &c)| c == b'\n')
                        .map(|(k, _)| k)
                        .collect();
                    assert_eq!(nls, want);
                }
            }
        }
    }
}
