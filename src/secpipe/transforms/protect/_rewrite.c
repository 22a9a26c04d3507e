/* Optional accelerators of the protect stages: the per-row literal replacement of
 * ``_columns.replace_rows``; (secpipe_screen4) the first secret screen of ``redact``: the same rows as RE2 with
 * PREFILTER and the same AWS key-id counts, and (secpipe_key_leak) its AWS_KEY_LEAK test; (at the end) the parsing
 * and printing of the dotted IPv4 addresses ``tokenize``'s ip mode turns into tokens: the same addresses and text as
 * ``inet_pton`` / ``inet_ntop``.
 *
 * Design: one call per text column and batch (loaded with ctypes, no Python object per
 * row). For each row, pair 0..k-1 in order: every non-overlapping occurrence of the row's
 * pattern, left to right, becomes the row's replacement (``str.replace`` semantics); an
 * empty pattern leaves the row as it is. Searching is ``find``: with AVX2, 32 positions a step
 * whose first and last bytes both match the pattern's (Mula's "SIMD-friendly substring search"),
 * each such candidate (its middle byte too) then compared; glibc ``memmem`` elsewhere and for the tail. The patterns
 * are tokenized values (account ids, user names, IP addresses: 7-40 bytes) searched in rows of
 * ~1 KB: memmem took 0.8 us a row for four of them (session 27, 200 MB CloudTrail run: 15% of
 * the protect stages' time), this a fraction of that.
 *
 * Guarantees: the same text as ``str.replace`` applied pair by pair; never writes past
 * ``cap`` (output) or ``scap`` (scratch): when one is too small the call says which (-1,
 * -2) and the caller retries with a larger one. The module is built when a C compiler is there
 * (setup.py, optional); without it the DuckDB / per-row Python paths run, with the same
 * output.
 */
#define _GNU_SOURCE
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SECPIPE_AVX2 1
#endif

#ifdef SECPIPE_AVX2
static int HAVE_AVX2; /* set by init_shufti */

__attribute__((target("avx2"))) static const char *find_avx2(const char *s, size_t n, const char *p, size_t m) {
    /* the first, the middle and the last byte: digits (account ids) in text full of digits pass two tests often */
    const size_t mid = m / 2;
    const __m256i first = _mm256_set1_epi8(p[0]), middle = _mm256_set1_epi8(p[mid]), last = _mm256_set1_epi8(p[m - 1]);
    size_t i = 0;
    for (; i + m - 1 + 32 <= n; i += 32) { /* candidates s + i .. s + i + 31, each with its m bytes in the row */
        __m256i a = _mm256_loadu_si256((const __m256i *)(s + i)), b = _mm256_loadu_si256((const __m256i *)(s + i + m - 1));
        __m256i c = _mm256_loadu_si256((const __m256i *)(s + i + mid));
        uint32_t mask = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(
            _mm256_and_si256(_mm256_cmpeq_epi8(a, first), _mm256_cmpeq_epi8(b, last)), _mm256_cmpeq_epi8(c, middle)));
        while (mask) {
            size_t j = i + (size_t)__builtin_ctz(mask);
            if (memcmp(s + j + 1, p + 1, m - 2) == 0) return s + j;
            mask &= mask - 1;
        }
    }
    return i < n ? memmem(s + i, n - i, p, m) : NULL; /* the last candidates (fewer than 32) */
}
#endif

/* The first occurrence of ``p`` (``m`` > 0 bytes) in ``s`` (``n`` bytes), or NULL: ``memmem``'s result. */
static inline const char *find(const char *s, size_t n, const char *p, size_t m) {
    if (m > n) return NULL;
#ifdef SECPIPE_AVX2
    if (m >= 2 && HAVE_AVX2) return find_avx2(s, n, p, m);
#endif
    return memmem(s, n, p, m);
}

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
        m = find(s, (size_t)(end - s), p, (size_t)lp);
    }
    if (o + (end - s) > cap) return -1;
    memcpy(out + o, s, (size_t)(end - s));
    return o + (int64_t)(end - s);
}

/* Rewrite ``n`` rows (offsets ``toff`` into ``tdat``) with ``k`` pairs of (pattern, replacement) columns; row ``i``
 * takes entry ``idx[j][i]`` of pair ``j``'s columns (none when negative): the distinct values' patterns, which no
 * longer have to be copied out to one string a row. Writes ``n + 1`` offsets to ``ooff`` and the text to ``odat``.
 * Returns the output size, -1 when ``cap`` is too small, -2 when the per-row ``scratch`` (``scap`` bytes, two
 * halves) is. */
