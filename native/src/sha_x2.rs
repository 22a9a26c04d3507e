//! SHA-256 of two messages at once with the x86 SHA extensions (SHA-NI), for ``HookScanner``'s
//! uid digests (``prefix || record``, the same digests ``sha2`` gives).
//!
//! Why: one SHA-256 stream is bound by the latency of ``sha256rnds2`` (each round pair waits for
//! the one before), so a core has room for a second, independent stream: two payloads' blocks
//! interleaved round by round take less than twice one payload's time. ``HookScanner`` hashes a
//! webhook payload together with the one scanned before it (still in the CPU cache).
//! The extraction pass (``extract.rs``, CloudTrail and the other walked formats) hashes each
//! record with the one before it, from its raw_data row (``speed``: 0.89 -> 0.74 us a 1.2 KB record).
//!
//! Guarantees: ``digests2`` gives exactly ``Sha256(prefix || a)`` and ``Sha256(prefix || b)``
//! (tests compare with ``sha2`` for every length around the block bounds); callers use it only
//! when ``available()`` (else ``sha2``, which picks SHA-NI or portable code itself).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m128i, _mm_add_epi32, _mm_alignr_epi8, _mm_blend_epi16, _mm_loadu_si128, _mm_set_epi64x,
    _mm_sha256msg1_epu32, _mm_sha256msg2_epu32, _mm_sha256rnds2_epu32, _mm_shuffle_epi32, _mm_shuffle_epi8,
    _mm_storeu_si128,
};

const H0: [u32; 8] = [
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
];

const K: [u32; 64] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
];

/// Whether this CPU has what ``digests2`` runs on (SHA, SSSE3, SSE4.1).
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("sha")
            && std::arch::is_x86_feature_detected!("ssse3")
            && std::arch::is_x86_feature_detected!("sse4.1")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// ``prefix || body`` as SHA-256 input blocks: the first block (holding the prefix) copied, the
/// body's whole blocks after it read where they lie, the last one or two (the rest, padding and
/// length) copied.
struct Blocks<'a> {
    first: [u8; 64],
    has_first: bool,
    /// ``body`` from the second block's start on, and how many whole blocks of it come next
    mid: &'a [u8],
    n_mid: usize,
    tail: [u8; 128],
    n_tail: usize,
}

impl<'a> Blocks<'a> {
    /// ``prefix`` must be shorter than a block (``uid_prefix``: the source kind and a NUL).
    fn new(prefix: &[u8], body: &'a [u8]) -> Self {
        debug_assert!(prefix.len() < 64);
        let p = prefix.len();
        let total = p + body.len();
        let whole = total / 64;
        let mut first = [0u8; 64];
        let mut tail = [0u8; 128];
        let rest: &[u8];
        let mut t = 0;
        let (has_first, mid, n_mid) = if whole >= 1 {
            first[..p].copy_from_slice(prefix);
            first[p..].copy_from_slice(&body[..64 - p]);
            rest = &body[whole * 64 - p..];
            (true, &body[64 - p..], whole - 1)
        } else {
            tail[..p].copy_from_slice(prefix);
            t = p;
            rest = body;
            (false, &body[..0], 0)
        };
        tail[t..t + rest.len()].copy_from_slice(rest);
        t += rest.len();
        tail[t] = 0x80;
        let n_tail = if t + 1 + 8 <= 64 { 1 } else { 2 };
        let bits = (total as u64).wrapping_mul(8);
        tail[n_tail * 64 - 8..n_tail * 64].copy_from_slice(&bits.to_be_bytes());
        Blocks { first, has_first, mid, n_mid, tail, n_tail }
    }

    fn count(&self) -> usize {
        usize::from(self.has_first) + self.n_mid + self.n_tail
    }

    /// The ``k``-th block (``k < count()``).
    fn block(&self, k: usize) -> &[u8] {
        let mut k = k;
        if self.has_first {
            if k == 0 {
                return &self.first;
            }
            k -= 1;
        }
        if k < self.n_mid {
            return &self.mid[k * 64..k * 64 + 64];
        }
        k -= self.n_mid;
        &self.tail[k * 64..k * 64 + 64]
    }
}

