//! Extraction passes: records (a list) or whole envelope documents to Arrow column buffers.
//!
//! Design: one `Pass` walks each record with the `Walker` and, while the record is in the CPU
//! cache, appends its raw_data row and hashes its uid; records set aside (a format maps them
//! another way) are rolled back from the columns. `extract` takes records already split and
//! checked, or (``envelope``) walks them where they lie in their documents, the walk (strict)
//! also being the validity check the split would have made.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use sha2::{Digest, Sha256};

use crate::{buf, build, byte_items, sha_x2, valid, envelope_items, hex_prefix, to_py, Buf, Buffers, Col, Irregular, Item, Names, Obj, Walker, R};

/// Extract columns from canonical JSON records.
///
/// ``spec``: (dotted path, mode) pairs; mode ``s`` str|null, ``b`` str|bool|null, ``r`` raw
/// JSON text, ``l`` a list of objects (path ends in ``[]``; its items' fields are paths
/// below it). ``unmapped``: top-level fields copied, in this order, into the ``unmapped``
/// JSON; ``known``: every other top-level key the format knows (the rest are extras, added
/// to ``unmapped`` sorted); ``keep``: top-level keys of the spec whose values are also extras
/// (read by the spec and left in ``unmapped``: one walk, not a second one over the unmapped keys).
/// A path ``a.@`` (mode raw) takes the raw text of object ``a`` besides the paths below it. ``aside``: (spec index of a top-level string path, values):
/// records holding one of those values there are left out of the columns and their indexes returned
/// (a format maps them on another path). Returns (index of the first irregular record or
/// -1, one (validity, offsets, data, length, null count) per spec entry, the same for
/// unmapped, the indexes set aside).
///
/// ``reserve``: bytes to reserve for each spec entry's data (e.g. what the previous batch
/// needed per record, times this batch's records): a column then grows without copies into
/// fresh pages; rows beyond it grow the column as usual.
///
/// In the same pass, for the records kept (not set aside), while each is in the CPU cache:
/// with ``whole``, the records themselves as one string column (``raw_data``), and with
/// ``uid_prefix``, their uids as ``uids`` makes them (returned last, else None).
///
/// With ``envelope`` = (key, also), ``records`` are whole envelope documents instead
/// (``{"<key>": [records...], ...}``, compact, as ``split_envelope(doc, key, also, strict=True)``
/// accepts them), not split first: each record is walked where it lies, and the walk is also
/// the check that it is valid compact JSON (the split's own pass). Record numbers run on
/// across the documents; the result also gives the (start, end) in its document of each
/// record set aside and the number of records of each document, and ``bad`` is 0 or more (no
/// columns) when any document or record is irregular: the caller then splits the documents.
#[pyfunction]
#[pyo3(signature = (records, spec, unmapped, known, aside=None, reserve=None, whole=false, uid_prefix=None, envelope=None, keep=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn extract(
    py: Python<'_>,
    records: &Bound<'_, PyList>,
    spec: Vec<(String, String)>,
    unmapped: Vec<Vec<u8>>,
    known: Vec<Vec<u8>>,
    aside: Option<(usize, Vec<Vec<u8>>)>,
    reserve: Option<Vec<usize>>,
    whole: bool,
    uid_prefix: Option<Vec<u8>>,
    envelope: Option<(Vec<u8>, Vec<Vec<u8>>)>,
    keep: Option<Vec<Vec<u8>>>,
) -> PyResult<Extracted> {
    let root = build(&spec)?;
    let raws = byte_items(records)?;
    let slices: Vec<&[u8]> = raws.iter().map(Item::slice).collect();
    let keep = keep.unwrap_or_default();
    let opts = PassOptions { spec: &spec, unmapped: &unmapped, known: &known, keep: &keep, aside: &aside, reserve: &reserve,
                             whole, uid_prefix: &uid_prefix, strict: envelope.is_some() };
    let total: usize = slices.iter().map(|s| s.len()).sum();
    let Some((key, also)) = envelope else {
        let mut pass = Pass::new(&opts, slices.len(), total, first(&slices, total))?;
        let bad = py.detach(|| {
            let mut seen = 0;
            for (n, rec) in slices.iter().enumerate() {
                if !pass.one(rec, 0, n, &root).is_ok_and(|end| end == rec.len()) {
                    return n as i64;
                }
                seen += rec.len();
                pass.size(seen, total);
            }
            -1
        });
        return pass.finish(py, bad, Vec::new());
    };
    // a CloudTrail record is ~1 KB: rows are reserved for that, and grow past it as usual
    let mut pass = Pass::new(&opts, total / 1024 + 1, total, first(&slices, total))?;
    let mut counts = Vec::with_capacity(slices.len());
    let bad = py.detach(|| {
        let (mut n, mut seen) = (0usize, 0usize);
        for doc in &slices {
            let first = n;
            let walk = |b: &[u8], j: usize| {
                let end = pass.one(b, j, n, &root);
                n += 1;
                end
            };
            if envelope_items(doc, &key, &also, true, walk).is_err() {
                return first as i64;
            }
            counts.push(n - first);
            seen += doc.len();
            pass.size(seen, total);
        }
        -1
    });
    pass.finish(py, bad, counts)
}

