//! Strict validation of compact JSON: what lets a split skip `msgspec.json.format`.
//!
//! Design: `value` checks that the bytes at `i` are one JSON value (RFC 8259) written with
//! no insignificant whitespace, the exact bytes `msgspec.json.format(x, indent=-1)` would
//! give back unchanged, and returns the index just past it. It is stricter than msgspec
//! wherever the two could differ: besides every grammar error it refuses whitespace between
//! tokens, nesting deeper than `MAX_DEPTH` (msgspec's limit is the interpreter's recursion
//! limit), and any `\u` escape of a surrogate that is not a high-low pair. A refusal only
//! means "not decided here": the caller formats the input with msgspec as before.
//!
//! Like msgspec's formatter it does not check UTF-8 (callers check records for that after
//! the split, as they do after msgspec). Iterative (an explicit stack), every index checked.

use crate::{at, bytes_eq, hex4, Irregular, R, HIGHS, ONES};

/// Deepest nesting decided here (deeper input goes to msgspec, which refuses it).
const MAX_DEPTH: usize = 256;

/// High bit set in each byte of ``w`` below 0x20 (the lowest set bit is exact).
#[inline(always)]
fn bytes_control(w: u64) -> u64 {
    w.wrapping_sub(ONES * 0x20) & !w & HIGHS
}

/// Bit k set where ``b[j + k]`` is a quote, a backslash or a control character (below 0x20), for
/// the 16 bytes at ``j`` (SSE2, which every x86-64 CPU has: what the 8-byte step finds, two steps
/// at once; strings are most of a webhook's bytes); None past the end, or without SSE2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn specials16(b: &[u8], j: usize) -> Option<u32> {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let chunk = b.get(j..j + 16)?;
    // SAFETY: ``chunk`` holds 16 readable bytes (unaligned load); SSE2 is part of x86-64.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let slash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v); // v <= 0x1f, unsigned
        Some(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, slash), control)) as u32)
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn specials16(_b: &[u8], _j: usize) -> Option<u32> {
    None
}

/// Index just past the valid string starting at ``i`` (an opening quote).
#[inline(always)]
pub(crate) fn string(b: &[u8], i: usize) -> R<usize> {
    Ok(string_escaped(b, i)?.0)
}

/// Index just past the valid string starting at ``i`` (an opening quote), and whether it
/// holds an escape.
///
/// Inlined where it is called: a string with no escape (nearly all) ends at the first special
/// byte its 16-byte blocks find, a quote, with no call (a call's register saves and restores
/// were a third of the instructions a CloudTrail string took); anything else goes on in
/// ``string_from`` from the block that holds it.
#[inline(always)]
pub(crate) fn string_escaped(b: &[u8], i: usize) -> R<(usize, bool)> {
    let mut j = i + 1;
    while let Some(m) = specials16(b, j) {
        if m == 0 {
            j += 16;
            continue;
        }
        let k = j + m.trailing_zeros() as usize;
        if b.get(k) == Some(&b'"') {
            return Ok((k + 1, false));
        }
        break;
    }
    string_from(b, j)
}

/// ``string_escaped`` of a string whose bytes before ``j`` are plain (no quote, escape or control).
#[inline(never)]
fn string_from(b: &[u8], mut j: usize) -> R<(usize, bool)> {
    let mut escaped = false;
    loop {
        if let Some(m) = specials16(b, j) {
            if m == 0 {
                j += 16;
                continue;
            }
            j += m.trailing_zeros() as usize;
        } else if let Some(chunk) = b.get(j..j + 8) {
            let w = u64::from_le_bytes(chunk.try_into().map_err(|_| Irregular)?);
            let m = bytes_eq(w, b'"') | bytes_eq(w, b'\\') | bytes_control(w);
            if m == 0 {
                j += 8;
                continue;
            }
            j += (m.trailing_zeros() / 8) as usize;
        }
        match byte_step(b, j, &mut escaped)? {
            Step::End(end) => return Ok((end, escaped)),
            Step::At(next) => j = next,
        }
    }
}

/// Where a string's byte loop goes from ``j``: past the closing quote, or on to the next byte.
enum Step {
    End(usize),
    At(usize),
}

/// One byte (or escape) of a string at ``j``; an escape sets ``escaped``, a control is irregular.
#[inline(always)]
fn byte_step(b: &[u8], j: usize, escaped: &mut bool) -> R<Step> {
    match at(b, j)? {
        b'"' => Ok(Step::End(j + 1)),
        b'\\' => {
            *escaped = true;
            Ok(Step::At(escape(b, j)?))
        }
        c if c < 0x20 => Err(Irregular),
        _ => Ok(Step::At(j + 1)),
    }
}

