//! Time columns: an Arrow string column of ISO 8601 times as int64 milliseconds since the epoch,
//! in one call a column (`iso_ms_column`), where each value was converted to a Python str and
//! parsed alone (~0.4 us a value: a page of 100 GitHub Actions runs has five such columns); and
//! an int64 column of ids as their text (`int_text_column`: ~1 us for 100, Arrow's cast ~10).
//!
//! Only the form GitHub writes (and a numeric offset) is read here: ``YYYY-MM-DDTHH:MM:SS``
//! then ``Z`` or ``+HH:MM``/``-HH:MM``, a valid date and time, the offset under 24 h: what
//! ``datetime.fromisoformat`` reads to the same milliseconds. A column holding any other text
//! gives None, and the caller parses it in Python (``_cicd.iso_ms``), so the results are those
//! of the Python parser either way.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::compact::with_bytes;
use crate::github::iso_seconds;

/// A column's int64 values (their bytes) and its validity bitmap (None: no null).
type Millis<'py> = (Bound<'py, PyBytes>, Option<Bound<'py, PyBytes>>);
/// A text column's offsets, text and validity bitmap (None: no null).
type IntText<'py> = (Bound<'py, PyBytes>, Bound<'py, PyBytes>, Option<Bound<'py, PyBytes>>);

/// Milliseconds since the epoch of ``YYYY-MM-DDTHH:MM:SS`` + ``Z`` | ``+HH:MM`` | ``-HH:MM``, else None
/// (the grammar ``HookScanner.when`` reads: :func:`crate::github::iso_seconds`).
fn millis(b: &[u8]) -> Option<i64> {
    iso_seconds(b).map(|s| s * 1000)
}

/// The validity bitmap ``valid`` (None: no null) of the ``n`` values from ``start``, as a bitmap from bit 0.
fn rebased(valid: Option<&Bound<'_, PyAny>>, start: usize, n: usize) -> PyResult<Option<Vec<u8>>> {
    let Some(v) = valid else { return Ok(None) };
    with_bytes(v, |b| {
        if b.len() * 8 < start + n {
            return Err(PyValueError::new_err("the validity bitmap is shorter than the column"));
        }
        let mut m = vec![0u8; n.div_ceil(8)];
        (0..n).filter(|&i| b[(start + i) / 8] >> ((start + i) % 8) & 1 == 1).for_each(|i| m[i / 8] |= 1 << (i % 8));
        Ok(Some(m))
    })?
}

#[inline(always)]
fn is_set(mask: &Option<Vec<u8>>, i: usize) -> bool {
    mask.as_ref().is_none_or(|m| m[i / 8] >> (i % 8) & 1 == 1)
}

/// The milliseconds of the ``n`` values from ``start`` of an Arrow string column given by its buffers
/// (``offsets``: int32, ``data``, ``valid``: its validity bitmap or None when it has no null), as
/// (the int64 values' bytes, a validity bitmap from bit 0 or None when ``valid`` is None); a null's
/// value is 0. None when a value is not in the form read here (the caller parses the column in Python).
#[pyfunction]
#[pyo3(signature = (offsets, data, valid, start, n))]
pub fn iso_ms_column<'py>(py: Python<'py>, offsets: &Bound<'py, PyAny>, data: &Bound<'py, PyAny>,
                          valid: Option<&Bound<'py, PyAny>>, start: usize, n: usize)
                          -> PyResult<Option<Millis<'py>>> {
    let mask = rebased(valid, start, n)?;
    let got = with_bytes(offsets, |o| {
        with_bytes(data, |d| -> PyResult<Option<Vec<u8>>> {
            if o.len() < (start + n + 1) * 4 {
                return Err(PyValueError::new_err("iso_ms_column: the offsets are shorter than the column"));
            }
            let at = |i: usize| i32::from_le_bytes([o[i * 4], o[i * 4 + 1], o[i * 4 + 2], o[i * 4 + 3]]) as usize;
            let mut out = Vec::with_capacity(n * 8);
            for i in 0..n {
                let ms = if is_set(&mask, i) {
                    match d.get(at(start + i)..at(start + i + 1)).and_then(millis) {
                        Some(ms) => ms,
                        None => return Ok(None),
                    }
                } else {
                    0
                };
                out.extend_from_slice(&ms.to_le_bytes());
            }
            Ok(Some(out))
        })
    })???;
    let Some(values) = got else { return Ok(None) };
    Ok(Some((PyBytes::new(py, &values), mask.map(|m| PyBytes::new(py, &m)))))
}