int64_t secpipe_replace_indexed(int64_t n, const int64_t *toff, const char *tdat, int32_t k,
                                const int32_t *const *idx, const int64_t *const *poff, const char *const *pdat,
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
            int32_t e = idx[j][i];
            if (e < 0) continue;
            int64_t lp = poff[j][e + 1] - poff[j][e];
            if (lp <= 0) continue;
            const char *p = pdat[j] + poff[j][e];
            const char *m = find(cur, (size_t)lc, p, (size_t)lp);
            if (!m) continue; /* nothing to replace: no copy */
            char *dst = scratch + w * half;
            int64_t nl = replace_from(cur, lc, m, p, lp, rdat[j] + roff[j][e], roff[j][e + 1] - roff[j][e], dst, half);
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

/* ---- secret screen: the redact stage's first pass (redact.PREFILTER and AWS_KEY) ------ */

static uint8_t B64[256];       /* [A-Za-z0-9+/] */
static uint8_t FIRST2[65536];  /* byte pairs that can start an anchor, a keyword or a key id: 1 + their index in PAIRS */

/* PREFILTER's (?i:password|...|mysql_pwd) but private[_-]?token (private_at); in kw_end, '?' is an optional [_-] and
 * '+' an optional '_' (one entry a keyword: "access" starts 4% of CloudTrail's candidate positions) */
static const char *const KEYWORDS[] = {
    "password", "passwd", "client_secret", "api?key", "api?token", "access?token", "auth?token", "refresh+token",
    "secret+key", "secret+access+key", "authorization", "mysql_pwd", NULL};

static const char *const VAULT_KEYWORDS[] = { /* PREFILTER's (?i:vault[_-]?token|client_token) before a legacy token */
    "vaulttoken", "vault_token", "vault-token", "client_token", NULL};

/* PREFILTER's private[_-]?token after its "pri" (private_at), subscription[_-]?key after its "su" (subscription_at) */
static const char PRIVATE_TAIL[] = "vate?token";
static const char SUBSCRIPTION_TAIL[] = "bscription?key";

/* The first three letters of each of KEYWORDS (a | b << 8 | c << 16), for keyword_at */
static uint32_t KW3[sizeof KEYWORDS / sizeof *KEYWORDS];

#ifdef SECPIPE_AVX2
static void init_shufti(void);
#endif

/* The pairs of FIRST2 and, for each, the bytes that can follow it where an anchor, a keyword or a key id starts
 * (``THIRD``: a bit per byte), for the vector screen's third-byte test (row_avx2). */
#define MAX_PAIRS 192
static uint16_t PAIRS[MAX_PAIRS];
static uint8_t THIRD[MAX_PAIRS][32];
static int NPAIRS;

static void pair(unsigned a, unsigned b, const char *thirds) {
    unsigned p = a | (b << 8);
    int k = 0;
    while (k < NPAIRS && PAIRS[k] != p) k++;
    if (k == MAX_PAIRS) { /* (not reached: ~110 pairs) a pair without room shares the last one's entry, any byte next */
        FIRST2[p] = MAX_PAIRS;
        memset(THIRD[MAX_PAIRS - 1], 0xFF, 32);
        return;
    }
    if (k == NPAIRS) PAIRS[NPAIRS++] = (uint16_t)p;
    FIRST2[p] = (uint8_t)(k + 1);
    for (const unsigned char *c = (const unsigned char *)thirds; *c; c++) THIRD[k][*c >> 3] |= (uint8_t)(1u << (*c & 7));
}

/* The bytes a keyword's letter at ``i`` may be: both cases, and U+017F / U+212A's first byte for 's' / 'k' (RE2's
 * (?i) folds) */
static void letter_forms(const char *kw, int i, char out[4]) {
    unsigned k = (unsigned char)kw[i];
    int n = 0;
    out[n++] = (char)k;
    if (k >= 'a' && k <= 'z') out[n++] = (char)(k - 32);
    if (k == 's') out[n++] = (char)0xC5;
    if (k == 'k') out[n++] = (char)0xE2;
    out[n] = 0;
}

/* the bytes of [0-9a-fA-F], the third byte of a Twilio API key's anchor SK */
#define HEX_CHARS "0123456789abcdefABCDEF"

/* the bytes of [A-Za-z0-9_~.-], the third byte of an Azure AD client secret's anchor Q~ */
#define AZURE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-"

__attribute__((constructor)) static void init_tables(void) {
    for (unsigned c = 0; c < 256; c++)
        B64[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    /* each literal anchor's first two bytes and the bytes its third can be (anchor_at; key_at for AK/AS/AB/AC) */
    static const char *const lits[][2] = {
        {"--", "-ptsac"}, {"ey", "J"}, {"gh", "pousr"}, {"gi", "t"}, {"gl", "pdrocsfia"}, {"GR", "1"}, {"GO", "C"},
        {"np", "m"}, {"py", "p"}, {"dc", "k"}, {"xo", "x"}, {"xa", "p"}, {"ho", "o"}, {":/", "/"}, {"AI", "z"},
        {"sk", "_-"}, {"rk", "_"}, {"wh", "s"}, {"?s", "i"}, {"&s", "i"}, {";s", "i"}, {"AK", "I"}, {"AS", "I"},
        {"AB", "I"}, {"AC", "C"}, {"sh", "p"}, {"hv", "sbr"}, {"hf", "_"}, {"ya", "2"}, {"SG", "."}, {"do", "por"},
        {"da", "p"}, {";p", "wW"}, {";P", "wW"}, {"Q~", AZURE_CHARS}, {"AT", "A"}, {"NR", "A"}, {"AG", "E"},
        {"di", "s"}, {"/I", "n"}, {"?t", "o"}, {"&t", "o"}, {"?s", "e"}, {"&s", "e"}, {"SK", HEX_CHARS}, {"cu", "r"},
        {"hp", "a"}, {"my", "s"}, {"ma", "r"}, {"pu", "l"}, {"ps", "c"}, {"PM", "A"}, {"n_", "a"}, {"dp", "."},
        {"op", "s"}, {"HR", "K"}, {"yg", "e"}, {":A", "A"}, {"-u", "s"}, {"xk", "e"}, {"dt", "0"}, {"sq", "0"},
        {"sn", "t"}, {"sk", "."}, {"ps", "eE"}, {"pS", "eE"}, {"Ps", "eE"}, {"PS", "eE"}, {"se", " \t"}, {"sE", " \t"},
        {"Se", " \t"}, {"SE", " \t"}, {"-c", "l"}, {"ql", "cCpP"}, {"qL", "cCpP"}, {"Ql", "cCpP"},
        {"QL", "cCpP"}, {"bc", "l"}, {"cc", "l"}, {" u", "sS"}, {" U", "sS"}, {" -", "hpbcnmBdsDviP"}, {" /", "pPrR"},
        {"-S", "eE"}, {"-s", "eE"}, {"sg", "p"}, {"pn", "u"}, {"AK", "C"}, {"CL", "O"}, {"EZ", "AT"}, {"FL", "W"},
        {"A3", "-"}, {".p", "y"}, {"mp", "a"},
        /* NEWER_ANCHORS (secpipe_screen4): their options after " -" and " /", " argc=" and " proctitle=" from their
         * blank, sudo from its "do" + blank, NetworkCredential from its "kCr" (aws_secret_access_key: the keywords'
         * "sec", anchor_at) */
        {" -", "Ha-kKUNu"}, {" /", "nNaAdDkKoOvV"}, {" a", "r"}, {" p", "r"}, {"do", " \t"}, {"kC", "r"},
        {"mm", "a"}, /* a Kubernetes exec request's (?:^|[?&]|\\u0026)command= from its "mma" */
        {NULL, NULL}};
    for (int l = 0; lits[l][0]; l++) pair((unsigned char)lits[l][0][0], (unsigned char)lits[l][0][1], lits[l][1]);
    for (int v = 0; v < 2; v++)
        for (const char *const *kw = v ? VAULT_KEYWORDS : KEYWORDS; *kw; kw++) { /* (?i): both cases; a leading 's' may be U+017F */
            unsigned a = (unsigned char)(*kw)[0], b = (unsigned char)(*kw)[1];
            char third[4];
            letter_forms(*kw, 2, third);
            pair(a, b, third); pair(a - 32, b, third); pair(a, b - 32, third); pair(a - 32, b - 32, third);
        }
    pair(0xC5, 0xBF, "eE"); /* U+017F: the 's' of the secret* keywords, then their 'e' */
    pair('v', 'a', "tT"); pair('V', 'a', "tT"); pair('v', 'A', "tT"); pair('V', 'A', "tT"); /* private_at's "vat" */
    pair('b', 's', "cC"); pair('B', 's', "cC"); pair('b', 'S', "cC"); pair('B', 'S', "cC"); /* subscription_at's "bsc" */
    pair('b', 0xC5, "\xBF"); pair('B', 0xC5, "\xBF"); /* its 's' as U+017F */
#ifdef SECPIPE_AVX2
    init_shufti();
#endif
    for (int j = 0; KEYWORDS[j]; j++) /* lowercase ASCII, each at least 6 letters */
        KW3[j] = (unsigned char)KEYWORDS[j][0] | (unsigned char)KEYWORDS[j][1] << 8 | (uint32_t)(unsigned char)KEYWORDS[j][2] << 16;
}

static inline int azure_char(unsigned c) { /* [A-Za-z0-9_~.-] */
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '~' ||
           c == '.' || c == '-';
}
static inline int alnum(unsigned c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static inline int hex_lower(unsigned c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
static inline int hex_any(unsigned c) { return hex_lower(c) || (c >= 'A' && c <= 'F'); }
static inline int url_safe(unsigned c) { return alnum(c) || c == '_' || c == '-'; } /* [A-Za-z0-9_-] */
static inline int alpha(unsigned c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static inline int upnum(unsigned c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
static inline int ws(unsigned c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; } /* RE2 \s */
static inline int has(const unsigned char *t, int64_t n, int64_t i, const char *lit) {
    size_t l = __builtin_strlen(lit);
    return i + (int64_t)l <= n && memcmp(t + i, lit, l) == 0;
}

/* End of the (?i) keyword ``kw`` (lowercase ASCII, '_' literal, '?' an optional [_-], '+' an optional '_': a letter
 * follows each, so taking the separator where it is there is RE2's match) at ``i``, or -1. RE2 folds
 * 's' with U+017F and 'k' with U+212A (UTF-8 C5 BF, E2 84 AA); no other letter of the
 * keywords has a non-ASCII fold. */
static int64_t kw_end(const unsigned char *t, int64_t n, int64_t i, const char *kw) {
    for (; *kw; kw++) {
        unsigned k = (unsigned char)*kw;
        if (k == '?' || k == '+') {
            if (i < n && (t[i] == '_' || (k == '?' && t[i] == '-'))) i++;
            continue;
        }
        if (i < n && (t[i] == k || (k >= 'a' && k <= 'z' && t[i] == k - 32))) { i++; continue; }
        if (k == 's' && i + 1 < n && t[i] == 0xC5 && t[i + 1] == 0xBF) { i += 2; continue; }
        if (k == 'k' && i + 2 < n && t[i] == 0xE2 && t[i + 1] == 0x84 && t[i + 2] == 0xAA) { i += 3; continue; }
        return -1;
    }
    return i;
}

/* ``\\?["']?\s*[:=]`` at ``i`` */
static int kw_tail(const unsigned char *t, int64_t n, int64_t i) {
    if (i < n && t[i] == '\\') i++;
    if (i < n && (t[i] == '"' || t[i] == '\'')) i++;
    while (i < n && ws(t[i])) i++;
    return i < n && (t[i] == ':' || t[i] == '=');
}

/* ``i`` plus the run of ``n`` bytes of class ``cls`` there, at most ``max`` long */
static inline int64_t run(const unsigned char *t, int64_t n, int64_t i, int64_t max, int (*cls)(unsigned)) {
    int64_t j = i;
    while (j < n && j - i < max && cls(t[j])) j++;
    return j - i;
}

static inline unsigned lower(unsigned c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int keyword_at(const unsigned char *t, int64_t n, int64_t i) {
    if (i + 6 > n) return 0; /* the shortest keyword (passwd) + [:=] */
    if (t[i] < 0x80 && t[i + 1] < 0x80 && t[i + 2] < 0x80) {
        /* 3 ASCII bytes: only the keywords whose first three letters they fold to can match here (the non-ASCII
         * folds of 's' and 'k' need a byte >= 0x80); most candidate pairs (re, se, ac) stop at this test */
        uint32_t key = lower(t[i]) | lower(t[i + 1]) << 8 | lower(t[i + 2]) << 16;
        for (int j = 0; KEYWORDS[j]; j++) {
            if (KW3[j] != key) continue;
            int64_t e = kw_end(t, n, i, KEYWORDS[j]);
            if (e >= 0 && kw_tail(t, n, e)) return 1;
        }
        return 0;
    }
    for (const char *const *kw = KEYWORDS; *kw; kw++) {
        int64_t e = kw_end(t, n, i, *kw);
        if (e >= 0 && kw_tail(t, n, e)) return 1;
    }
    return 0;
}

/* PREFILTER's ``(?i:private[_-]?token)\\?["']?\s*[:=]`` ending at ``i``'s "vate": its pair "va" (a pair "pr" would
 * stop at each "principal", 1.3 a CloudTrail record); p, r, i, v, a and e have no non-ASCII (?i) fold */
static int private_at(const unsigned char *t, int64_t n, int64_t i) {
    if (i < 3 || lower(t[i - 3]) != 'p' || lower(t[i - 2]) != 'r' || lower(t[i - 1]) != 'i') return 0;
    int64_t e = kw_end(t, n, i, PRIVATE_TAIL);
    return e >= 0 && kw_tail(t, n, e);
}

/* PREFILTER's ``(?i:subscription[_-]?key)\\?["']?\s*[:=]`` from ``i``'s "bscription" (its pair "su" passed 5% more
 * CloudTrail positions to the exact check); its 's' may be U+017F (C5 BF), its 'k' U+212A (kw_end) */
static int subscription_at(const unsigned char *t, int64_t n, int64_t i) {
    if (i < 2 || lower(t[i - 1]) != 'u') return 0;
    if (lower(t[i - 2]) != 's' && !(i >= 3 && t[i - 3] == 0xC5 && t[i - 2] == 0xBF)) return 0;
    int64_t e = kw_end(t, n, i, SUBSCRIPTION_TAIL);
    return e >= 0 && kw_tail(t, n, e);
}

/* PREFILTER's ``(?i:vault[_-]?token|client_token)\\?["']?\s*[:=]\s*\\?["']?[sbr]\.`` at ``i`` (each optional part
 * is taken when its byte is there: no other part of the pattern can start with that byte) */
static int vault_at(const unsigned char *t, int64_t n, int64_t i) {
    if (i + 3 > n) return 0;
    unsigned a = lower(t[i]), b = lower(t[i + 1]), c = lower(t[i + 2]);
    if (!((a == 'v' && b == 'a' && c == 'u') || (a == 'c' && b == 'l' && c == 'i'))) return 0;
    for (const char *const *kw = VAULT_KEYWORDS; *kw; kw++) {
        int64_t j = kw_end(t, n, i, *kw);
        if (j < 0) continue;
        if (j < n && t[j] == '\\') j++;
        if (j < n && (t[j] == '"' || t[j] == '\'')) j++;
        while (j < n && ws(t[j])) j++;
        if (!(j < n && (t[j] == ':' || t[j] == '='))) continue;
        j++;
        while (j < n && ws(t[j])) j++;
        if (j < n && t[j] == '\\') j++;
        if (j < n && (t[j] == '"' || t[j] == '\'')) j++;
        if (j + 1 < n && (t[j] == 's' || t[j] == 'b' || t[j] == 'r') && t[j + 1] == '.') return 1;
    }
    return 0;
}

static int b64c(unsigned c) { return B64[c]; }
static int hexl(unsigned c) { return hex_lower(c); }
static int hexa(unsigned c) { return hex_any(c); }
static int urls(unsigned c) { return url_safe(c); }
static int alph(unsigned c) { return alpha(c); }
static int alnm(unsigned c) { return alnum(c); }
static int azc(unsigned c) { return azure_char(c); }
static int dgt(unsigned c) { return c >= '0' && c <= '9'; }
static int upnum_c(unsigned c) { return upnum(c); }

/* PREFILTER's ``curl(?:\.exe)?[\\"']{0,2}\s`` at ``i`` (a command line's curl, not its User-Agent curl/8.5.0) */
static int curl_at(const unsigned char *t, int64_t n, int64_t i) {
    if (!has(t, n, i, "curl")) return 0;
    int64_t j = i + 4;
    if (has(t, n, j, ".exe")) j += 4;
    for (int k = 0; k < 2 && j < n && (t[j] == '\\' || t[j] == '"' || t[j] == '\''); k++) j++;
    return j < n && ws(t[j]);
}

/* PREFILTER's ``(?:mysql|mariadb)[^\r\n]*\s-p[^\s]`` at ``i``: a MySQL client and a -p option later on its line */
static int mysql_at(const unsigned char *t, int64_t n, int64_t i) {
    int64_t j = has(t, n, i, "mysql") ? i + 5 : has(t, n, i, "mariadb") ? i + 7 : -1;
    if (j < 0) return 0;
    for (; j + 3 < n; j++) {
        if (ws(t[j]) && t[j + 1] == '-' && t[j + 2] == 'p' && !ws(t[j + 3])) return 1;
        if (t[j] == '\r' || t[j] == '\n') return 0;
    }
    return 0;
}

static inline int blank(unsigned c) { return c == ' ' || c == '\t'; }

/* ``[^\r\n]*\s<flag>`` from ``j`` and then (``after``) 0 anything, 1 a blank [ \t]: an option later on the line */
static int line_flag(const unsigned char *t, int64_t n, int64_t j, const char *flag, int after) {
    int64_t l = (int64_t)strlen(flag);
    for (; j < n; j++) {
        if (ws(t[j]) && j + 1 + l <= n && memcmp(t + j + 1, flag, (size_t)l) == 0 &&
            (!after || (j + 1 + l < n && blank(t[j + 1 + l]))))
            return 1;
        if (t[j] == '\r' || t[j] == '\n') return 0;
    }
    return 0;
}

/* a command whose name is ``name`` (lowercase ASCII, any case when ``fold``) at ``i`` */
static int named(const unsigned char *t, int64_t n, int64_t i, const char *name, int fold) {
    for (int64_t k = 0; name[k]; k++)
        if (i + k >= n || (fold ? lower(t[i + k]) : t[i + k]) != (unsigned char)name[k]) return 0;
    return 1;
}

/* PREFILTER's redis-cli / sqlcmd / sqlplus / ldap* / smbclient / rpcclient anchors at ``i``: the client, then its password
 * option later on the line (anchor_at finds them from a rarer pair inside the name: "-cl", "qlc", "dap", "bcl", "ccl";
 * the pairs their first letters start cost up to 11% more screen time) */
static int client_at(const unsigned char *t, int64_t n, int64_t i) {
    if (named(t, n, i, "redis-cli", 0)) return line_flag(t, n, i + 9, "-a", 1) || line_flag(t, n, i + 9, "--pass", 1);
    if (named(t, n, i, "sqlcmd", 1)) return line_flag(t, n, i + 6, "-P", 0);
    if (named(t, n, i, "sqlplus", 1)) return 1; /* its logon USER/PASS[@DB] is looked for by the detector */
    if (named(t, n, i, "smbclient", 0) || named(t, n, i, "rpcclient", 0))
        return line_flag(t, n, i + 9, "-U", 0) || line_flag(t, n, i + 9, "--user", 0);
    if (!named(t, n, i, "ldap", 0)) return 0;
    static const char *const ldap[] = {"search", "add", "modify", "delete", "whoami", "passwd", "compare", "modrdn",
                                       "exop", "url", NULL};
    for (const char *const *c = ldap; *c; c++)
        if (has(t, n, i + 4, *c) && line_flag(t, n, i + 4 + (int64_t)strlen(*c), "-w", 1)) return 1;
    return 0;
}

/* PREFILTER's ``[Pp][Ss][Ee][Xx][Ee][Cc][^\r\n]*\s-p[ \t]`` at ``i``: PsExec and a -p option later on its line */
static int psexec_at(const unsigned char *t, int64_t n, int64_t i) {
    static const char name[] = "psexec";
    for (int k = 0; k < 6; k++)
        if (i + k >= n || lower(t[i + k]) != (unsigned char)name[k]) return 0;
    for (int64_t j = i + 6; j + 3 < n; j++) {
        if (ws(t[j]) && t[j + 1] == '-' && t[j + 2] == 'p' && (t[j + 3] == ' ' || t[j + 3] == '\t')) return 1;
        if (t[j] == '\r' || t[j] == '\n') return 0;
    }
    return 0;
}

/* PREFILTER's ``[Uu][Ss][Ee][ \t](?:[A-Za-z]:[ \t])?\\\\`` (net use's share) from its "se" + blank (a pair "us" would
 * stop at each "user" of a CloudTrail record, "e " and ": " passed 7% more of its positions) */
static int net_use_at(const unsigned char *t, int64_t n, int64_t i) {
    if (i < 1 || lower(t[i - 1]) != 'u' || lower(t[i]) != 's' || lower(t[i + 1]) != 'e' || i + 2 >= n || !blank(t[i + 2]))
        return 0;
    int64_t j = i + 3;
    if (j + 2 < n && alpha(t[j]) && t[j + 1] == ':' && blank(t[j + 2])) j += 3;
    return j + 1 < n && t[j] == '\\' && t[j + 1] == '\\';
}

/* A command line's password option found from its " -" / " /" (anchor_at), checked against the command before it on
 * its line: how far back a row's scan of each kind went and found no command (-1: none yet). The screen visits a row's
 * positions in order, so each byte of a row is scanned back over at most once a kind (a row of many options costs no
 * more than one scan of it). Reset for each row (secpipe_screen4). */
#define BACK_KINDS 16
static __thread int64_t BACK_DONE[BACK_KINDS];

/* Is there a ``cmd_end(t, n, q)`` for some q <= ``k`` on ``k``'s line (no \r \n from q to k)? (BACK_DONE[kind]) */
static int command_before(const unsigned char *t, int64_t n, int64_t k, int kind,
                          int (*cmd_end)(const unsigned char *, int64_t, int64_t)) {
    int64_t stop = BACK_DONE[kind];
    for (int64_t q = k; q > stop; q--) {
        if (t[q] == '\r' || t[q] == '\n') break;
        if (cmd_end(t, n, q)) return 1;
    }
    BACK_DONE[kind] = k;
    return 0;
}

/* PREFILTER's ``[Nn][Ee][Tt]1?(?:\.[Ee][Xx][Ee])?\\?["']?[ \t]*[ ][Uu][Ss][Ee][Rr][ \t]`` from the space before "user"
 * at ``i``: the name is matched backwards (each optional part is there exactly when its bytes are: none can end with a
 * byte another part or the blanks start with) */
static int net_user_at(const unsigned char *t, int64_t n, int64_t i) {
    if (!named(t, n, i + 1, "user", 1) || i + 5 >= n || !blank(t[i + 5])) return 0;
    int64_t k = i - 1;
    while (k >= 0 && blank(t[k])) k--;
    if (k >= 0 && (t[k] == '"' || t[k] == '\'')) k--;
    if (k >= 0 && t[k] == '\\') k--;
    if (k >= 3 && named(t, n, k - 3, ".exe", 1)) k -= 4;
    if (k >= 0 && t[k] == '1') k--;
    return k >= 2 && named(t, n, k - 2, "net", 1);
}

/* The last byte of a command name that ends at the blank ``q`` (``(?:\.[Ee][Xx][Ee])?\\?["']?[ ]`` after it: each
 * optional part is there exactly when its bytes are), or -1 when ``q`` is no blank; the callers match the name back
 * from there */
static int64_t command_name_end(const unsigned char *t, int64_t n, int64_t q) {
    if (t[q] != ' ') return -1;
    int64_t j = q - 1;
    if (j >= 0 && (t[j] == '"' || t[j] == '\'')) j--;
    if (j >= 0 && t[j] == '\\') j--;
    if (j >= 3 && named(t, n, j - 3, ".exe", 1)) j -= 4;
    return j;
}

/* ``(?:7z[arz]?|[Rr][Aa][Rr])(?:\.[Ee][Xx][Ee])?\\?["']?[ ]`` ending at the blank ``q``: each optional part is there
 * exactly when its bytes are (no name ends with a byte a part after it starts with), but a 'z' or 'r' before may
 * end 7z or rar, or be 7z's [arz] */
static int archiver_end(const unsigned char *t, int64_t n, int64_t q) {
    int64_t j = command_name_end(t, n, q);
    if (j < 0) return 0;
    if (j >= 1 && t[j - 1] == '7' && t[j] == 'z') return 1;
    if (j >= 2 && t[j - 2] == '7' && t[j - 1] == 'z' && (t[j] == 'a' || t[j] == 'r' || t[j] == 'z')) return 1;
    return j >= 2 && named(t, n, j - 2, "rar", 1);
}

/* ``(?:[Pp][Ll][Ii][Nn][Kk]|[Pp][Ss][Cc][Pp]|[Pp][Ss][Ff][Tt][Pp])(?:\.[Ee][Xx][Ee])?\\?["']?[ ]`` ending at the blank
 * ``q`` (PuTTY's command-line tools) */
static int putty_end(const unsigned char *t, int64_t n, int64_t q) {
    int64_t j = command_name_end(t, n, q);
    if (j < 0) return 0;
    return (j >= 4 && (named(t, n, j - 4, "plink", 1) || named(t, n, j - 4, "psftp", 1))) ||
           (j >= 3 && named(t, n, j - 3, "pscp", 1));
}

/* ``htpasswd(?:\.[Ee][Xx][Ee])?[ ]`` ending at the blank ``q`` */
static int htpasswd_end(const unsigned char *t, int64_t n, int64_t q) {
    if (t[q] != ' ') return 0;
    int64_t j = q - 1;
    if (j >= 3 && named(t, n, j - 3, ".exe", 1)) j -= 4;
    return j >= 7 && named(t, n, j - 7, "htpasswd", 0);
}

/* ``(?:crackmapexec|cme|nxc|netexec|evil-winrm|mongo(?:sh|dump|restore|export|import)?|docker login|az login|rdesktop)
 * (?:\.[Ee][Xx][Ee])?\\?["']?[ ]`` ending at the blank ``q``: the tools whose -p takes the password as the next word
 * (and redact._P_WORD_TOOLS_NEWER's, hydra|medusa|smbmap|enum4linux(?:-ng)?, the same form) */
static int p_word_end(const unsigned char *t, int64_t n, int64_t q) {
    int64_t j = command_name_end(t, n, q);
    if (j < 0) return 0;
    static const char *const tools[] = {"crackmapexec", "cme", "nxc", "netexec", "evil-winrm", "mongo", "mongosh",
                                        "mongodump", "mongorestore", "mongoexport", "mongoimport", "docker login",
                                        "az login", "rdesktop", "hydra", "medusa", "smbmap", "enum4linux",
                                        "enum4linux-ng", NULL}; /* (the last five: NEWER_ANCHORS' _P_WORD_TOOLS_NEWER) */
    for (const char *const *c = tools; *c; c++) {
        int64_t l = (int64_t)strlen(*c);
        if (j + 1 >= l && named(t, n, j + 1 - l, *c, 0)) return 1;
    }
    return 0;
}

/* ``(?:^|[^A-Za-z0-9])(?:[Uu][Nn])?[Zz][Ii][Pp](?:\.[Ee][Xx][Ee])?\\?["']?[ ]`` ending at the blank ``q`` (Info-ZIP's zip
 * and unzip; gzip, 7zip and funzip are other names) */
static int zip_end(const unsigned char *t, int64_t n, int64_t q) {
    int64_t j = command_name_end(t, n, q);
    if (j < 0) return 0;
    if (j < 2 || !named(t, n, j - 2, "zip", 1)) return 0;
    if (j < 3 || !alnum(t[j - 3])) return 1;
    return j >= 4 && named(t, n, j - 4, "un", 1) && (j < 5 || !alnum(t[j - 5]));
}

/* ``[Ff][Rr][Ee][Ee][Rr][Dd][Pp]3?(?:\.[Ee][Xx][Ee])?\\?["']?[ ]`` ending at the blank ``q`` (FreeRDP's clients: xfreerdp,
 * wfreerdp.exe, wlfreerdp, sdl-freerdp, their 3.x names with a 3: the name's end is enough) */
static int freerdp_end(const unsigned char *t, int64_t n, int64_t q) {
    int64_t j = command_name_end(t, n, q);
    if (j < 0) return 0;
    if (j >= 0 && t[j] == '3') j--;
    return j >= 6 && named(t, n, j - 6, "freerdp", 1);
}

static int htpasswd_flag(unsigned c) { return c && strchr("bcnmBdspDvi", (int)c) != NULL; }

/* ---- redact.NEWER_ANCHORS (session 32's detectors; secpipe_screen4): each as its pattern says, from the blank
 * before its option (dash_option_at, slash_option_at, anchor_at's ' ') or from a rarer pair inside it ----------- */

/* ``[ \t]+\\?["']?:?[0-9a-fA-F]{32}`` at ``k``: an NT hash (or its ``:NT`` / ``LM:NT`` tail's first half: 32 hex
 * digits are enough) as the pass-the-hash options take it; each optional part is there exactly when its byte is */
static int hash_arg_at(const unsigned char *t, int64_t n, int64_t k) {
    if (k >= n || !blank(t[k])) return 0;
    while (k < n && blank(t[k])) k++;
    if (k < n && t[k] == '\\') k++;
    if (k < n && (t[k] == '"' || t[k] == '\'')) k++;
    if (k < n && t[k] == ':') k++;
    return run(t, n, k, 32, hexa) == 32;
}

/* ``[ \t]+\\?["']?`` then DefaultPassword in any ASCII case at ``k`` (reg add's /v, Set-ItemProperty's -Name) */
static int default_password_at(const unsigned char *t, int64_t n, int64_t k) {
    if (k >= n || !blank(t[k])) return 0;
    while (k < n && blank(t[k])) k++;
    if (k < n && t[k] == '\\') k++;
    if (k < n && (t[k] == '"' || t[k] == '\'')) k++;
    return named(t, n, k, "defaultpassword", 1);
}

/* the commands NEWER_ANCHORS' options are looked back for (command_before): ``cmd_end`` is true at ``q`` when the
 * name ends at q - 1 (``name[^\r\n]*[ ]-x``) or, for openssl and the SQL Server clients, at the blank q itself
 * (``name(?:\.[Ee][Xx][Ee])?\\?["']?[ ](?:[^\r\n]*[ ])?-x``, command_name_end) */
static int winexe_end(const unsigned char *t, int64_t n, int64_t q) { /* (?:winexe|pth-[a-z]+) */
    return (q >= 6 && named(t, n, q - 6, "winexe", 0)) ||
           (q >= 5 && t[q - 1] >= 'a' && t[q - 1] <= 'z' && named(t, n, q - 5, "pth-", 0));
}
static int keygen_end(const unsigned char *t, int64_t n, int64_t q) { return q >= 10 && named(t, n, q - 10, "ssh-keygen", 0); }
static int lftp_end(const unsigned char *t, int64_t n, int64_t q) { return q >= 4 && named(t, n, q - 4, "lftp", 0); }
static int winrs_end(const unsigned char *t, int64_t n, int64_t q) { return q >= 5 && named(t, n, q - 5, "winrs", 1); }
static int ds_end(const unsigned char *t, int64_t n, int64_t q) { /* ds(?:mod|add) */
    return q >= 5 && (named(t, n, q - 5, "dsmod", 0) || named(t, n, q - 5, "dsadd", 0));
}
static int openssl_end(const unsigned char *t, int64_t n, int64_t q) {
    int64_t j = command_name_end(t, n, q);
    return j >= 6 && named(t, n, j - 6, "openssl", 0);
}
static int sql_p_end(const unsigned char *t, int64_t n, int64_t q) { /* (?:^|[^A-Za-z0-9])(?:bcp|osql|isql), any case */
    int64_t j = command_name_end(t, n, q);
    if (j >= 2 && named(t, n, j - 2, "bcp", 1) && (j < 3 || !alnum(t[j - 3]))) return 1;
    return j >= 3 && (named(t, n, j - 3, "osql", 1) || named(t, n, j - 3, "isql", 1)) && (j < 4 || !alnum(t[j - 4]));
}

/* NEWER_ANCHORS' options after the blank ``i`` (t[i + 1] is '-') */
static int newer_dash_at(const unsigned char *t, int64_t n, int64_t i) {
    unsigned c = t[i + 2];
    if (c == '-') {
        if (has(t, n, i + 1, "--hashes")) return i + 9 < n && blank(t[i + 9]);
        if (has(t, n, i + 1, "--pw-nt-hash")) return hash_arg_at(t, n, i + 13);
        static const char *const blank_after[] = {"--ftp-password", "--http-password", "--proxy-password", NULL};
        for (const char *const *f = blank_after; *f; f++)
            if (has(t, n, i + 1, *f)) {
                int64_t j = i + 1 + (int64_t)strlen(*f);
                return j < n && blank(t[j]);
            }
        static const char *const ws_or_eq[] = {"--secret-access-key", "--s3-secret-access-key", "--aws-secret-access-key",
                                               "--oauth2-bearer", NULL};
        for (const char *const *f = ws_or_eq; *f; f++)
            if (has(t, n, i + 1, *f)) {
                int64_t j = i + 1 + (int64_t)strlen(*f);
                if (j < n && (ws(t[j]) || t[j] == '=')) return 1;
            }
        return has(t, n, i + 1, "--user") && command_before(t, n, i, 9, winexe_end);
    }
    if (c == 'H' && hash_arg_at(t, n, i + 3)) return 1;
    if (named(t, n, i + 2, "hash", 1) && hash_arg_at(t, n, i + 6)) return 1;
    if ((has(t, n, i + 2, "nthash") || has(t, n, i + 2, "aesKey")) && hash_arg_at(t, n, i + 8)) return 1;
    int64_t k = i + 2; /* -(?:src|dest)?(?:storepass|keypass)[ \t] */
    if (has(t, n, k, "src")) k += 3; else if (has(t, n, k, "dest")) k += 4;
    if (has(t, n, k, "storepass")) k += 9; else if (has(t, n, k, "keypass")) k += 7; else k = -1;
    if (k > 0 && k < n && blank(t[k])) return 1;
    if (has(t, n, i + 2, "password") && i + 10 < n && blank(t[i + 10])) return 1;
    if (named(t, n, i + 2, "name", 1) && default_password_at(t, n, i + 6)) return 1;
    int b3 = i + 3 < n && blank(t[i + 3]);
    if ((c == 'k' || c == 'K') && b3 && command_before(t, n, i, 8, openssl_end)) return 1;
    if (c == 'U' && command_before(t, n, i, 9, winexe_end)) return 1;
    if ((c == 'N' || c == 'P') && b3 && command_before(t, n, i, 10, keygen_end)) return 1;
    if (c == 'P' && command_before(t, n, i, 11, sql_p_end)) return 1;
    if ((c == 'p' || c == 'P') && i + 3 < n &&
        (t[i + 3] == ':' || (named(t, n, i + 3, "assword", 1) && i + 10 < n && t[i + 10] == ':')) &&
        command_before(t, n, i, 12, winrs_end))
        return 1;
    if (c == 'u' && b3 && command_before(t, n, i, 13, lftp_end)) return 1;
    return has(t, n, i + 2, "pwd") && i + 5 < n && blank(t[i + 5]) && command_before(t, n, i, 14, ds_end);
}

/* NEWER_ANCHORS' ``[ ]/(?:ntlm|rc4|aes128|aes256|des|krbtgt|pth|oldntlm|newntlm):[0-9a-fA-F]{16}`` (any case: mimikatz's,
 * Rubeus' and FreeRDP's key options) and ``[ ]/[vV]`` + DefaultPassword (reg add) after the blank ``i`` */
static int newer_slash_at(const unsigned char *t, int64_t n, int64_t i) {
    static const char *const keys[] = {"ntlm", "rc4", "aes128", "aes256", "des", "krbtgt", "pth", "oldntlm", "newntlm", NULL};
    for (const char *const *o = keys; *o; o++)
        if (named(t, n, i + 2, *o, 1)) {
            int64_t j = i + 2 + (int64_t)strlen(*o);
            if (j < n && t[j] == ':' && run(t, n, j + 1, 16, hexa) == 16) return 1;
        }
    return lower(t[i + 2]) == 'v' && default_password_at(t, n, i + 3);
}

/* NEWER_ANCHORS' ``sudo(?:[ \t]+-[A-Za-z]+)*[ ]-[A-Za-z]*S`` from ``j``, the byte after "sudo": the options before
 * the one with an S end at a blank (so each takes its whole run of letters), the last is one space away */
static int sudo_at(const unsigned char *t, int64_t n, int64_t j) {
    for (;;) {
        if (j + 1 < n && t[j] == ' ' && t[j + 1] == '-')
            for (int64_t k = j + 2; k < n && alpha(t[k]); k++)
                if (t[k] == 'S') return 1;
        int64_t k = j;
        while (k < n && blank(t[k])) k++;
        if (k == j || k + 1 >= n || t[k] != '-' || !alpha(t[k + 1])) return 0;
        for (k++; k < n && alpha(t[k]); k++) {}
        j = k;
    }
}

/* NEWER_ANCHORS' ``[ ]\[?[A-Za-z.]*NetworkCredential`` from its "kCr" at ``i``: the run of [A-Za-z.] before it starts
 * after " " or " [" (neither is in the run, so its start is the maximal run's) */
static int credential_at(const unsigned char *t, int64_t n, int64_t i) {
    if (i < 6 || !has(t, n, i - 6, "NetworkCredential")) return 0;
    int64_t s = i - 6;
    while (s > 0 && (alpha(t[s - 1]) || t[s - 1] == '.')) s--;
    if (s > 0 && t[s - 1] == '[') s--;
    return s > 0 && t[s - 1] == ' ';
}

/* PREFILTER's options after a space ``i`` (and the command before it on the line):
 * ``(?:7z[arz]?|[Rr][Aa][Rr])(?:\.[Ee][Xx][Ee])?\\?["']?[ ](?:[^\r\n]*[ ])?-h?p[^\s]`` (7-Zip's and RAR's attached
 * password), PuTTY's ``...[ ](?:[^\r\n]*[ ])?-pw[ \t]`` and ``htpasswd(?:\.[Ee][Xx][Ee])?[ ](?:[^\r\n]*[ ])?-[bcnmBdspDvi]*b``
 * (its batch mode, the password on the command line), and ``...[ ](?:[^\r\n]*[ ])?-p[ \t]`` after p_word_end's tools */
static int dash_option_at(const unsigned char *t, int64_t n, int64_t i) {
    int64_t k = i + 2;
    if (k < n && t[k] == 'h') k++;
    if (k + 1 < n && t[k] == 'p' && !ws(t[k + 1]) && command_before(t, n, i, 0, archiver_end)) return 1;
    if (i + 4 < n && t[i + 2] == 'p' && t[i + 3] == 'w' && blank(t[i + 4]) && command_before(t, n, i, 3, putty_end))
        return 1;
    if (i + 3 < n && t[i + 2] == 'p' && blank(t[i + 3]) && command_before(t, n, i, 5, p_word_end)) return 1;
    if (i + 3 < n && t[i + 2] == 'P' && blank(t[i + 3]) && command_before(t, n, i, 7, zip_end)) return 1;
    if (i + 8 < n && has(t, n, i + 1, "-hashes") && blank(t[i + 8])) return 1; /* Impacket's -hashes LM:NT */
    if (newer_dash_at(t, n, i)) return 1;
    for (k = i + 2; k < n && htpasswd_flag(t[k]); k++)
        if (t[k] == 'b') return command_before(t, n, i, 4, htpasswd_end);
    return 0;
}

static int cmdkey_end(const unsigned char *t, int64_t n, int64_t q) { return q >= 6 && named(t, n, q - 6, "cmdkey", 1); }
static int schtasks_end(const unsigned char *t, int64_t n, int64_t q) {
    return q >= 8 && named(t, n, q - 8, "schtasks", 1);
}

/* schtasks' /RP or /P option at the blank ``i`` and a schtasks before it on the line */
static int slash_rp_at(const unsigned char *t, int64_t n, int64_t i) {
    int64_t k = i + 2;
    if (k < n && lower(t[k]) == 'r') k++;
    return k + 1 < n && lower(t[k]) == 'p' && blank(t[k + 1]) && command_before(t, n, i, 2, schtasks_end);
}

/* PREFILTER's ``[Cc][Mm][Dd][Kk][Ee][Yy][^\r\n]*[ ]/[Pp][Aa][Ss][Ss]:`` and
 * ``[Ss][Cc][Hh][Tt][Aa][Ss][Kk][Ss][^\r\n]*[ ]/[Rr]?[Pp][ \t]`` from the blank ``i`` before the option (a command
 * ending at or before it) */
static int slash_option_at(const unsigned char *t, int64_t n, int64_t i) {
    if (named(t, n, i + 1, "/pass:", 1)) return command_before(t, n, i, 1, cmdkey_end) || slash_rp_at(t, n, i);
    if (has(t, n, i + 1, "/p:") && command_before(t, n, i, 6, freerdp_end)) return 1; /* FreeRDP's /p:PASS */
    return slash_rp_at(t, n, i) || newer_slash_at(t, n, i);
}

/* The Impacket example scripts whose target names the credentials (``[[domain/]user[:password]@]target``, or
 * ``domain/user[:password]``): redact.IMPACKET_SCRIPTS, the same list */
static const char *const IMPACKET[] = {
    "psexec", "smbexec", "wmiexec", "atexec", "dcomexec", "secretsdump", "GetUserSPNs", "GetNPUsers", "getTGT", "getST",
    "getPac", "smbclient", "mssqlclient", "lookupsid", "reg", "services", "samrdump", "rpcdump", "netview",
    "addcomputer", "rbcd", "dacledit", "owneredit", "findDelegation", "GetADUsers", "GetADComputers", "raiseChild",
    "goldenPac", "changepasswd", "wmiquery", "wmipersist", "DumpNTLMInfo", "net", "Get-GPPPassword", "exchanger",
    "keylistattack", "rdp_check", "smbpasswd", "tstool", "machine_role", NULL};

static int script_char(unsigned c) { return alnum(c) || c == '_' || c == '-'; }

/* PREFILTER's ``(?:^|[^A-Za-z0-9_-])(?:psexec|...)\.py`` from its "." at ``i``: the whole word before it is one of
 * IMPACKET */
static int impacket_at(const unsigned char *t, int64_t n, int64_t i) {
    if (!has(t, n, i, ".py")) return 0;
    int64_t s = i;
    while (s > 0 && script_char(t[s - 1])) s--;
    for (const char *const *c = IMPACKET; *c; c++)
        if ((int64_t)strlen(*c) == i - s && memcmp(t + s, *c, (size_t)(i - s)) == 0) return 1;
    return 0;
}

/* PREFILTER's ConvertTo-SecureString (any ASCII case) from its "-Se" at ``i`` */
static int securestring_at(const unsigned char *t, int64_t n, int64_t i) {
    return i >= 9 && named(t, n, i - 9, "convertto-securestring", 1);
}

/* ``[^/\s"'@]`` */
static inline int url_char(unsigned c) { return !(c == '/' || ws(c) || c == '"' || c == '\'' || c == '@'); }

/* One of PREFILTER's specific anchors starts at ``i`` (its first two bytes are in FIRST2). */
static int anchor_at(const unsigned char *t, int64_t n, int64_t i) {
    switch (t[i]) {
    case '-': { /* -----BEGIN; a command line's --(?:password|passwd|token|secret|api-key|client-secret)[\s=];
               * [0-9a-f]{32}-us[0-9] (Mailchimp) from its "-us" */
        if (t[i + 1] == 'c') return i >= 5 && client_at(t, n, i - 5); /* redis-cli from its "-cl" */
        if ((t[i + 1] | 32) == 's') return securestring_at(t, n, i); /* ConvertTo-SecureString from its "-Se" */
        if (t[i + 1] == 'u')
            return i >= 32 && i + 3 < n && has(t, n, i, "-us") && dgt(t[i + 3]) && run(t, n, i - 32, 32, hexl) == 32;
        if (has(t, n, i, "-----BEGIN")) return 1;
        static const char *const flags[] = {"--password", "--passwd", "--passphrase", "--token", "--secret", "--api-key", "--client-secret",
                                            NULL};
        for (const char *const *f = flags; *f; f++)
            if (has(t, n, i, *f)) {
                int64_t j = i + (int64_t)strlen(*f);
                return j < n && (ws(t[j]) || t[j] == '=');
            }
        return 0;
    }
    case 'e': { /* eyJ[A-Za-z0-9_-]{8,}\.eyJ */
        if (!has(t, n, i, "eyJ")) return 0;
        int64_t j = i + 3;
        while (j < n && (alnum(t[j]) || t[j] == '_' || t[j] == '-')) j++;
        return j - (i + 3) >= 8 && has(t, n, j, ".eyJ");
    }
    case 'g': {
        if (has(t, n, i, "github_pat_")) return 1;
        if (i + 3 < n && t[i + 1] == 'h' && t[i + 2] && strchr("pousr", t[i + 2]) && t[i + 3] == '_') {
            int64_t j = i + 4;
            while (j < n && j - (i + 4) < 36 && alnum(t[j])) j++;
            if (j - (i + 4) == 36) return 1;
        }
        if (t[i + 1] == 'l') {
            static const char *const gl[] = {"pat-", "ptt-", "dt-", "rt-", "oas-", "cbt-", "soat-", "ffct-", "ft-", "imt-",
                                             "agent-", "sa_", NULL};
            for (const char *const *g = gl; *g; g++)
                if (has(t, n, i + 2, *g)) return 1;
            if (has(t, n, i + 2, "c_") && run(t, n, i + 4, 32, b64c) == 32) return 1; /* glc_[A-Za-z0-9+/]{32} */
        }
        return 0;
    }
    case 'G':
        return has(t, n, i, "GR1348941") || has(t, n, i, "GOCSPX-");
    case 'S': /* SG\.[A-Za-z0-9_-]{22}\. (SendGrid), SK[0-9a-fA-F]{32} (Twilio), else the keywords' upper-case spellings */
        if (has(t, n, i, "SG.") && run(t, n, i + 3, 22, urls) == 22 && has(t, n, i + 25, ".")) return 1;
        if (t[i + 1] == 'K' && run(t, n, i + 2, 32, hexa) == 32) return 1;
        return net_use_at(t, n, i) || keyword_at(t, n, i);
    case 'y': /* ya29., rubygems_ from its "yge" (a pair "ru" passed 6% more CloudTrail positions) */
        if (t[i + 1] == 'g')
            return i >= 3 && t[i - 3] == 'r' && t[i - 2] == 'u' && t[i - 1] == 'b' && has(t, n, i, "ygems_");
        return has(t, n, i, "ya29.");
    case 'x': /* xox[abposrecd]-, xapp-, xkeysib- (Brevo) */
        if (t[i + 1] == 'k') return has(t, n, i, "xkeysib-");
        return (i + 4 < n && t[i + 2] == 'x' && t[i + 3] && strchr("abposrecd", t[i + 3]) && t[i + 4] == '-') ||
               has(t, n, i, "xapp-");
    case 'n': { /* npm_[A-Za-z0-9]{36} (npm_config_* / npm_package_* variables are no anchor), lin_api_ from its "n_a" */
        if (t[i + 1] == '_') return i >= 2 && t[i - 2] == 'l' && t[i - 1] == 'i' && has(t, n, i, "n_api_");
        if (!has(t, n, i, "npm_")) return 0;
        int64_t j = i + 4;
        while (j < n && j - (i + 4) < 36 && alnum(t[j])) j++;
        return j - (i + 4) == 36;
    }
    case 'd': /* dckr_pat_, do[por]_v1_, dapi[a-f0-9]{32}, discord(?:app)?\.com/api/, dp\.(?:pt|ct|st|sa|scim|audit)\. */
        if (t[i + 1] == 'o' && blank(t[i + 2])) /* sudo's -S from its "do" + blank */
            return i >= 2 && t[i - 2] == 's' && t[i - 1] == 'u' && sudo_at(t, n, i + 2);
        if (has(t, n, i, "dckr_pat_") || has(t, n, i, "dt0c01.")) return 1;
        if (t[i + 1] == 'a' && i >= 1 && t[i - 1] == 'l' && client_at(t, n, i - 1)) return 1; /* ldap* from its "dap" */
        if (t[i + 1] == 'p') {
            if (!has(t, n, i, "dp.")) return 0;
            static const char *const dp[] = {"pt.", "ct.", "st.", "sa.", "scim.", "audit.", NULL};
            for (const char *const *d = dp; *d; d++)
                if (has(t, n, i + 3, *d)) return 1;
            return 0;
        }
        if (t[i + 1] == 'i') {
            if (!has(t, n, i, "discord")) return 0;
            return has(t, n, i + 7, ".com/api/") || has(t, n, i + 7, "app.com/api/");
        }
        if (t[i + 1] == 'o')
            return i + 2 < n && (t[i + 2] == 'p' || t[i + 2] == 'o' || t[i + 2] == 'r') && has(t, n, i + 3, "_v1_");
        return has(t, n, i, "dapi") && run(t, n, i + 4, 32, hexl) == 32;
    case 'p': /* pypi-AgEIcHlwaS5vcmc, pul-[a-f0-9]{40} (Pulumi), pscale_(?:tkn|pw|oauth)_, else the password/passwd
               * keywords */
        if (has(t, n, i, "pul-")) return run(t, n, i + 4, 40, hexl) == 40;
        if (psexec_at(t, n, i) || has(t, n, i, "pass:") || has(t, n, i, "pnu_")) return 1; /* pass: (OpenSSL's -passin
                                                                                          * pass:), pnu_ (Prefect) */
        if (has(t, n, i, "pscale_"))
            return has(t, n, i + 7, "tkn_") || has(t, n, i + 7, "pw_") || has(t, n, i + 7, "oauth_");
        return has(t, n, i, "pypi-AgEIcHlwaS5vcmc") || keyword_at(t, n, i);
    case 'P': /* PMAK- (Postman), PsExec's -p, else the keywords' upper-case spellings */
        return has(t, n, i, "PMAK-") || psexec_at(t, n, i) || keyword_at(t, n, i);
    case 'o':
        return has(t, n, i, "ops_eyJ");
    case 'k': /* [ ]\[?[A-Za-z.]*NetworkCredential from its "kCr" */
        return credential_at(t, n, i);
    case 'H':
        return has(t, n, i, "HRKU-AA");
    case ' ': /* net user from the blank before "user"; 7-Zip's / RAR's -p, PuTTY's -pw, htpasswd's -b, cmdkey's /pass:,
               * schtasks' /rp from theirs; a Linux audit EXECVE record's " argc=[0-9]", a PROCTITLE record's " proctitle=" */
        if (t[i + 1] == '-') return dash_option_at(t, n, i);
        if (t[i + 1] == '/') return slash_option_at(t, n, i);
        if (t[i + 1] == 'a') return has(t, n, i, " argc=") && i + 6 < n && dgt(t[i + 6]);
        if (t[i + 1] == 'p') return has(t, n, i, " proctitle=");
        return net_user_at(t, n, i);
    case 'h': /* hooks.slack.com/, hv[sbr]\.[A-Za-z0-9_-]{24}, hf_[A-Za-z]{34}, sshpass from its "hpa" */
        if (t[i + 1] == 'p') return i >= 2 && t[i - 2] == 's' && t[i - 1] == 's' && has(t, n, i, "hpass");
        if (t[i + 1] == 'v')
            return i + 3 < n && (t[i + 2] == 's' || t[i + 2] == 'b' || t[i + 2] == 'r') && t[i + 3] == '.' &&
                   run(t, n, i + 4, 24, urls) == 24;
        if (t[i + 1] == 'f') return has(t, n, i, "hf_") && run(t, n, i + 3, 34, alph) == 34;
        return has(t, n, i, "hooks.slack.com/");
    case 'A': /* AIza, ATATT3 (Atlassian), AGE-SECRET-KEY-1, AKCp (Artifactory), A3-[A-Z0-9]{6}- (a 1Password secret key),
               * else the keywords' upper-case spellings */
        if (t[i + 1] == '3') return has(t, n, i, "A3-") && run(t, n, i + 3, 6, upnum_c) == 6 && has(t, n, i + 9, "-");
        return has(t, n, i, "AIza") || has(t, n, i, "ATATT3") || has(t, n, i, "AGE-SECRET-KEY-1") || has(t, n, i, "AKCp") ||
               keyword_at(t, n, i);
    case 'N': /* NRAK- (New Relic) */
        return has(t, n, i, "NRAK-");
    case 'Q': /* Q~[A-Za-z0-9_~.-]{31} (Azure AD client secret), SQLCMD from its "QLC" */
        if (t[i + 1] != '~') return i >= 1 && client_at(t, n, i - 1);
        return t[i + 1] == '~' && run(t, n, i + 2, 31, azc) == 31;
    case '/':
        return has(t, n, i, "/IncomingWebhook/");
    case 's':
    case 'r': /* [sr]k_(?:live|test)_; sk-(?:proj|svcacct|admin|ant)-, sk-[A-Za-z0-9]{20}T3BlbkFJ, shp(?:at|ca|pa|ss)_;
               * net use's share; else the secret_* / refresh_token keywords */
        if (t[i] == 's' && net_use_at(t, n, i)) return 1;
        if (t[i] == 's' && t[i + 1] == 'e' && i >= 5 && has(t, n, i - 5, " aws_secret_access_key") && i + 17 < n &&
            blank(t[i + 17]))
            return 1; /* " aws_secret_access_key" + blank (aws configure set), from the keywords' "sec" */
        if (t[i] == 's' && t[i + 1] == 'g') return has(t, n, i, "sgp_"); /* Sourcegraph */
        if (t[i + 1] == 'k' && (has(t, n, i + 2, "_live_") || has(t, n, i + 2, "_test_"))) return 1;
        if (t[i] == 's' && t[i + 1] == 'k' && has(t, n, i + 2, "-")) {
            if (has(t, n, i + 3, "proj-") || has(t, n, i + 3, "svcacct-") || has(t, n, i + 3, "admin-") ||
                has(t, n, i + 3, "ant-"))
                return 1;
            if (run(t, n, i + 3, 20, alnm) == 20 && has(t, n, i + 23, "T3BlbkFJ")) return 1;
        }
        if (t[i] == 's' && (has(t, n, i, "sk.eyJ") || has(t, n, i, "sq0atp-") || has(t, n, i, "sq0csp-") ||
                            has(t, n, i, "sntryu_") || has(t, n, i, "sntrys_")))
            return 1;
        if (t[i] == 's' && t[i + 1] == 'h' && (has(t, n, i + 2, "pat_") || has(t, n, i + 2, "pca_") ||
                                               has(t, n, i + 2, "ppa_") || has(t, n, i + 2, "pss_")))
            return 1;
        return keyword_at(t, n, i);
    case 'w':
        return has(t, n, i, "whsec_");
    case '?':
    case '&': /* [?&;]sig=, [?&](?:token|secret)= */
        return has(t, n, i + 1, "sig=") || has(t, n, i + 1, "token=") || has(t, n, i + 1, "secret=");
    case ';': { /* [?&;]sig=, ;(?i:pwd)\s*= */
        if (has(t, n, i + 1, "sig=")) return 1;
        if (i + 3 >= n || lower(t[i + 1]) != 'p' || lower(t[i + 2]) != 'w' || lower(t[i + 3]) != 'd') return 0;
        int64_t j = i + 4;
        while (j < n && ws(t[j])) j++;
        return j < n && t[j] == '=';
    }
    case ':': { /* ://[^/\s"'@]*:[^@/\s"']+@ (the two classes are the same set, ':' in it; the user may be empty);
               * [0-9]{5}:AA (a Telegram bot token) */
        if (t[i + 1] == 'A') return i >= 5 && run(t, n, i - 5, 5, dgt) == 5 && has(t, n, i, ":AA");
        if (!has(t, n, i, "://")) return 0;
        int64_t s = i + 3, e = s;
        while (e < n && url_char(t[e])) e++;
        return e < n && t[e] == '@' && e - s >= 2 && memchr(t + s, ':', (size_t)(e - s - 1)) != NULL;
    }
    case 'c': /* a command line's curl, rpcclient from its "ccl"; else as the default */
        if (t[i + 1] == 'u') return curl_at(t, n, i);
        if (t[i + 1] == 'c') return i >= 2 && client_at(t, n, i - 2);
        return keyword_at(t, n, i) || vault_at(t, n, i);
    case 'q': /* sqlcmd from its "qlc" */
        return i >= 1 && client_at(t, n, i - 1);
    case 'm': /* a MySQL / MariaDB client's line with -p; Kali's impacket-* from its "mpa"; else the mysql_pwd keyword;
               * a Kubernetes exec request's command parameter from its "mma" */
        if (t[i + 1] == 'm') {
            int64_t s = i - 2;
            return s >= 0 && has(t, n, s, "command=") &&
                   (s == 0 || t[s - 1] == '?' || t[s - 1] == '&' || (s >= 6 && has(t, n, s - 6, "\\u0026")));
        }
        if (t[i + 1] == 'p') return i >= 1 && t[i - 1] == 'i' && has(t, n, i, "mpacket-") && i + 8 < n && alpha(t[i + 8]);
        return mysql_at(t, n, i) || keyword_at(t, n, i);
    case '.': /* an Impacket example script (psexec.py, secretsdump.py...) */
        return impacket_at(t, n, i);
    default: /* the keywords (any case), the contexts of legacy Vault tokens, private[_-]?token from its "va"; CLOJARS_,
              * EasyPost's EZAK / EZTK, Flutterwave's FLWSECK */
        if (has(t, n, i, "CLOJARS_") || has(t, n, i, "EZAK") || has(t, n, i, "EZTK") || has(t, n, i, "FLWSECK")) return 1;
        return keyword_at(t, n, i) || vault_at(t, n, i) || ((t[i] | 32) == 'v' && private_at(t, n, i)) ||
               ((t[i] | 32) == 'b' && subscription_at(t, n, i)) || (t[i] == 'b' && i >= 2 && client_at(t, n, i - 2));
    }
}

/* GENERIC_RE2 for the base64 run [s, e): ``(?:^|["'=\s,])[A-Za-z0-9+/]{32,}={0,2}(?:$|["'&;,\s\\])`` */
static int generic_run(const unsigned char *t, int64_t n, int64_t s, int64_t e) {
    if (e - s < 32) return 0;
    if (s > 0) {
        unsigned p = t[s - 1];
        if (!(p == '"' || p == '\'' || p == '=' || ws(p) || p == ',')) return 0;
    }
    int64_t q = e;
    while (q < n && q - e < 3 && t[q] == '=') q++;
    if (q - e > 2) return 0;
    if (q == n) return 1;
    unsigned a = t[q];
    return a == '"' || a == '\'' || a == '&' || a == ';' || a == ',' || ws(a) || a == '\\';
}

/* AWS_KEY ``(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}`` at ``i`` */
static int key_at(const unsigned char *t, int64_t n, int64_t i) {
    if (i + 20 > n || t[i + 3] != 'A' ||
        !(has(t, n, i, "AKIA") || has(t, n, i, "ASIA") || has(t, n, i, "ABIA") || has(t, n, i, "ACCA")))
        return 0;
    for (int64_t j = i + 4; j < i + 20; j++)
        if (!upnum(t[j])) return 0;
    return 1;
}

/* A base64 run of 32+ bytes of row ``t`` meets GENERIC_RE2. Such a run covers two
 * sampled positions 16 apart (k and k + 16, k a multiple of 16), so only the runs around
 * sampled pairs that are both base64 are measured. */
static int generic_scalar(const unsigned char *t, int64_t len) {
    int64_t done = 0;
    for (int64_t k = 0; k + 16 < len; k += 16) {
        if (k < done || !B64[t[k]] || !B64[t[k + 16]]) continue;
        int64_t s = k, e = k + 1;
        while (s > 0 && B64[t[s - 1]]) s--;
        while (e < len && B64[t[e]]) e++;
        done = e;
        if (generic_run(t, len, s, e)) return 1;
    }
    return 0;
}

#ifdef SECPIPE_AVX2

/* Bit j set where t[j] is a base64 byte [A-Za-z0-9+/], for the 32 bytes at ``t``. */
__attribute__((target("avx2"))) static inline uint32_t b64_mask(const unsigned char *t) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)t);
    const __m256i a = _mm256_sub_epi8(_mm256_or_si256(v, _mm256_set1_epi8(0x20)), _mm256_set1_epi8('a'));
    const __m256i d = _mm256_sub_epi8(v, _mm256_set1_epi8('/')); /* '/' and '0'-'9': 0..10 */
    const __m256i alpha = _mm256_cmpeq_epi8(_mm256_min_epu8(a, _mm256_set1_epi8(25)), a);
    const __m256i digit = _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(10)), d);
    const __m256i plus = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('+'));
    return (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(alpha, digit), plus));
}