/// Index just past the escape at ``j`` (a backslash); a surrogate escape that is not a high-low
/// pair is irregular.
fn escape(b: &[u8], j: usize) -> R<usize> {
    match at(b, j + 1)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(j + 2),
        b'u' => {
            let u = hex4(b, j + 2)?;
            if (0xDC00..0xE000).contains(&u) {
                return Err(Irregular); // a low surrogate alone
            }
            if (0xD800..0xDC00).contains(&u) {
                if b.get(j + 6..j + 8) != Some(b"\\u") || !(0xDC00..0xE000).contains(&hex4(b, j + 8)?) {
                    return Err(Irregular); // a high surrogate without its low half
                }
                return Ok(j + 12);
            }
            Ok(j + 6)
        }
        _ => Err(Irregular),
    }
}

fn digits(b: &[u8], mut j: usize) -> usize {
    while b.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    j
}

/// Index just past the number starting at ``i``: ``-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?``.
fn number(b: &[u8], i: usize) -> R<usize> {
    let mut j = i + usize::from(at(b, i)? == b'-');
    match at(b, j)? {
        b'0' => j += 1,
        b'1'..=b'9' => j = digits(b, j + 1),
        _ => return Err(Irregular),
    }
    if b.get(j) == Some(&b'.') {
        let k = digits(b, j + 1);
        if k == j + 1 {
            return Err(Irregular);
        }
        j = k;
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        j += 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let k = digits(b, j);
        if k == j {
            return Err(Irregular);
        }
        j = k;
    }
    Ok(j)
}

/// Index of the value after the object key at ``i`` (a string, then ``:``).
fn key(b: &[u8], i: usize) -> R<usize> {
    if at(b, i)? != b'"' {
        return Err(Irregular);
    }
    let end = string(b, i)?;
    if at(b, end)? != b':' {
        return Err(Irregular);
    }
    Ok(end + 1)
}

/// Index just past the valid compact JSON value starting at ``i``.
///
/// Inlined where it is called: a string (most values a walk passes over: a webhook's are) or a
/// scalar is checked there with no call, and only a container goes to ``nested`` (its stack of open
/// containers set up once a container, not once a value).
#[inline(always)]
pub(crate) fn value(b: &[u8], i: usize) -> R<usize> {
    match at(b, i)? {
        b'"' => string(b, i),
        b'{' | b'[' => nested(b, i),
        _ => scalar(b, i),
    }
}

/// Index just past the number or literal (``true``, ``false``, ``null``) at ``i``.
#[inline(always)]
fn scalar(b: &[u8], i: usize) -> R<usize> {
    match at(b, i)? {
        b't' if b.get(i..i + 4) == Some(b"true") => Ok(i + 4),
        b'f' if b.get(i..i + 5) == Some(b"false") => Ok(i + 5),
        b'n' if b.get(i..i + 4) == Some(b"null") => Ok(i + 4),
        b'-' | b'0'..=b'9' => number(b, i),
        _ => Err(Irregular),
    }
}

/// ``value`` of the object or array at ``i``.
#[inline(never)]
fn nested(b: &[u8], i: usize) -> R<usize> {
    // the open containers as bits (set: an object), ``depth`` of them: no allocation a value;
    // ``object``: whether the innermost one is an object (its bit, kept at hand)
    let mut open = [0u64; MAX_DEPTH / 64];
    let mut depth = 0usize;
    let mut object = false;
    let mut j = i;
    loop {
        // a value starts at j
        match at(b, j)? {
            c @ (b'{' | b'[') => {
                let close = if c == b'{' { b'}' } else { b']' };
                if at(b, j + 1)? == close {
                    j += 2;
                } else {
                    if depth >= MAX_DEPTH {
                        return Err(Irregular);
                    }
                    let (word, bit) = (depth / 64, 1u64 << (depth % 64));
                    object = c == b'{';
                    if object {
                        open[word] |= bit;
                    } else {
                        open[word] &= !bit;
                    }
                    depth += 1;
                    j = if object { key(b, j + 1)? } else { j + 1 };
                    continue;
                }
            }
            b'"' => j = string(b, j)?,
            _ => j = scalar(b, j)?,
        }
        // a value ended at j: close containers until the next value starts
        loop {
            if depth == 0 {
                return Ok(j);
            }
            match at(b, j)? {
                b',' => {
                    j = if object { key(b, j + 1)? } else { j + 1 };
                    break;
                }
                b'}' if object => {}
                b']' if !object => {}
                _ => return Err(Irregular),
            }
            depth -= 1;
            j += 1;
            if depth > 0 {
                let top = depth - 1;
                object = open[top / 64] & (1u64 << (top % 64)) != 0;
            }
        }
    }
}

