//! A bounded, process-wide free list of residue buffers.
//!
//! Every homomorphic operation allocates its result, and the buffers are large: at N = 2^16
//! one polynomial of 11 limbs is 5.5 MiB. The system allocator serves such sizes with fresh
//! memory maps and unmaps them on free, so each result pays one page fault per 4 KiB page on
//! first touch — measured at 583,000 faults in one `helrm bench ops` run, and up to three
//! times the arithmetic's time for cheap operations such as an encryption or a plaintext
//! product written to new memory. Dropped polynomials hand their buffers to this pool and new
//! polynomials take one back, so steady-state evaluation reuses resident memory.
//!
//! The pool keeps at most [`capacity`] bytes (default [`DEFAULT_CAPACITY_BYTES`];
//! [`set_capacity`] changes it, 0 turns pooling off) and only buffers of at least
//! [`MIN_POOLED_WORDS`] words: smaller ones come from the allocator's heap, which reuses them
//! without faults. A buffer handed out is always fully written before use (zeroed or copied
//! into), so no residue of a previous polynomial is observable; buffers that held secrets are
//! zeroized by their owners before they are dropped.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// The pool's default capacity: 512 MiB.
pub const DEFAULT_CAPACITY_BYTES: usize = 512 << 20;

/// Buffers smaller than this (128 KiB, the C allocator's usual threshold for mapping memory
/// separately) are not pooled.
pub const MIN_POOLED_WORDS: usize = 1 << 14;

/// A buffer is reused for a request of `words` only if its capacity is below `SLACK × words`,
/// so small requests do not pin large buffers.
const SLACK: usize = 2;

/// How the pool has served requests since the process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Requests served from a free buffer.
    pub hits: u64,
    /// Requests of a pooled size that found no free buffer (fresh memory).
    pub misses: u64,
    /// Buffers dropped to make room for more recently returned ones.
    pub evicted: u64,
}

#[derive(Debug)]
struct Pool {
    /// Free buffers by capacity in words, each list in the order returned (oldest first),
    /// with the stamp of its return.
    free: BTreeMap<usize, Vec<(u64, Vec<u64>)>>,
    /// Bytes held in `free`.
    bytes: usize,
    /// Most bytes `free` may hold.
    capacity: usize,
    /// Stamp of the next returned buffer.
    clock: u64,
    stats: PoolStats,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    free: BTreeMap::new(),
    bytes: 0,
    capacity: DEFAULT_CAPACITY_BYTES,
    clock: 0,
    stats: PoolStats {
        hits: 0,
        misses: 0,
        evicted: 0,
    },
});

fn lock() -> std::sync::MutexGuard<'static, Pool> {
    POOL.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pool {
    /// Removes the smallest free buffer that can hold `words` without excess slack (of that
    /// size, the one returned last: its pages are the likeliest to be in cache).
    fn take(&mut self, words: usize) -> Option<Vec<u64>> {
        let limit = words.saturating_mul(SLACK);
        let Some((&cap, _)) = self.free.range(words..limit).next() else {
            self.stats.misses += 1;
            return None;
        };
        let list = self.free.get_mut(&cap)?;
        let (_, v) = list.pop()?;
        if list.is_empty() {
            self.free.remove(&cap);
        }
        self.bytes -= cap * 8;
        self.stats.hits += 1;
        Some(v)
    }

    /// Keeps `v` (capacity `cap` words), dropping the buffers returned longest ago until it
    /// fits; a buffer larger than the whole capacity is not kept. The working set of sizes
    /// moves as a computation goes through levels, and old sizes give way to new ones.
    fn give(&mut self, cap: usize, v: Vec<u64>) {
        let bytes = cap * 8;
        if bytes > self.capacity {
            return;
        }
        while self.bytes + bytes > self.capacity {
            if !self.evict_oldest() {
                return;
            }
        }
        self.bytes += bytes;
        let stamp = self.clock;
        self.clock += 1;
        self.free.entry(cap).or_default().push((stamp, v));
    }

    /// Drops the buffer returned longest ago; false when there is none.
    fn evict_oldest(&mut self) -> bool {
        let Some(cap) = self
            .free
            .iter()
            .filter_map(|(&cap, list)| list.first().map(|(stamp, _)| (*stamp, cap)))
            .min()
            .map(|(_, cap)| cap)
        else {
            return false;
        };
        if let Some(list) = self.free.get_mut(&cap) {
            list.remove(0);
            if list.is_empty() {
                self.free.remove(&cap);
            }
            self.bytes -= cap * 8;
            self.stats.evicted += 1;
        }
        true
    }

    /// Drops free buffers, oldest first, until at most `capacity` bytes remain.
    fn shrink_to_capacity(&mut self) {
        while self.bytes > self.capacity && self.evict_oldest() {}
    }
}

/// The most bytes the pool keeps.
pub fn capacity() -> usize {
    lock().capacity
}

/// Sets the most bytes the pool keeps (0: no pooling), releasing what is over it.
pub fn set_capacity(bytes: usize) {
    let mut pool = lock();
    pool.capacity = bytes;
    pool.shrink_to_capacity();
}

/// Bytes currently held in free buffers.
pub fn retained_bytes() -> usize {
    lock().bytes
}