/* A test of the maximal base64 run [s, e) of a row (generic_run, plausible_run) */
typedef int (*run_test)(const unsigned char *t, int64_t n, int64_t s, int64_t e, const void *ctx);

/* Is ``test`` true of a maximal base64 run of 32+ bytes of the row? From base64 bitmasks, 32 bytes a step: bit i of
 * ``r`` (the AND of the 64-bit window shifted by 0..31) is set where 32 base64 bytes start, so only the maximal runs
 * of 32+ bytes are measured (generic_scalar walked every run around its sampled pairs, most of a CloudTrail record's
 * words; plausible_row's scalar loop every byte: ~2 us a CloudTrail record with a GENERIC candidate, 5% of them). */
__attribute__((target("avx2"))) static int runs_avx2(const unsigned char *t, int64_t len, run_test test, const void *ctx) {
    if (len < 32) return 0;
    int64_t done = 0;
    uint64_t cur = b64_mask(t);
    for (int64_t c = 0; c < len; c += 32) {
        uint64_t next = 0;
        if (c + 64 <= len)
            next = b64_mask(t + c + 32);
        else
            for (int64_t j = c + 32; j < len && j < c + 64; j++) next |= (uint64_t)B64[t[j]] << (j - c - 32);
        uint64_t r = cur | next << 32;
        r &= r >> 1; r &= r >> 2; r &= r >> 4; r &= r >> 8; r &= r >> 16;
        r &= 0xffffffffu;
        if (done > c) r &= done - c >= 32 ? 0 : ~((1ull << (done - c)) - 1);
        while (r) {
            int64_t s = c + __builtin_ctzll(r), e = s + 32;
            while (s > 0 && B64[t[s - 1]]) s--;
            while (e < len && B64[t[e]]) e++;
            if (test(t, len, s, e, ctx)) return 1;
            done = e;
            r = done - c >= 32 ? 0 : r & ~((1ull << (done - c)) - 1);
        }
        cur = next;
    }
    return 0;
}
#endif