/// ``Sha256(prefix || a)`` and ``Sha256(prefix || b)``, the two streams' rounds interleaved.
/// Call only when ``available()``; ``prefix`` shorter than 64 bytes.
pub(crate) fn digests2(prefix: &[u8], a: &[u8], b: &[u8]) -> ([u8; 32], [u8; 32]) {
    let (ba, bb) = (Blocks::new(prefix, a), Blocks::new(prefix, b));
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the caller checked ``available()`` (the CPU has SHA, SSSE3 and SSE4.1); every block
    // is a 64-byte slice.
    unsafe {
        let (mut sa, mut sb) = (start(), start());
        let (na, nb) = (ba.count(), bb.count());
        let both = na.min(nb);
        for k in 0..both {
            compress2(&mut sa, &mut sb, ba.block(k), bb.block(k));
        }
        for k in both..na {
            compress1(&mut sa, ba.block(k));
        }
        for k in both..nb {
            compress1(&mut sb, bb.block(k));
        }
        (finish(sa), finish(sb))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (ba, bb);
        unreachable!("digests2 without SHA-NI")
    }
}

/// The initial state as (ABEF, CDGH), the order ``sha256rnds2`` takes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sha,ssse3,sse4.1")]
unsafe fn start() -> [__m128i; 2] {
    let abcd = _mm_loadu_si128(H0.as_ptr().cast());
    let efgh = _mm_loadu_si128(H0.as_ptr().add(4).cast());
    let cdab = _mm_shuffle_epi32(abcd, 0xB1);
    let efgh = _mm_shuffle_epi32(efgh, 0x1B);
    [_mm_alignr_epi8(cdab, efgh, 8), _mm_blend_epi16(efgh, cdab, 0xF0)]
}

