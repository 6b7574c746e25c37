//! Exact object sizes and the key-switching digit partition.
//!
//! These are the formulas of `docs/cost-model.md` ("Object sizes"), written once so that
//! tests can pin them to the figures the papers state.

use std::ops::Range;

/// Saturating product of a few factors (sizes and counts never wrap; absurd inputs saturate).
pub(crate) fn product(factors: &[u64]) -> u64 {
    factors.iter().fold(1u64, |acc, &f| acc.saturating_mul(f))
}

/// Bytes of a ciphertext with `components` polynomials of `limbs` limbs of `n` words of
/// `word_bytes` bytes: `components · limbs · n · word_bytes`.
///
/// # Example
/// ```
/// use helrm_sim::lower::ciphertext_bytes;
/// // HE-LRM's parameters: N = 2^16, 11 Q limbs, 8-byte words.
/// assert_eq!(ciphertext_bytes(1 << 16, 11, 2, 8), 11_534_336);
/// ```
pub fn ciphertext_bytes(n: u64, limbs: u32, components: u32, word_bytes: u32) -> u64 {
    product(&[
        u64::from(components),
        u64::from(limbs),
        n,
        u64::from(word_bytes),
    ])
}

/// Bytes of one key-switching key (relinearisation or one Galois key) as a key switch with
/// `digits` digits at `q_limbs` Q limbs reads it: for each digit, two polynomials over
/// `q_limbs + p_limbs` limbs, `digits · 2 · (q_limbs + p_limbs) · n · word_bytes`. With
/// `compressed`, the uniform half of each pair is regenerated on chip from a seed and only
/// the other half is stored: half the bytes.
///
/// # Example
/// ```
/// use helrm_sim::lower::key_switch_key_bytes;
/// // HE-LRM: N = 2^16, dnum 4, 11 Q limbs, 3 P limbs, 8-byte words.
/// assert_eq!(key_switch_key_bytes(1 << 16, 4, 11, 3, 8, false), 58_720_256);
/// assert_eq!(key_switch_key_bytes(1 << 16, 4, 11, 3, 8, true), 29_360_128);
/// ```
pub fn key_switch_key_bytes(
    n: u64,
    digits: u32,
    q_limbs: u32,
    p_limbs: u32,
    word_bytes: u32,
    compressed: bool,
) -> u64 {
    let halves = if compressed { 1 } else { 2 };
    product(&[
        u64::from(digits),
        halves,
        u64::from(q_limbs) + u64::from(p_limbs),
        n,
        u64::from(word_bytes),
    ])
}

/// Splits `q_count` Q indices into `dnum` consecutive, balanced digits, as the CKKS
/// parameters do: the first `q_count mod dnum` digits get `⌈q_count/dnum⌉` primes, the others
/// `⌊q_count/dnum⌋`. `dnum` is clamped to `1..=q_count`; `q_count = 0` gives no digits.
///
/// # Example
/// ```
/// use helrm_sim::lower::digit_partition;
/// // HE-LRM: 11 Q primes, dnum 4.
/// assert_eq!(digit_partition(11, 4), vec![0..3, 3..6, 6..9, 9..11]);
/// ```
pub fn digit_partition(q_count: u32, dnum: u32) -> Vec<Range<u32>> {
    if q_count == 0 {
        return Vec::new();
    }
    let dnum = dnum.clamp(1, q_count);
    let (base, extra) = (q_count / dnum, q_count % dnum);
    let mut out = Vec::with_capacity(dnum as usize);
    let mut start = 0;
    for j in 0..dnum {
        let len = base + u32::from(j < extra);
        out.push(start..start + len);
        start += len;
    }
    out
}

/// The sizes of the digits a key switch at `limbs` Q limbs uses: the digits of `partition`
/// that start below `limbs`, each cut at `limbs`.
pub fn digits_in_use(partition: &[Range<u32>], limbs: u32) -> Vec<u32> {
    partition
        .iter()
        .filter(|d| d.start < limbs)
        .map(|d| d.end.min(limbs) - d.start)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn he_lrm_sizes_are_exact() {
        // N = 2^16, 11 Q limbs, 3 P limbs, dnum 4, 8-byte words.
        assert_eq!(ciphertext_bytes(1 << 16, 11, 2, 8), 11_534_336);
        assert_eq!(
            key_switch_key_bytes(1 << 16, 4, 11, 3, 8, false),
            58_720_256
        );
    }

    #[test]
    fn bts_sizes_are_exact() {
        // N = 2^17, 28 limbs, dnum 1 (so the special primes number 28 too), 8-byte words:
        // a ciphertext is 56 MiB and a key 112 MiB.
        assert_eq!(ciphertext_bytes(1 << 17, 28, 2, 8), 56 << 20);
        assert_eq!(
            key_switch_key_bytes(1 << 17, 1, 28, 28, 8, false),
            112 << 20
        );
    }

    #[test]
    fn partition_matches_the_parameter_sets() {
        assert_eq!(digit_partition(11, 4), vec![0..3, 3..6, 6..9, 9..11]);
        // ⌈16/3⌉ = 6 digits (3,3,3,3,2,2 primes).
        let sizes: Vec<u32> = digit_partition(16, 6)
            .iter()
            .map(|r| r.len() as u32)
            .collect();
        assert_eq!(sizes, vec![3, 3, 3, 3, 2, 2]);
        assert_eq!(digit_partition(28, 1), vec![0..28]);
        assert_eq!(digit_partition(3, 9), vec![0..1, 1..2, 2..3]);
        assert!(digit_partition(0, 2).is_empty());
    }

    #[test]
    fn digits_in_use_are_cut_at_the_level() {
        let p = digit_partition(11, 4);
        assert_eq!(digits_in_use(&p, 11), vec![3, 3, 3, 2]);
        assert_eq!(digits_in_use(&p, 7), vec![3, 3, 1]);
        assert_eq!(digits_in_use(&p, 1), vec![1]);
    }
}