static int generic_test(const unsigned char *t, int64_t n, int64_t s, int64_t e, const void *ctx) {
    (void)ctx;
    return generic_run(t, n, s, e);
}

static inline int generic_any(const unsigned char *t, int64_t len) {
#ifdef SECPIPE_AVX2
    if (HAVE_AVX2) return runs_avx2(t, len, generic_test, NULL);
#endif
    return generic_scalar(t, len);
}

/* The candidate at ``i`` (any position): a key id there is counted, and 1 when an anchor starts there. Its pair must
 * be one of FIRST2 and its third byte one of the pair's THIRD (every anchor, keyword and key id is 3+ bytes): the
 * shufti's buckets pass ~10x the positions this test does, and anchor_at ~5x (CloudTrail). */
static inline int visit(const unsigned char *t, int64_t len, int64_t i, int32_t screen, int64_t *key_next,
                        int64_t *count) {
    unsigned k = FIRST2[(unsigned)t[i] | ((unsigned)t[i + 1] << 8)];
    if (!k || i + 2 >= len || !(THIRD[k - 1][t[i + 2] >> 3] & (1u << (t[i + 2] & 7)))) return 0;
    if (t[i] == 'A' && i >= *key_next && key_at(t, len, i)) { (*count)++; *key_next = i + 20; }
    return screen && anchor_at(t, len, i);
}