/// Whether ``b`` is all ASCII (then it is UTF-8): 64 bytes a step (SSE2, which every x86-64 CPU
/// has), where ``str::from_utf8`` takes ~8 (a record's UTF-8 check was ~3% of a CloudTrail walk).
pub(crate) fn ascii(b: &[u8]) -> bool {
    let mut chunks = b.chunks_exact(64);
    for c in &mut chunks {
        if high64(c) {
            return false;
        }
    }
    chunks.remainder().is_ascii()
}

/// Whether ``b`` is UTF-8: ``ascii``'s 64-byte steps first (most records are ASCII), then
/// ``str::from_utf8``.
pub(crate) fn utf8(b: &[u8]) -> bool {
    ascii(b) || std::str::from_utf8(b).is_ok()
}

/// Whether one of the 64 bytes of ``c`` has its high bit set.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn high64(c: &[u8]) -> bool {
    use std::arch::x86_64::{_mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128};
    debug_assert_eq!(c.len(), 64);
    // SAFETY: ``c`` holds 64 readable bytes (the caller's exact chunks; four unaligned loads)
    unsafe {
        let p = c.as_ptr();
        let v = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(p.cast()), _mm_loadu_si128(p.add(16).cast())),
                             _mm_or_si128(_mm_loadu_si128(p.add(32).cast()), _mm_loadu_si128(p.add(48).cast())));
        _mm_movemask_epi8(v) != 0
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn high64(c: &[u8]) -> bool {
    !c.is_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ``string_escaped`` byte by byte, with no block steps: what the 16- and 8-byte steps must give.
    fn string_scalar(b: &[u8], i: usize) -> R<(usize, bool)> {
        let mut j = i + 1;
        let mut escaped = false;
        loop {
            match byte_step(b, j, &mut escaped)? {
                Step::End(end) => return Ok((end, escaped)),
                Step::At(next) => j = next,
            }
        }
    }

    #[test]
    fn block_steps_agree_with_the_byte_loop() {
        // strings of every length up to 80 from bytes that matter (quotes, backslashes, escapes,
        // controls, 0x1f/0x20 and 0x7f/0x80/0xff around the unsigned compare), any offset
        let pieces: [&[u8]; 16] = [
            b"a", b"Z", b" ", b"\"", b"\\", b"\\n", b"\\u00e9", b"\\ud83d\\ude00", b"\\ud800", b"\x1f", b"\x00",
            b"\x7f", b"\x80", b"\xff", b"/", b"\\x",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for n in 0..20_000 {
            let mut text = vec![b'x'; n % 3];
            text.push(b'"');
            let len = (n * 7) % 81;
            while text.len() < len + 4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let pick = (seed % 40) as usize;
                text.extend_from_slice(if pick < 16 { pieces[pick] } else { b"abcdefgh" });
            }
            if n % 2 == 0 {
                text.push(b'"');
            }
            let i = n % 3;
            assert_eq!(string_escaped(&text, i).ok(), string_scalar(&text, i).ok(), "{:?}", String::from_utf8_lossy(&text));
        }
    }

    #[test]
    fn ascii_is_what_the_standard_check_says() {
        // every length up to 200, one byte above 0x7f (or none) at every place
        for n in 0..200usize {
            let mut text: Vec<u8> = (0..n).map(|k| (k * 37 % 128) as u8).collect();
            assert!(ascii(&text));
            for at in 0..n {
                let keep = text[at];
                for high in [0x80u8, 0xc3, 0xff] {
                    text[at] = high;
                    assert_eq!(ascii(&text), text.is_ascii());
                    assert!(!ascii(&text));
                }
                text[at] = keep;
            }
        }
    }

    #[test]
    fn value_closes_what_it_opened() {
        for (text, ok) in [(&b"[{\"a\":[1,{\"b\":[]}]},[[{}]],{}]"[..], true), (b"[{]}", false), (b"{\"a\":1]", false),
                           (b"[1}", false), (b"{\"a\":[}", false), (b"[[],[[]],{\"a\":{\"b\":[{}]}}]", true)] {
            assert_eq!(value(text, 0).ok(), ok.then_some(text.len()), "{:?}", String::from_utf8_lossy(text));
        }
        // nesting up to MAX_DEPTH, arrays and objects alternating (bits across the words), not past it
        for depth in [1, 63, 64, 65, 127, 128, 255, MAX_DEPTH, MAX_DEPTH + 1] {
            let (mut open, mut close) = (Vec::new(), Vec::new());
            for d in 0..depth {
                open.extend_from_slice(if d % 3 == 0 { b"{\"k\":" } else { b"[" });
                close.insert(0, if d % 3 == 0 { b'}' } else { b']' });
            }
            let text = [open, b"0".to_vec(), close].concat();
            assert_eq!(value(&text, 0).ok(), (depth <= MAX_DEPTH).then_some(text.len()), "depth {depth}");
        }
    }
}