/// Hits, misses and evictions since the process started.
pub fn stats() -> PoolStats {
    lock().stats
}

/// A buffer of `words` zeros.
pub(crate) fn take_zeroed(words: usize) -> Vec<u64> {
    if words < MIN_POOLED_WORDS {
        return vec![0; words];
    }
    let Some(mut v) = lock().take(words) else {
        // Zeroed pages straight from the allocator (no fill pass).
        return vec![0; words];
    };
    v.clear();
    v.resize(words, 0);
    v
}

/// An empty buffer with room for `words` words, for the caller to extend.
pub(crate) fn take_empty(words: usize) -> Vec<u64> {
    if words < MIN_POOLED_WORDS {
        return Vec::with_capacity(words);
    }
    let Some(mut v) = lock().take(words) else {
        return Vec::with_capacity(words);
    };
    v.clear();
    v
}

/// A buffer of `words` words whose contents the caller overwrites in full (scratch space):
/// a reused buffer is only cut or extended to length, not cleared first.
pub(crate) fn take_scratch(words: usize) -> Vec<u64> {
    if words < MIN_POOLED_WORDS {
        return vec![0; words];
    }
    let Some(mut v) = lock().take(words) else {
        // Zeroed pages straight from the allocator (no fill pass).
        return vec![0; words];
    };
    if v.len() >= words {
        v.truncate(words);
    } else {
        v.resize(words, 0);
    }
    v
}

/// A buffer holding a copy of `src`.
pub(crate) fn take_copy(src: &[u64]) -> Vec<u64> {
    if src.len() < MIN_POOLED_WORDS {
        return src.to_vec();
    }
    let Some(mut v) = lock().take(src.len()) else {
        return src.to_vec();
    };
    v.clear();
    v.extend_from_slice(src);
    v
}

/// Hands a buffer back; it is kept if it is large enough, making room by dropping the
/// buffers returned longest ago.
pub(crate) fn give(v: Vec<u64>) {
    let cap = v.capacity();
    if cap < MIN_POOLED_WORDS {
        return;
    }
    lock().give(cap, v);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool is process-wide and the tests of this crate run in parallel, so these tests
    /// check properties that hold whatever other threads do between the calls.
    #[test]
    fn taken_buffers_are_zeroed_or_copied_whatever_they_held() {
        let words = MIN_POOLED_WORDS + 3;
        give(vec![0xdead_beef; words]);
        let z = take_zeroed(words);
        assert_eq!(z.len(), words);
        assert!(z.iter().all(|&x| x == 0));
        give(vec![7; words]);
        let src: Vec<u64> = (0..words as u64).collect();
        let c = take_copy(&src);
        assert_eq!(c, src);
        give(c);
        let e = take_empty(words);
        assert!(e.is_empty() && e.capacity() >= words);
        give(e);
        assert_eq!(take_scratch(words).len(), words);
        assert_eq!(take_scratch(3).len(), 3);
        // Small requests are served whatever the pool holds.
        assert_eq!(take_zeroed(5), vec![0; 5]);
        assert_eq!(take_copy(&[1, 2, 3]), vec![1, 2, 3]);
    }

    #[test]
    fn a_take_never_uses_a_buffer_too_large_or_too_small() {
        let mut p = pool(usize::MAX);
        for cap in [100usize, 250, 1000] {
            p.give(cap, Vec::with_capacity(cap));
        }
        assert!(
            p.take(400).is_none(),
            "1000 >= 2 x 400 is too large, 250 too small"
        );
        let v = p.take(240).expect("250 serves 240");
        assert!(v.capacity() >= 250 && v.capacity() < 480);
        assert_eq!(p.bytes, (100 + 1000) * 8);
        assert!(p.take(99).expect("100 serves 99").capacity() >= 100);
        assert!(p.take(99).is_none());
        assert_eq!(p.bytes, 1000 * 8);
    }

    #[test]
    fn the_pool_never_holds_more_than_its_capacity_and_evicts_the_oldest() {
        let mut p = pool(3000 * 8);
        for cap in [1000usize, 2000] {
            p.give(cap, Vec::with_capacity(cap));
        }
        assert_eq!(p.bytes, 3000 * 8);
        // A newer buffer makes room by evicting the one returned first (1000), not the
        // largest.
        p.give(500, Vec::with_capacity(500));
        assert!(p.bytes <= p.capacity);
        assert_eq!(p.bytes, 2500 * 8);
        assert!(p.free.contains_key(&2000) && p.free.contains_key(&500));
        assert_eq!(p.stats.evicted, 1);
        // One larger than the whole capacity is not kept and evicts nothing.
        p.give(4000, Vec::with_capacity(4000));
        assert_eq!((p.bytes, p.stats.evicted), (2500 * 8, 1));
        // Hits and misses are counted.
        assert!(p.take(1800).is_some());
        assert!(p.take(1800).is_none());
        assert_eq!((p.stats.hits, p.stats.misses), (1, 1));
        p.capacity = 0;
        p.shrink_to_capacity();
        assert_eq!(p.bytes, 0);
        assert!(p.free.is_empty());
    }

    fn pool(capacity: usize) -> Pool {
        Pool {
            free: BTreeMap::new(),
            bytes: 0,
            capacity,
            clock: 0,
            stats: PoolStats::default(),
        }
    }
}