static int row_scalar(const unsigned char *t, int64_t len, int32_t screen, int64_t *count) {
    int64_t key_next = 0;
    for (int64_t i = 0; i + 1 < len; i++)
        if (visit(t, len, i, screen, &key_next, count)) return 1;
    return 0;
}

#ifdef SECPIPE_AVX2
/* Triple-byte "shufti" (as Hyperscan's): bytes (a, b, c) pass when some bucket bit is set in
 * LO1[a & 15] & HI1[a >> 4] & LO2[b & 15] & HI2[b >> 4] & LO3[c & 15] & HI3[c >> 4]; each pair of FIRST2 has its
 * bucket's bit in the first four (buckets by the first byte) and in the last two for each byte that can follow it
 * (THIRD), so every position where visit() can find something passes (a superset: visit() checks FIRST2 exactly,
 * then the anchors). The third byte keeps out most of the keywords' common first pairs: re(gion|quest|source),
 * se(ssion|rvice), Pa(rameters) (CloudTrail: 6% of positions passed on two bytes, 1.4% on three). 32 positions a
 * step, then the passing ones in order, as row_scalar visits them. */
static uint8_t SHUFTI[6][16]; /* first byte lo/hi nibble, second byte lo/hi, third byte lo/hi */

__attribute__((target("avx2"))) static int row_avx2(const unsigned char *t, int64_t len, int32_t screen,
                                                    int64_t *count) {
    int64_t key_next = 0, i = 0;
    const __m256i lo1 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)SHUFTI[0]));
    const __m256i hi1 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)SHUFTI[1]));
    const __m256i lo2 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)SHUFTI[2]));
    const __m256i hi2 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)SHUFTI[3]));
    const __m256i lo3 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)SHUFTI[4]));
    const __m256i hi3 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)SHUFTI[5]));
    const __m256i nib = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
    for (; i + 34 <= len; i += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(t + i)), b = _mm256_loadu_si256((const __m256i *)(t + i + 1));
        __m256i c = _mm256_loadu_si256((const __m256i *)(t + i + 2));
        __m256i ma = _mm256_and_si256(_mm256_shuffle_epi8(lo1, _mm256_and_si256(a, nib)),
                                      _mm256_shuffle_epi8(hi1, _mm256_and_si256(_mm256_srli_epi16(a, 4), nib)));
        __m256i mb = _mm256_and_si256(_mm256_shuffle_epi8(lo2, _mm256_and_si256(b, nib)),
                                      _mm256_shuffle_epi8(hi2, _mm256_and_si256(_mm256_srli_epi16(b, 4), nib)));
        __m256i mc = _mm256_and_si256(_mm256_shuffle_epi8(lo3, _mm256_and_si256(c, nib)),
                                      _mm256_shuffle_epi8(hi3, _mm256_and_si256(_mm256_srli_epi16(c, 4), nib)));
        uint32_t mask =
            ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(_mm256_and_si256(ma, mb), mc), zero));
        while (mask) {
            int64_t j = i + __builtin_ctz(mask);
            mask &= mask - 1;
            if (visit(t, len, j, screen, &key_next, count)) return 1;
        }
    }
    for (; i + 1 < len; i++)
        if (visit(t, len, i, screen, &key_next, count)) return 1;
    return 0;
}