/// The ``n`` values from ``start`` of an Arrow int64 column (``values``' bytes, ``valid`` its validity
/// bitmap or None when it has no null) as decimal text, what Arrow's cast to string writes: (the int32
/// offsets' bytes, the text, a validity bitmap from bit 0 or None); a null is an empty string.
#[pyfunction]
#[pyo3(signature = (values, valid, start, n))]
pub fn int_text_column<'py>(py: Python<'py>, values: &Bound<'py, PyAny>, valid: Option<&Bound<'py, PyAny>>,
                            start: usize, n: usize) -> PyResult<IntText<'py>> {
    let mask = rebased(valid, start, n)?;
    let (offsets, text) = with_bytes(values, |v| {
        if v.len() < (start + n) * 8 {
            return Err(PyValueError::new_err("int_text_column: the values are shorter than the column"));
        }
        let mut offsets: Vec<u8> = Vec::with_capacity((n + 1) * 4);
        let mut text: Vec<u8> = Vec::with_capacity(n * 20);
        offsets.extend_from_slice(&0i32.to_le_bytes());
        let mut digits = [0u8; 20];
        for i in 0..n {
            if is_set(&mask, i) {
                let at = (start + i) * 8;
                let x = i64::from_le_bytes(v[at..at + 8].try_into().expect("8 bytes"));
                let mut k = digits.len();
                let mut u = x.unsigned_abs();
                loop {
                    k -= 1;
                    digits[k] = b'0' + (u % 10) as u8;
                    u /= 10;
                    if u == 0 {
                        break;
                    }
                }
                if x < 0 {
                    text.push(b'-');
                }
                text.extend_from_slice(&digits[k..]);
            }
            let end = i32::try_from(text.len()).map_err(|_| PyValueError::new_err("int_text_column: 2 GiB of text"))?;
            offsets.extend_from_slice(&end.to_le_bytes());
        }
        Ok((offsets, text))
    })??;
    Ok((PyBytes::new(py, &offsets), PyBytes::new(py, &text), mask.map(|m| PyBytes::new(py, &m))))
}

#[cfg(test)]
mod tests {
    use super::millis;

    #[test]
    fn github_form_and_offsets() {
        assert_eq!(millis(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(millis(b"2024-02-29T23:59:59Z"), Some(1_709_251_199_000));
        assert_eq!(millis(b"2024-01-01T01:00:00+01:00"), Some(1_704_067_200_000));
        assert_eq!(millis(b"2023-12-31T23:00:00-01:00"), Some(1_704_067_200_000));
        assert_eq!(millis(b"0001-01-01T00:00:00Z"), Some(-62_135_596_800_000));
        assert_eq!(millis(b"2000-02-29T00:00:00Z"), Some(951_782_400_000));
    }

    #[test]
    fn other_text_refused() {
        for t in [&b"2023-02-29T00:00:00Z"[..], b"1900-02-29T00:00:00Z", b"0000-01-01T00:00:00Z", b"2024-13-01T00:00:00Z",
                  b"2024-01-01T24:00:00Z", b"2024-01-01T00:00:60Z", b"2024-01-01T00:00:00+24:00", b"2024-01-01 00:00:00Z",
                  b"2024-01-01T00:00:00.5Z", b"2024-01-01T00:00:00", b"2024-01-0aT00:00:00Z", b"", b"2024-04-31T00:00:00Z"] {
            assert_eq!(millis(t), None, "{}", String::from_utf8_lossy(t));
        }
    }
}