/// The bytes of ``items`` (of ``total`` in all) walked when ``Pass::size`` sizes the pass's columns:
/// the shortest run of them, from the first, that reaches a sixteenth of the total.
fn first(items: &[&[u8]], total: usize) -> usize {
    let mut seen = 0;
    for item in items {
        seen += item.len();
        if seen >= total / 16 {
            break;
        }
    }
    seen
}

/// What ``extract`` returns: (index of the first irregular record or -1,
/// one (validity, offsets, data, length, null count) per spec entry, the same for unmapped,
/// the indexes set aside, the raw_data column (``whole``) and the uids (``uid_prefix``), and
/// with ``envelope`` the (start, end) of each record set aside and the records per document
/// (when ``bad`` is 0 or more: of the documents before the one that failed)).
type Extracted = (i64, Vec<Buffers>, Buffers, Vec<usize>, Option<Buffers>, Option<Py<Buf>>, Vec<(usize, usize)>, Vec<usize>);

struct PassOptions<'a> {
    spec: &'a [(String, String)],
    unmapped: &'a [Vec<u8>],
    known: &'a [Vec<u8>],
    keep: &'a [Vec<u8>],
    aside: &'a Option<(usize, Vec<Vec<u8>>)>,
    reserve: &'a Option<Vec<usize>>,
    whole: bool,
    uid_prefix: &'a Option<Vec<u8>>,
    strict: bool,
}

/// One extraction: the walker's columns plus, per record kept, its raw_data row and uid,
/// made while the record is in the CPU cache; records set aside are rolled back.
struct Pass<'a> {
    w: Walker<'a>,
    aside: &'a Option<(usize, Vec<Vec<u8>>)>,
    whole: bool,
    set_aside: Vec<usize>,
    aside_spans: Vec<(usize, usize)>,
    rawcol: Col,
    hexes: Vec<u8>,
    hasher: Option<Sha256>,
    // with raw_data kept and SHA-NI: the uid prefix, and whether the last raw_data row's digest
    // waits to be made together with the next record's (sha_x2: two streams interleaved)
    x2: Option<&'a [u8]>,
    pending: bool,
    snaps: Vec<[usize; 5]>, // reused: no allocation a record
    // the columns' data were reserved (``reserve``), and whether ``size`` has run
    reserved: bool,
    sized: bool,
}

impl<'a> Pass<'a> {
    fn new(o: &PassOptions<'a>, records: usize, bytes: usize, first: usize) -> PyResult<Self> {
        if let Some((slot, _)) = o.aside {
            if *slot >= o.spec.len() || o.spec[*slot].1 != "s" || o.spec[*slot].0.contains('.') {
                return Err(PyValueError::new_err("aside names a top-level string path of the spec"));
            }
        }
        let modes: Vec<u8> = o.spec.iter().map(|(_, m)| m.as_bytes().first().copied().unwrap_or(0)).collect();
        let mut cols: Vec<Col> = (0..o.spec.len()).map(|_| Col::new()).collect();
        for (k, col) in cols.iter_mut().enumerate() {
            col.offsets.reserve(records + 1);
            col.valid.reserve(records / 8 + 1);
            if let Some(bytes) = o.reserve.as_ref().and_then(|r| r.get(k)) {
                col.data.reserve(*bytes);
            }
        }
        let mut out = Col::new();
        // an unmapped row is at most its record's bytes: reserved for the input ``size`` sizes it
        // after (``first`` bytes), then sized from what that took (~3x less memory in CloudTrail)
        out.data.reserve(first.min(bytes) + 64);
        let w = Walker::new(cols, modes, o.unmapped, Names::new(o.known.iter().map(Vec::as_slice)), out, o.strict)
            .keeping(Names::new(o.keep.iter().map(Vec::as_slice)));
        let mut rawcol = Col::new();
        if o.whole {
            rawcol.data.reserve(bytes);
            rawcol.offsets.reserve(records + 1);
        }
        let mut hexes = Vec::new();
        let hasher = o.uid_prefix.as_ref().map(|p| {
            hexes.reserve(records * 32);
            let mut h = Sha256::new();
            h.update(p);
            h
        });
        let x2 = o.uid_prefix.as_deref().filter(|p| o.whole && p.len() < 64 && sha_x2::available());
        Ok(Pass { w, aside: o.aside, whole: o.whole, set_aside: Vec::new(), aside_spans: Vec::new(), rawcol, hexes,
                  hasher, x2, pending: false, snaps: Vec::with_capacity(o.spec.len() + 1), reserved: o.reserve.is_some(), sized: false })
    }

