//! Compacting JSON texts that are already known to be valid (`compact_each`).
//!
//! Design: scanner reports (Snyk, CycloneDX, Trivy, SARIF) arrive pretty-printed, and every
//! issue's `raw_data` is its compact text, which `msgspec.json.format(x, indent=-1)` made at
//! ~0.7 GB/s (a fifth of decoding a Snyk report). For valid JSON, compacting is dropping the
//! whitespace between tokens (space, tab, LF, CR: RFC 8259's four) and copying everything else
//! as it is; msgspec's formatter does exactly that (strings, escapes and numbers verbatim). So
//! this is a copy loop, `report::compact_into` (shared with the fused report walks): SSE2 steps
//! over indentation and over string bytes up to a quote or a backslash (which skips the escaped
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

use crate::report::compact_into;

/// The bytes of a buffer-protocol object (bytes, msgspec.Raw, memoryview) without a copy,
/// or a copy when it is not one contiguous run of bytes.
pub(crate) fn with_bytes<T>(obj: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> T) -> PyResult<T> {
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
    let mut scratch: Vec<u8> = Vec::new(); // grown to the longest item
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter() {
        scratch.clear();
        with_bytes(&item, |s| compact_into(s, &mut scratch))?;
        out.push(PyBytes::new(py, &scratch));
    }
    PyList::new(py, out)
}

/// JSON objects written back to back with a newline between them (``{..}\n{..}``: Go's
/// `json.Encoder`, jq, govulncheck) as the text of one JSON array: ``[``, ``data`` with each
/// ``}\n{`` made ``},{``, ``]`` (what ``b"[" + data.replace(b"}\n{", b"},{") + b"]"`` gives, in one
/// SIMD search and copy instead of CPython's search, which steps through every ``}`` and newline of
/// pretty-printed JSON: 3.5 ms for a 3.3 MB govulncheck stream). A raw newline is never inside a JSON
/// string, so the separator is always between two top-level values. Not a validator: the caller
/// decodes the result, which fails on anything that was not such a sequence.
#[pyfunction]
pub fn objects_array<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let finder = memchr::memmem::Finder::new(b"}\n{");
    PyBytes::new_with(py, data.len() + 2, |out| {
        out[0] = b'[';
        let mut at = 0; // the next byte of `data` to copy
        for i in finder.find_iter(data) {
            out[1 + at..i + 2].copy_from_slice(&data[at..=i]); // up to and including the '}'
            out[i + 2] = b','; // in place of the newline
            at = i + 2; // from the '{'
        }
        out[1 + at..=data.len()].copy_from_slice(&data[at..]);
        out[data.len() + 1] = b']';
        Ok(())
    })
}