/// The digest (big-endian words) of a state in (ABEF, CDGH) order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sha,ssse3,sse4.1")]
unsafe fn finish(s: [__m128i; 2]) -> [u8; 32] {
    let feba = _mm_shuffle_epi32(s[0], 0x1B);
    let dchg = _mm_shuffle_epi32(s[1], 0xB1);
    let dcba = _mm_blend_epi16(feba, dchg, 0xF0);
    let hgfe = _mm_alignr_epi8(dchg, feba, 8);
    let mut words = [0u32; 8];
    _mm_storeu_si128(words.as_mut_ptr().cast(), dcba);
    _mm_storeu_si128(words.as_mut_ptr().add(4).cast(), hgfe);
    let mut out = [0u8; 32];
    for (k, w) in words.iter().enumerate() {
        out[4 * k..4 * k + 4].copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// The four message words of quad ``q`` (0..16) of a block, from the ring ``w`` of the last four
/// quads (``w[q % 4]`` holds quad ``q - 4`` until it is replaced): the block's own words for the
/// first four quads, else the schedule (msg1, the words seven back, msg2).
macro_rules! schedule {
    ($w:ident, $block:ident, $q:literal, $mask:ident) => {
        if $q < 4 {
            $w[$q % 4] = _mm_shuffle_epi8(_mm_loadu_si128($block.as_ptr().add(16 * $q).cast()), $mask);
        } else {
            let t = _mm_sha256msg1_epu32($w[$q % 4], $w[($q + 1) % 4]);
            let t = _mm_add_epi32(t, _mm_alignr_epi8($w[($q + 3) % 4], $w[($q + 2) % 4], 4));
            $w[$q % 4] = _mm_sha256msg2_epu32(t, $w[($q + 3) % 4]);
        }
    };
}

/// Four rounds of quad ``q`` on a state (``s0`` ABEF, ``s1`` CDGH) with its message words ``w``.
macro_rules! rounds {
    ($s0:ident, $s1:ident, $w:expr, $q:literal) => {
        let m = _mm_add_epi32($w, _mm_loadu_si128(K.as_ptr().add(4 * $q).cast()));
        $s1 = _mm_sha256rnds2_epu32($s1, $s0, m);
        $s0 = _mm_sha256rnds2_epu32($s0, $s1, _mm_shuffle_epi32(m, 0x0E));
    };
}

/// Every quad of a block, each given to ``$body`` (a macro taking the quad number).
macro_rules! quads {
    ($body:ident) => {
        $body!(0); $body!(1); $body!(2); $body!(3); $body!(4); $body!(5); $body!(6); $body!(7);
        $body!(8); $body!(9); $body!(10); $body!(11); $body!(12); $body!(13); $body!(14); $body!(15);
    };
}

/// One block of each of two streams, their rounds interleaved.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sha,ssse3,sse4.1")]
unsafe fn compress2(sa: &mut [__m128i; 2], sb: &mut [__m128i; 2], a: &[u8], b: &[u8]) {
    debug_assert!(a.len() == 64 && b.len() == 64);
    let mask = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
    let (mut a0, mut a1, mut b0, mut b1) = (sa[0], sa[1], sb[0], sb[1]);
    let (mut wa, mut wb) = ([a0; 4], [b0; 4]);
    macro_rules! quad {
        ($q:literal) => {
            schedule!(wa, a, $q, mask);
            schedule!(wb, b, $q, mask);
            rounds!(a0, a1, wa[$q % 4], $q);
            rounds!(b0, b1, wb[$q % 4], $q);
        };
    }
    quads!(quad);
    sa[0] = _mm_add_epi32(sa[0], a0);
    sa[1] = _mm_add_epi32(sa[1], a1);
    sb[0] = _mm_add_epi32(sb[0], b0);
    sb[1] = _mm_add_epi32(sb[1], b1);
}

/// One block of one stream (the longer message's blocks past the shorter's end).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sha,ssse3,sse4.1")]
unsafe fn compress1(sa: &mut [__m128i; 2], a: &[u8]) {
    debug_assert!(a.len() == 64);
    let mask = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
    let (mut a0, mut a1) = (sa[0], sa[1]);
    let mut wa = [a0; 4];
    macro_rules! quad {
        ($q:literal) => {
            schedule!(wa, a, $q, mask);
            rounds!(a0, a1, wa[$q % 4], $q);
        };
    }
    quads!(quad);
    sa[0] = _mm_add_epi32(sa[0], a0);
    sa[1] = _mm_add_epi32(sa[1], a1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn reference(prefix: &[u8], body: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(prefix);
        h.update(body);
        h.finalize().into()
    }

    #[test]
    fn same_digests_as_sha2() {
        if !available() {
            return;
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let data: Vec<u8> = (0..1200)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        for prefix in [&b""[..], b"github\0", b"x", &[7u8; 63][..]] {
            for la in (0..300).chain([511, 512, 513, 1000, 1200]) {
                for lb in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200, la, 1199] {
                    let (a, b) = (&data[..la], &data[1200 - lb..]);
                    let (da, db) = digests2(prefix, a, b);
                    assert_eq!(da, reference(prefix, a), "prefix {} a {la}", prefix.len());
                    assert_eq!(db, reference(prefix, b), "prefix {} b {lb}", prefix.len());
                }
            }
        }
    }
}

#[cfg(test)]
mod bench {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    #[ignore]
    fn speed() {
        for size in [1_200, 10_000] {  // a CloudTrail record, a GitHub webhook payload
            let data = vec![b'a'; size];
            let t = std::time::Instant::now();
            let mut x = 0u8;
            for _ in 0..20_000 {
                let mut h = Sha256::new();
                h.update(b"github\0");
                h.update(&data);
                x ^= h.finalize()[0];
            }
            let one = t.elapsed().as_secs_f64() / 20_000.0 * 1e6;
            let t = std::time::Instant::now();
            for _ in 0..10_000 {
                let (a, b) = digests2(b"github\0", &data, &data);
                x ^= a[0] ^ b[0];
            }
            let two = t.elapsed().as_secs_f64() / 20_000.0 * 1e6;
            println!("us per {size}-byte record: sha2 {one:.3}, x2 {two:.3} ({x})");
        }
    }
}
