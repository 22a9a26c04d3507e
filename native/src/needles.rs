//! Whether a text holds any of a few needles, in one pass.
//!
//! Design: one needle is memchr's SIMD memmem. Several are one pass of the `aho-corasick`
//! crate's packed searcher, the SIMD "Teddy" search for a few short needles (SSSE3/AVX2,
//! chosen at run time); memmem per needle read the text once a needle (ten passes over a
//! `_bulk` body for CloudTrail's wrapper keys: ~70 us for 125 records, against ~25). The
//! crate's `AhoCorasick::is_match` was slower than memmem per needle there (~160-210 us): its
//! prefilter stops at every candidate for a full automaton step. Where the packed searcher
//! cannot be built (no SSSE3, too many needles), memmem per needle stays. A searcher is built
//! once per needle set and kept: callers pass a handful of constant tuples, so the memo holds
//! at most [`KEPT`] sets (a set past that is built for its call and dropped).
//!
//! Guarantees: the answer equals `any(n in data for n in needles)` for every input (an empty
//! needle is in every text; no needle, in none).

use std::sync::{Arc, Mutex};

use aho_corasick::packed::Searcher;

/// Needle sets whose searcher is kept.
const KEPT: usize = 16;

/// A needle set and its searcher.
type Kept = (Vec<Vec<u8>>, Arc<Searcher>);

static MEMO: Mutex<Vec<Kept>> = Mutex::new(Vec::new());

/// The searcher for ``needles`` (from the memo, or built and kept while there is room).
fn searcher(needles: &[Vec<u8>]) -> Option<Arc<Searcher>> {
    let mut memo = MEMO.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, ac)) = memo.iter().find(|(n, _)| n.as_slice() == needles) {
        return Some(ac.clone());
    }
    let ac = Arc::new(Searcher::new(needles)?);
    if memo.len() < KEPT {
        memo.push((needles.to_vec(), ac.clone()));
    }
    Some(ac)
}

/// Whether ``hay`` holds any of ``needles``.
pub(crate) fn contains_any(hay: &[u8], needles: &[Vec<u8>]) -> bool {
    let memmem = || {
        needles
            .iter()
            .any(|n| memchr::memmem::find(hay, n).is_some())
    };
    if needles.len() < 2 {
        return memmem();
    }
    match searcher(needles) {
        Some(teddy) => teddy.find(hay).is_some(),
        None => memmem(), // no packed searcher for this set or CPU: one pass a needle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_a_search_per_needle() {
        let sets: [&[&[u8]]; 4] = [
            &[
                b"\"detail-type\"",
                b"\"logEvents\"",
                b"\"field\"",
                b"\"awslogs\"",
            ],
            &[b"ab", b"b", b"zz"],
            &[b"", b"q"],
            &[],
        ];
        let texts: [&[u8]; 6] = [
            b"",
            b"{\"awsRegion\":\"x\",\"fields\":1}",
            b"{\"a\":{\"field\":2}}",
            b"xxab",
            b"zqz",
            b"{\"detail-type\":\"AWS API Call via CloudTrail\"}",
        ];
        for set in sets {
            let needles: Vec<Vec<u8>> = set.iter().map(|n| n.to_vec()).collect();
            for text in texts {
                let want = needles.iter().any(|n| {
                    text.windows(n.len().max(1)).any(|w| w.starts_with(n)) || n.is_empty()
                });
                assert_eq!(contains_any(text, &needles), want, "{set:?} in {text:?}");
                assert_eq!(
                    contains_any(text, &needles),
                    want,
                    "memo: {set:?} in {text:?}"
                );
            }
        }
        // random texts over the needles' own bytes, with needles planted at random offsets
        let keys: Vec<Vec<u8>> = [
            &b"\"detail-type\""[..],
            b"\"logEvents\"",
            b"\"CloudTrailEvent\"",
            b"\"TopicArn\"",
            b"\"ingestionTime\"",
            b"\"nextForwardToken\"",
            b"\"searchedLogStreams\"",
            b"\"field\"",
            b"\"awslogs\"",
            b"\"QueryResultRows\"",
        ]
        .iter()
        .map(|n| n.to_vec())
        .collect();
        let alphabet = b"\"deftailgosTpcAnrQuyRw:{},";
        let mut seed = 11u64;
        let mut next = |m: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % m
        };
        for _ in 0..3000 {
            let len = next(400);
            let mut text: Vec<u8> = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            if next(2) == 0 {
                let key = &keys[next(keys.len())];
                let cut = next(key.len()) + 1; // sometimes only a prefix of it
                let at = next(len + 1);
                text.splice(at..at, key[..cut].iter().copied());
            }
            let want = keys
                .iter()
                .any(|n| memchr::memmem::find(&text, n).is_some());
            assert_eq!(
                contains_any(&text, &keys),
                want,
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
        // a needle at every offset of a long text, on either side of a SIMD block's edge
        let needles: Vec<Vec<u8>> = [&b"\"QueryResultRows\""[..], b"\"TopicArn\""]
            .iter()
            .map(|n| n.to_vec())
            .collect();
        for at in 0..200 {
            let mut text = vec![b'a'; 300];
            text[at..at + 10].copy_from_slice(b"\"TopicArn\"");
            assert!(contains_any(&text, &needles), "at {at}");
            text[at + 9] = b'x';
            assert!(!contains_any(&text, &needles), "at {at}");
        }
    }
}
