//! Compacting JSON texts that are already known to be valid (`compact_each`).
//!
//! Design: scanner reports (Snyk, CycloneDX, Trivy, SARIF) arrive pretty-printed, and every
//! issue's `raw_data` is its compact text, which `msgspec.json.format(x, indent=-1)` made at
//! ~0.7 GB/s (a fifth of decoding a Snyk report). For valid JSON, compacting is dropping the
//! whitespace between tokens (space, tab, LF, CR: RFC 8259's four) and copying everything else
//! as it is; msgspec's formatter does exactly that (strings, escapes and numbers verbatim). So
//! this is a copy loop: outside strings, bytes up to the next quote with whitespace dropped;
//! inside, SIMD search (memchr) for the closing quote or a backslash (which skips the escaped
//! byte).
//!
//! Why by hand: msgspec and serde_json re-tokenize and re-emit every value; no crate offers a
//! whitespace-only pass for text already validated.
//!
//! Guarantees: for valid JSON the output is byte-for-byte `msgspec.json.format(text, indent=-1)`
//! (tests/unit/test_native_compact.py checks it on real reports and hypothesis-generated
//! documents). The input is NOT validated: callers pass text msgspec has decoded already. Any
//! input, valid or not, is read in bounds and gives at most as many bytes as it has.

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

#[inline(always)]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// ``src`` compacted into ``dst`` (at least as long as ``src``); the length written.
fn compact_to(src: &[u8], dst: &mut [u8]) -> usize {
    let (n, mut w, mut i) = (src.len(), 0usize, 0usize);
    while i < n {
        // between tokens: byte by byte (a few bytes: memchr's set-up would cost more), whitespace dropped
        let c = src[i];
        if c != b'"' {
            dst[w] = c;
            w += usize::from(!is_ws(c));
            i += 1;
            continue;
        }
        // a string: its first bytes one by one (keys and most values are short), then SIMD
        // search for the closing quote; a backslash skips the byte it escapes
        let mut j = i + 1;
        let short = (j + 16).min(n);
        while j < short && src[j] != b'"' && src[j] != b'\\' {
            j += 1;
        }
        let end = loop {
            match memchr::memchr2(b'"', b'\\', src.get(j..).unwrap_or(&[])) {
                Some(m) if src[j + m] == b'\\' => j += m + 2,
                Some(m) => break j + m + 1,
                None => break n, // unterminated (not valid JSON): kept as it is
            }
        };
        dst[w..w + (end - i)].copy_from_slice(&src[i..end]);
        w += end - i;
        i = end;
    }
    w
}

/// The bytes of a buffer-protocol object (bytes, msgspec.Raw, memoryview) without a copy,
/// or a copy when it is not one contiguous run of bytes.
fn with_bytes<T>(obj: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> T) -> PyResult<T> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(f(b.as_bytes()));
    }
    let buf: PyBuffer<u8> = PyBuffer::get(obj)?;
    if buf.is_c_contiguous() && buf.readonly() {
        // SAFETY: a read-only, C-contiguous buffer of `len_bytes` bytes, held (with the GIL)
        // for the whole call: its memory stays valid and nobody may write it meanwhile.
        let s = unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, buf.len_bytes()) };
        return Ok(f(s));
    }
    Ok(f(&buf.to_vec(obj.py())?))
}

/// Each item of ``items`` (valid JSON texts: bytes or msgspec.Raw) compacted, as a list of bytes.
#[pyfunction]
pub fn compact_each<'py>(py: Python<'py>, items: &Bound<'py, PyList>) -> PyResult<Bound<'py, PyList>> {
    let mut scratch: Vec<u8> = Vec::new(); // grown to the longest item, zeroed once
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter() {
        let w = with_bytes(&item, |s| {
            if scratch.len() < s.len() {
                scratch.resize(s.len(), 0);
            }
            compact_to(s, &mut scratch)
        })?;
        out.push(PyBytes::new(py, &scratch[..w]));
    }
    PyList::new(py, out)
}

#[cfg(test)]
mod tests {
    use super::compact_to;

    fn c(s: &str) -> String {
        let mut out = vec![0u8; s.len()];
        let w = compact_to(s.as_bytes(), &mut out);
        String::from_utf8(out[..w].to_vec()).unwrap()
    }

    #[test]
    fn drops_whitespace_between_tokens_only() {
        assert_eq!(c("{ \"a b\" : [ 1 ,\n\t2 ] ,\r\n \"c\\\" d\": \"e\\\\\" }"), "{\"a b\":[1,2],\"c\\\" d\":\"e\\\\\"}");
        assert_eq!(c("  \"\\u0022 x \"  "), "\"\\u0022 x \"");
        assert_eq!(c(" true "), "true");
    }

    #[test]
    fn any_bytes_stay_in_bounds() {
        for s in ["\"", "\"\\", "\"abc\\", "{\"a\":\"\\\"", "\\\"", " \" \\\" "] {
            let mut out = vec![0u8; s.len()];
            assert!(compact_to(s.as_bytes(), &mut out) <= s.len());
        }
    }
}
