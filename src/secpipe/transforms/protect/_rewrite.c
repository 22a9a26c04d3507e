/* Per-row literal replacement for the protect stages: the optional accelerator of
 * ``secpipe.transforms.protect._columns.replace_rows``.
 *
 * Design: one call per text column and batch (loaded with ctypes, no Python object per
 * row). For each row, pair 0..k-1 in order: every non-overlapping occurrence of the row's
 * pattern, left to right, becomes the row's replacement (``str.replace`` semantics); an
 * empty pattern leaves the row as it is. Searching is glibc ``memmem``.
 *
 * Guarantees: the same text as ``str.replace`` applied pair by pair; never writes past
 * ``cap`` (output) or ``scap`` (scratch): when one is too small the call says which (-1,
 * -2) and the caller retries with a larger one. The module is built when a C compiler is there
 * (setup.py, optional); without it the DuckDB / per-row Python paths run, with the same
 * output.
 */
#define _GNU_SOURCE
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* ``s`` with each occurrence of ``p`` (the first one at ``m``) replaced by ``r``, into
 * ``out``; -1 past ``cap``. */
static int64_t replace_from(const char *s, int64_t ls, const char *m, const char *p, int64_t lp, const char *r,
                            int64_t lr, char *out, int64_t cap) {
    int64_t o = 0;
    const char *end = s + ls;
    while (m) {
        int64_t keep = (int64_t)(m - s);
        if (o + keep + lr > cap) return -1;
        memcpy(out + o, s, (size_t)keep);
        memcpy(out + o + keep, r, (size_t)lr);
        o += keep + lr;
        s = m + lp;
        m = memmem(s, (size_t)(end - s), p, (size_t)lp);
    }
    if (o + (end - s) > cap) return -1;
    memcpy(out + o, s, (size_t)(end - s));
    return o + (int64_t)(end - s);
}

/* Rewrite ``n`` rows (offsets ``toff`` into ``tdat``) with ``k`` (pattern, replacement)
 * columns; writes ``n + 1`` offsets to ``ooff`` and the text to ``odat``. Returns the
 * output size, -1 when ``cap`` is too small, -2 when the per-row ``scratch`` (``scap``
 * bytes, two halves) is. */
int64_t secpipe_replace_rows(int64_t n, const int64_t *toff, const char *tdat, int32_t k,
                             const int64_t *const *poff, const char *const *pdat,
                             const int64_t *const *roff, const char *const *rdat,
                             int64_t *ooff, char *odat, int64_t cap, char *scratch, int64_t scap) {
    int64_t o = 0;
    int64_t half = scap / 2;
    ooff[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        const char *cur = tdat + toff[i];
        int64_t lc = toff[i + 1] - toff[i];
        int w = 0;
        for (int32_t j = 0; j < k; j++) {
            int64_t lp = poff[j][i + 1] - poff[j][i];
            if (lp <= 0) continue;
            const char *p = pdat[j] + poff[j][i];
            const char *m = memmem(cur, (size_t)lc, p, (size_t)lp);
            if (!m) continue; /* nothing to replace: no copy */
            char *dst = scratch + w * half;
            int64_t nl = replace_from(cur, lc, m, p, lp, rdat[j] + roff[j][i], roff[j][i + 1] - roff[j][i], dst, half);
            if (nl < 0) return -2;
            cur = dst;
            lc = nl;
            w ^= 1;
        }
        if (o + lc > cap) return -1;
        memcpy(odat + o, cur, (size_t)lc);
        o += lc;
        ooff[i + 1] = o;
    }
    return o;
}

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rewrite", NULL, -1, NULL, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__rewrite(void) { return PyModule_Create(&module); }