/* The bucket of each pair: any choice passes every FIRST2 pair (visit() then checks exactly); a position passes when
 * its three bytes' nibbles are all in one bucket's, so a bucket whose pairs share few nibbles passes few others. This
 * choice (simulated annealing over the pairs' buckets, scored by the triple-byte counts of 78 MB of the benchmark's
 * CloudTrail records and, with equal weight, the falco, octokit-webhooks, panther-analysis, prometheus-msteams,
 * sarif-sdk and snyk-to-html samples) passes 3.6% of their positions where one bucket a first byte passed 9.2% (pairs
 * and third bytes exactly: 0.85%); in the CloudTrail records 2.8% where 9.4%. Two bytes a pair; a pair not listed
 * here (a new anchor) takes bucket ``a & 7``. Session 30's command-line pairs (" u", " U", " -", " /", "-S", "-s")
 * are in bucket 4: in the same simulation over CloudTrail 3.4% of positions pass with them (3.1% without; 12.8% with
 * a pair per command name and case in their default buckets). Session 31's 1Password "A3" is in bucket 3 (screen time
 * over the benchmark's CloudTrail records +2% there, +4-6% in its default or bucket 1), Impacket's ".p" and "mp" in
 * their default buckets (+2%). Session 33's NEWER_ANCHORS: " a", " p" and "kC" in bucket 0 (in the benchmark's CloudTrail
 * records 5.2% of positions pass where 4.8% did without them; "kC" 5.2-9.8% in the others, "gc", "oc" or "ws" for
 * argc=, proctitle= and aws_secret_access_key up to 9.8%), the new third bytes of " -", " /" and "do" +0.03%; the
 * exec command's "mm" in bucket 7 (5.4%; "nd" + '=' 6.2% at best, '&' + 'c' more). */