    /// With ``seen`` of the input's ``total`` bytes walked (items whole): once at least ``first(..)`` of
    /// it, reserve unmapped (and each column's data, when no ``reserve`` was given) for the rest at
    /// the rate so far and a quarter more, never more than the rest's bytes: a column then grows by
    /// one copy of a sixteenth, not by doublings of it all, nor is memory held that is never written.
    fn size(&mut self, seen: usize, total: usize) {
        if self.sized || seen < total / 16 || seen == 0 {
            return;
        }
        self.sized = true;
        let rest = |col: &Col| {
            let rate = col.data.len() as u128 * (total - seen) as u128 * 5 / 4 / seen as u128;
            (rate as usize).min(total - seen) + 64
        };
        let more = rest(&self.w.unmapped);
        self.w.unmapped.data.reserve(more);
        if !self.reserved {
            for col in &mut self.w.cols {
                let more = rest(col);
                col.data.reserve(more);
            }
        }
    }

    /// Walk record ``n``, the object at ``i`` of ``b``; returns the index just past it.
    fn one(&mut self, b: &[u8], i: usize, n: usize, root: &Obj) -> R<usize> {
        if self.aside.is_some() {
            self.snaps.clear();
            self.snaps.extend(self.w.cols.iter().chain([&self.w.unmapped]).map(Col::snapshot));
        }
        let end = self.w.record(b, i, root)?;
        let rec = &b[i..end];
        if self.whole && !valid::utf8(rec) {
            return Err(Irregular); // not UTF-8: the caller's path
        }
        if let Some((slot, values)) = self.aside {
            let held = self.w.cols[*slot].last();
            if held.is_some_and(|h| values.iter().any(|v| v.as_slice() == h)) {
                let (last, cols) = self.snaps.split_last().ok_or(Irregular)?;
                for (col, snap) in self.w.cols.iter_mut().zip(cols) {
                    col.restore(*snap);
                }
                self.w.unmapped.restore(*last);
                self.set_aside.push(n);
                self.aside_spans.push((i, end));
                return Ok(end);
            }
        }
        if self.whole {
            self.rawcol.bytes(rec)?; // over 2 GiB: the caller's path
        }
        if let Some(prefix) = self.x2 {
            // rec is raw_data's last row now: hashed with the row before it, or left pending
            if self.pending {
                let (da, db) = sha_x2::digests2(prefix, self.rawcol.row(self.rawcol.len - 2), rec);
                hex_prefix(&da, &mut self.hexes);
                hex_prefix(&db, &mut self.hexes);
            }
            self.pending = !self.pending;
        } else if let Some(base) = &self.hasher {
            let mut h = base.clone();
            h.update(rec);
            hex_prefix(&h.finalize(), &mut self.hexes);
        }
        Ok(end)
    }

    fn finish(mut self, py: Python<'_>, bad: i64, counts: Vec<usize>) -> PyResult<Extracted> {
        if bad >= 0 {  // counts: the documents walked before the one that failed
            return Ok((bad, Vec::new(), to_py(py, Col::new())?, Vec::new(), None, None, Vec::new(), counts));
        }
        if let (true, Some(base)) = (self.pending, &self.hasher) {  // the last row, alone
            let mut h = base.clone();
            h.update(self.rawcol.row(self.rawcol.len - 1));
            hex_prefix(&h.finalize(), &mut self.hexes);
        }
        let cols = self.w.cols.into_iter().map(|c| to_py(py, c)).collect::<PyResult<Vec<_>>>()?;
        let raw = if self.whole { Some(to_py(py, self.rawcol)?) } else { None };
        let uids = match self.hasher {
            Some(_) => Some(buf(py, self.hexes)?),
            None => None,
        };
        Ok((bad, cols, to_py(py, self.w.unmapped)?, self.set_aside, raw, uids, self.aside_spans, counts))
    }
}