static const char *const BUCKETS[8] = {
    "da;p;Pdimymadpopdt" "MymYMY" " a pkC",
    "GRGOxoxawhAKASABACATNRHRxkpSPSpaPapAPAAcpn",
    "skshyaSGQ~SKygsqsnqlqLQlQLvaVavAVAsg",
    ":AsesESeSE-cccacaC" "A3",
    "--py?s&s;s/I?t&tpupsPM-uPs u U - /-S-s",
    "eynpAIAGcun_apApaPAPauAuaUAU\xC5\xBF" "EZFL",
    ":/rkclClcLCLreRerERE" "b\xC5" "B\xC5",
    "ghgigldchohvhfdohpbcbsBsbSBS" "mm"};

static int bucket_of(unsigned p) { /* p = a | b << 8 */
    for (int k = 0; k < 8; k++)
        for (const char *c = BUCKETS[k]; c[0] && c[1]; c += 2)
            if (((unsigned char)c[0] | (unsigned)(unsigned char)c[1] << 8) == p) return k;
    return (int)(p & 7);
}

static void init_shufti(void) { /* after FIRST2 (init_tables) */
    __builtin_cpu_init();
    HAVE_AVX2 = __builtin_cpu_supports("avx2");
    for (int k = 0; k < NPAIRS; k++) {
        unsigned a = PAIRS[k] & 255, b = PAIRS[k] >> 8;
        uint8_t bit = (uint8_t)(1u << bucket_of(PAIRS[k]));
        SHUFTI[0][a & 15] |= bit; SHUFTI[1][a >> 4] |= bit; SHUFTI[2][b & 15] |= bit; SHUFTI[3][b >> 4] |= bit;
        for (unsigned c = 0; c < 256; c++)
            if (THIRD[k][c >> 3] & (1u << (c & 7))) { SHUFTI[4][c & 15] |= bit; SHUFTI[5][c >> 4] |= bit; }
    }
}
#endif

/* A word of ``plausible_words`` (redact.py): two distinct upper-case letters, two lower-case, two digits, and a
 * Shannon entropy of ``min_entropy`` bits a byte or more (less 1e-6 where numpy allows 1e-9: the sums are made in
 * another order, and this side must keep every word numpy keeps). */
static int word_plausible(const unsigned char *w, int64_t n, double min_entropy) {
    int64_t c[128] = {0};
    for (int64_t k = 0; k < n; k++) c[w[k] & 127]++;
    int up = 0, lo = 0, dg = 0;
    for (int k = 'A'; k <= 'Z'; k++) up += c[k] > 0;
    for (int k = 'a'; k <= 'z'; k++) lo += c[k] > 0;
    for (int k = '0'; k <= '9'; k++) dg += c[k] > 0;
    if (up < 2 || lo < 2 || dg < 2) return 0;
    double plogp = 0;
    for (int k = 0; k < 128; k++)
        if (c[k] > 1) plogp += (double)c[k] * log2((double)c[k]);
    return log2((double)n) - plogp / (double)n >= min_entropy - 1e-6;
}

#ifdef SECPIPE_AVX2
struct plausible_ctx {
    int64_t least;
    double min_entropy;
};

static int plausible_test(const unsigned char *t, int64_t n, int64_t s, int64_t e, const void *ctx) {
    (void)n;
    const struct plausible_ctx *p = ctx;
    return e - s >= p->least && word_plausible(t + s, e - s, p->min_entropy);
}
#endif

/* ``plausible_words`` of one row: a JSON escape (``\/``, ``\u``: mapped fields are unescaped) or a maximal base64
 * run of max(32, min_len - 2) bytes or more that is a plausible word. */
static int plausible_row(const unsigned char *t, int64_t len, double min_entropy, int64_t min_len) {
    for (const unsigned char *b = memchr(t, '\\', (size_t)len); b && b + 1 < t + len;
         b = memchr(b + 1, '\\', (size_t)(t + len - b - 1)))
        if (b[1] == '/' || b[1] == 'u') return 1;
    int64_t least = min_len - 2 > 32 ? min_len - 2 : 32;
#ifdef SECPIPE_AVX2
    if (HAVE_AVX2) {
        const struct plausible_ctx ctx = {least, min_entropy};
        return runs_avx2(t, len, plausible_test, &ctx);
    }
#endif
    for (int64_t i = 0; i < len;) {
        if (!B64[t[i]]) { i++; continue; }
        int64_t s = i;
        while (i < len && B64[t[i]]) i++;
        if (i - s >= least && word_plausible(t + s, i - s, min_entropy)) return 1;
    }
    return 0;
}

/* Per row: ``hit[r]`` = PREFILTER matches (only when ``screen``): 2 for GENERIC (tried first), 1 for another
 * anchor, ``keys[r]`` = the number of non-overlapping AWS_KEY matches, left to right (as RE2 counts them). A row
 * that hits stops there (its key count is then not used). ``generic``: how PREFILTER's GENERIC anchor
 * counts: 1 as RE2 matches it; 2 only in a row ``plausible_words`` keeps (min_entropy, min_len:
 * the redact stage's, which examines such a row for a generic secret only then); 0 not at all.
 * Returns 0. */
int64_t secpipe_screen4(int64_t n, const int64_t *toff, const char *tdat, int32_t screen, uint8_t *hit, int64_t *keys,
                        int32_t generic, double min_entropy, int64_t min_len) {
    for (int64_t r = 0; r < n; r++) {
        const unsigned char *t = (const unsigned char *)tdat + toff[r];
        int64_t len = toff[r + 1] - toff[r], count = 0;
        for (int k = 0; k < BACK_KINDS; k++) BACK_DONE[k] = -1;
        uint8_t h = screen && generic && generic_any(t, len) &&
                    (generic == 1 || plausible_row(t, len, min_entropy, min_len)) ? 2 : 0;
        if (!h) {
#ifdef SECPIPE_AVX2
            h = (uint8_t)(HAVE_AVX2 ? row_avx2(t, len, screen, &count) : row_scalar(t, len, screen, &count));
#else
            h = (uint8_t)row_scalar(t, len, screen, &count);
#endif
        }
        hit[r] = h;
        keys[r] = count;
    }
    return 0;
}

/* Per row: ``leak[r]`` = AWS_KEY matches at a position that the text before does not end with one of the ``k``
 * contexts (offsets ``coff`` into ``cdat``): redact.AWS_KEY_LEAK, ``_not_after(KEY_ID_ALLOW) + AWS_KEY``, which RE2
 * ran over the rows holding more key ids than the credential-id columns (~6 us each such CloudTrail record).
 * Every position counts, overlapping ones too (as RE2 searches). Returns 0. */
int64_t secpipe_key_leak(int64_t n, const int64_t *toff, const char *tdat, int32_t k, const int64_t *coff,
                         const char *cdat, uint8_t *leak) {
    for (int64_t r = 0; r < n; r++) {
        const unsigned char *t = (const unsigned char *)tdat + toff[r];
        int64_t len = toff[r + 1] - toff[r];
        int found = 0;
        for (const unsigned char *a = len >= 20 ? memchr(t, 'A', (size_t)(len - 19)) : NULL; a && !found;
             a = a + 1 < t + len - 19 ? memchr(a + 1, 'A', (size_t)(t + len - 19 - a - 1)) : NULL) {
            int64_t i = a - t;
            if (!key_at(t, len, i)) continue;
            found = 1;
            for (int32_t c = 0; c < k && found; c++) {
                int64_t l = coff[c + 1] - coff[c];
                if (l <= i && memcmp(t + i - l, cdat + coff[c], (size_t)l) == 0) found = 0;
            }
        }
        leak[r] = (uint8_t)found;
    }
    return 0;
}

/* ---- dotted IPv4 addresses: the tokenize stage's ``ip`` mode (tokenize.Tokenizer.ip_tokens) ------------------ */

/* Per row: ``ok[r]`` = the text is a dotted IPv4 address as ``inet_pton(AF_INET)`` accepts it (four decimal parts of
 * 0-255 without leading zeros, nothing else: tokenize._DOTTED_V4), and then ``addr[r]`` its value. Returns 0. */
int64_t secpipe_ip4_parse(int64_t n, const int64_t *toff, const char *tdat, uint32_t *addr, uint8_t *ok) {
    for (int64_t r = 0; r < n; r++) {
        const unsigned char *t = (const unsigned char *)tdat + toff[r], *end = (const unsigned char *)tdat + toff[r + 1];
        uint32_t value = 0, part = 0;
        int parts = 0, digits = 0, good = end - t >= 7 && end - t <= 15;
        for (; good && t < end; t++) {
            if (*t >= '0' && *t <= '9') {
                good = !(digits && part == 0) && (part = part * 10 + (*t - '0')) <= 255; /* no leading zero */
                digits++;
            } else if (*t == '.' && digits && parts < 3) {
                value = value << 8 | part;
                parts++;
                part = 0;
                digits = 0;
            } else
                good = 0;
        }
        good = good && parts == 3 && digits;
        addr[r] = good ? value << 8 | part : 0;
        ok[r] = (uint8_t)good;
    }
    return 0;
}

/* The dotted text of each of ``n`` addresses (as inet_ntop writes them): ``n + 1`` offsets to ``ooff``, the text to
 * ``odat`` (15 bytes an address at most). Returns the text's size. */
int64_t secpipe_ip4_format(int64_t n, const uint32_t *addr, int32_t *ooff, char *odat) {
    int32_t o = 0;
    ooff[0] = 0;
    for (int64_t r = 0; r < n; r++) {
        for (int s = 24; s >= 0; s -= 8) {
            unsigned b = addr[r] >> s & 255;
            if (b >= 100) odat[o++] = (char)('0' + b / 100);
            if (b >= 10) odat[o++] = (char)('0' + b / 10 % 10);
            odat[o++] = (char)('0' + b % 10);
            if (s) odat[o++] = '.';
        }
        ooff[r + 1] = o;
    }
    return o;
}

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rewrite", NULL, -1, NULL, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__rewrite(void) { return PyModule_Create(&module); }
