//! The memories the engine manages: a finite on-chip memory with LRU or Belady replacement,
//! and the off-chip memory in front of host memory.
//!
//! Both hold whole objects (see `docs/cost-model.md`, "Engine"). They are plain bookkeeping —
//! which objects are where, since when, and which to evict — and know nothing of time beyond
//! the cycle stamps the engine stores in them. Replacement decisions come only from totally
//! ordered structures (a heap of `(rank, key, stamp)` on chip, a tick-ordered list off chip),
//! never from hash order: the hash maps here are used for lookups by key and are never
//! iterated. Every operation is O(log n) or amortised O(1) in the objects held, so replay time
//! grows linearly with the trace.

use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use helrm_hwmodels::ReplacementPolicy;

use crate::lower::{ObjectKey, TrafficClass};

/// A fast, deterministic hasher for the engine's lookup tables (a multiply-rotate hash in
/// the style of rustc's FxHash): keys are small integers chosen by the trace, not by an
/// adversary, and the tables are never iterated, so neither hash-flooding resistance nor a
/// random seed buys anything here.
#[derive(Debug, Clone, Copy, Default)]
pub struct FastHasher {
    hash: u64,
}

const FAST_HASH_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    #[inline]
    fn add(&mut self, x: u64) {
        self.hash = (self.hash.rotate_left(5) ^ x).wrapping_mul(FAST_HASH_SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            if let Some(w) = word.get_mut(..chunk.len()) {
                w.copy_from_slice(chunk);
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn write_isize(&mut self, i: isize) {
        self.add(i as u64);
    }
}

/// A hash map keyed by small integers with [`FastHasher`] (lookups only, never iterated).
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A hash set with [`FastHasher`] (lookups only, never iterated).
pub type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

/// The eviction rank of an object that is dead (no later use): evicted before anything live.
pub const DEAD: u64 = u64::MAX;

/// An object held in on-chip memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resident {
    /// Bytes it occupies.
    pub bytes: u64,
    /// What it is, for traffic accounting.
    pub class: TrafficClass,
    /// Cycle at which its data is on chip (fetch done, or producing kernel finished).
    pub ready_at: u64,
    /// Cycle until which a kernel reads or writes it: its space is reusable only afterwards.
    pub busy_until: u64,
    /// Written on chip and not yet copied off chip.
    pub dirty: bool,
    /// Read by some kernel since it was last written (a result nobody read is a program
    /// output, written back when it dies).
    pub read_since_write: bool,
    /// Eviction rank: the highest rank goes first ([`DEAD`] for dead objects).
    pub rank: u64,
}

/// The on-chip memory: a capacity, the objects in it, and their eviction order.
///
/// Ranks implement both policies: under Belady an object's rank is the position of its next
/// use (furthest first), under LRU it is `u64::MAX − 1 − last use` (oldest first). Dead
/// objects keep their space, at rank [`DEAD`], until something needs it, so that the engine
/// can respect the cycle at which their last reader finishes.
///
/// The eviction order is a lazy max-heap of `(rank, key, stamp)`: a rank change pushes a new
/// entry with a fresh stamp (O(log n), no search), and entries whose stamp is no longer the
/// object's are skipped when met and dropped once they outnumber the live ones. Victims come
/// out highest rank first, ties larger key first, exactly as from an ordered set.
#[derive(Debug, Clone)]
pub struct OnChip {
    capacity: u64,
    policy: ReplacementPolicy,
    used: u64,
    live: u64,
    peak_live: u64,
    /// Each object with the stamp of its current heap entry. Lookups only (never iterated).
    objects: FastMap<ObjectKey, (Resident, u64)>,
    order: BinaryHeap<(u64, ObjectKey, u64)>,
    stamp: u64,
    /// Keys that became dead with zero bytes (candidates for [`OnChip::purge_empty_dead`]).
    empty_dead: Vec<ObjectKey>,
    /// Entries popped while choosing victims, pushed back afterwards.
    popped: Vec<(u64, ObjectKey, u64)>,
}

impl OnChip {
    /// An empty memory of `capacity` bytes using `policy`.
    pub fn new(capacity: u64, policy: ReplacementPolicy) -> Self {
        OnChip {
            capacity,
            policy,
            used: 0,
            live: 0,
            peak_live: 0,
            objects: FastMap::default(),
            order: BinaryHeap::new(),
            stamp: 0,
            empty_dead: Vec::new(),
            popped: Vec::new(),
        }
    }

    /// The replacement policy.
    pub fn policy(&self) -> ReplacementPolicy {
        self.policy
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Bytes occupied (live and dead objects).
    pub fn used(&self) -> u64 {
        self.used
    }

    /// The largest number of bytes of live objects held at once.
    pub fn peak_live(&self) -> u64 {
        self.peak_live
    }

    /// The object `key`, if held.
    pub fn get(&self, key: &ObjectKey) -> Option<&Resident> {
        self.objects.get(key).map(|(r, _)| r)
    }

    /// Pushes a fresh heap entry for `key` (held) at `rank` and makes it the object's entry;
    /// drops stale entries once they outnumber the live ones (amortised O(1)).
    fn push(&mut self, rank: u64, key: ObjectKey) {
        self.stamp += 1;
        let stamp = self.stamp;
        if let Some((_, st)) = self.objects.get_mut(&key) {
            *st = stamp;
        }
        self.order.push((rank, key, stamp));
        if self.order.len() > 2 * self.objects.len() + 64 {
            let objects = &self.objects;
            self.order
                .retain(|(_, k, s)| objects.get(k).is_some_and(|(_, st)| st == s));
        }
    }

    /// Updates the object `key` (if held) with `f`, keeping the eviction order consistent.
    pub fn update(&mut self, key: &ObjectKey, f: impl FnOnce(&mut Resident)) {
        let Some((r, _)) = self.objects.get_mut(key) else {
            return;
        };
        let (old_rank, old_bytes) = (r.rank, r.bytes);
        f(r);
        let (new_rank, new_bytes) = (r.rank, r.bytes);
        self.used = self.used - old_bytes + new_bytes;
        if old_rank != DEAD {
            self.live -= old_bytes;
        }
        if new_rank != DEAD {
            self.live += new_bytes;
        }
        self.peak_live = self.peak_live.max(self.live);
        if new_rank == DEAD && new_bytes == 0 {
            self.empty_dead.push(*key);
        }
        if old_rank != new_rank {
            self.push(new_rank, *key);
        }
    }

    /// Places `key` (which must not be held; an existing entry is replaced).
    pub fn insert(&mut self, key: ObjectKey, r: Resident) {
        self.remove(&key);
        self.used += r.bytes;
        if r.rank != DEAD {
            self.live += r.bytes;
            self.peak_live = self.peak_live.max(self.live);
        } else if r.bytes == 0 {
            self.empty_dead.push(key);
        }
        self.objects.insert(key, (r, 0));
        self.push(r.rank, key);
    }

    /// Removes `key`, returning what was held (its heap entry goes stale).
    pub fn remove(&mut self, key: &ObjectKey) -> Option<Resident> {
        let (r, _) = self.objects.remove(key)?;
        self.used -= r.bytes;
        if r.rank != DEAD {
            self.live -= r.bytes;
        }
        Some(r)
    }

    /// Chooses objects to evict so that `need` more bytes fit, never choosing a key in
    /// `pinned`, highest rank first (ties: the larger key first). Returns `false`, choosing
    /// nothing, if even evicting every unpinned object would not make room. Nothing held
    /// changes (the engine removes the victims).
    pub fn choose_victims(
        &mut self,
        need: u64,
        pinned: &[ObjectKey],
        victims: &mut Vec<ObjectKey>,
    ) -> bool {
        victims.clear();
        let free = self.capacity.saturating_sub(self.used);
        if need <= free {
            return true;
        }
        let pinned_bytes: u64 = pinned
            .iter()
            .filter_map(|k| self.objects.get(k))
            .map(|(r, _)| r.bytes)
            .sum();
        if need > self.capacity.saturating_sub(pinned_bytes) {
            return false;
        }
        let mut freed = free;
        let mut popped = std::mem::take(&mut self.popped);
        popped.clear();
        while freed < need {
            let Some(entry) = self.order.pop() else {
                break;
            };
            let (_, key, stamp) = entry;
            let Some((r, st)) = self.objects.get(&key) else {
                continue;
            };
            if *st != stamp {
                continue;
            }
            popped.push(entry);
            if pinned.contains(&key) {
                continue;
            }
            freed += r.bytes;
            victims.push(key);
        }
        self.order.extend(popped.drain(..));
        self.popped = popped;
        freed >= need
    }

    /// Removes the dead objects whose size is zero (nothing to evict them for).
    pub fn purge_empty_dead(&mut self) {
        let mut keys = std::mem::take(&mut self.empty_dead);
        for k in keys.drain(..) {
            let empty = self
                .objects
                .get(&k)
                .is_some_and(|(r, _)| r.rank == DEAD && r.bytes == 0);
            if empty {
                self.remove(&k);
            }
        }
        self.empty_dead = keys;
    }
}

/// An object's copy in off-chip memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffChipCopy {
    /// Bytes it occupies.
    pub bytes: u64,
    /// What it is.
    pub class: TrafficClass,
    /// Cycle from which the copy is valid (its write-back or host transfer is done).
    pub valid_at: u64,
    /// Host memory holds the same data (initial data, or fetched from the host), so evicting
    /// this copy needs no transfer.
    pub in_host: bool,
    tick: u64,
}

/// The off-chip memory as the engine sees it: a finite store of object copies in front of
/// host memory, evicting least recently used copies to the host when full.
#[derive(Debug, Clone)]
pub struct OffChip {
    capacity: u64,
    used: u64,
    tick: u64,
    /// Lookups only (never iterated), as are the maps below.
    copies: FastMap<ObjectKey, OffChipCopy>,
    /// `(tick, key)` in increasing tick order, one entry per use: an entry whose tick is not
    /// its copy's current tick is stale and skipped (a lazy LRU list, O(1) per touch, compacted
    /// when stale entries outnumber live ones).
    order: VecDeque<(u64, ObjectKey)>,
    /// Objects whose only copy is in host memory, with the cycle it is valid from.
    in_host: FastMap<ObjectKey, u64>,
    /// Objects ever placed or produced (anything else read is initial data).
    known: FastSet<ObjectKey>,
}

impl OffChip {
    /// An empty off-chip memory of `capacity` bytes.
    pub fn new(capacity: u64) -> Self {
        OffChip {
            capacity,
            used: 0,
            tick: 0,
            copies: FastMap::default(),
            order: VecDeque::new(),
            in_host: FastMap::default(),
            known: FastSet::default(),
        }
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Bytes occupied.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// The copy of `key`, marking it most recently used.
    pub fn touch(&mut self, key: &ObjectKey) -> Option<OffChipCopy> {
        let c = self.copies.get_mut(key)?;
        self.tick += 1;
        c.tick = self.tick;
        let copy = *c;
        self.order.push_back((copy.tick, *key));
        self.compact();
        Some(copy)
    }

    /// Whether `(tick, key)` in `order` is the current entry of a held copy.
    fn current(&self, tick: u64, key: &ObjectKey) -> Option<&OffChipCopy> {
        self.copies.get(key).filter(|c| c.tick == tick)
    }

    /// Drops stale entries from `order` once they outnumber the live ones (amortised O(1)).
    fn compact(&mut self) {
        if self.order.len() > 2 * self.copies.len() + 64 {
            let copies = &self.copies;
            self.order
                .retain(|(t, k)| copies.get(k).is_some_and(|c| c.tick == *t));
        }
    }

    /// True if `key` was never seen: it is initial data (keys, weights, client inputs).
    pub fn is_initial(&self, key: &ObjectKey) -> bool {
        !self.known.contains(key)
    }

    /// If the only copy of `key` is in host memory, the cycle from which it is valid there.
    pub fn in_host(&self, key: &ObjectKey) -> Option<u64> {
        self.in_host.get(key).copied()
    }

    /// Records that `key` exists (produced on chip, or placed).
    pub fn know(&mut self, key: ObjectKey) {
        self.known.insert(key);
    }

    /// Bytes free without evicting.
    pub fn free(&self) -> u64 {
        self.capacity.saturating_sub(self.used)
    }

    /// Least recently used copies to evict so that `need` bytes fit (never `keep`); empty if
    /// they fit already. Returns `false` if `need` exceeds the capacity.
    pub fn choose_victims(
        &self,
        need: u64,
        keep: &ObjectKey,
        victims: &mut Vec<(ObjectKey, OffChipCopy)>,
    ) -> bool {
        victims.clear();
        if need > self.capacity {
            return false;
        }
        let mut free = self.free();
        for (tick, key) in &self.order {
            if free >= need {
                break;
            }
            if key == keep {
                continue;
            }
            if let Some(c) = self.current(*tick, key) {
                free += c.bytes;
                victims.push((*key, *c));
            }
        }
        free >= need
    }

    /// Moves `key`'s copy to host memory, valid there from cycle `valid_at` (the engine has
    /// accounted any transfer).
    pub fn evict_to_host(&mut self, key: &ObjectKey, valid_at: u64) {
        self.remove(key);
        self.known.insert(*key);
        self.in_host.insert(*key, valid_at);
    }

    /// Places a copy of `key` (replacing an older one), most recently used.
    pub fn place(
        &mut self,
        key: ObjectKey,
        bytes: u64,
        class: TrafficClass,
        valid_at: u64,
        in_host: bool,
    ) {
        self.remove(&key);
        self.known.insert(key);
        self.in_host.remove(&key);
        self.tick += 1;
        self.used += bytes;
        self.order.push_back((self.tick, key));
        self.copies.insert(
            key,
            OffChipCopy {
                bytes,
                class,
                valid_at,
                in_host,
                tick: self.tick,
            },
        );
        self.compact();
    }

    /// Drops the copy of `key` (stale or dead), returning it.
    pub fn remove(&mut self, key: &ObjectKey) -> Option<OffChipCopy> {
        let c = self.copies.remove(key)?;
        self.used -= c.bytes;
        Some(c)
    }

    /// Forgets `key` everywhere (it is dead).
    pub fn forget(&mut self, key: &ObjectKey) {
        self.remove(key);
        self.in_host.remove(key);
        self.known.remove(key);
    }

    /// Marks `key`'s off-chip and host copies stale (it was written on chip).
    pub fn invalidate(&mut self, key: &ObjectKey) {
        self.remove(key);
        self.in_host.remove(key);
        if !self.known.contains(key) {
            self.known.insert(*key);
        }
    }

    /// True if `key` has a copy off chip or in host memory.
    pub fn holds(&self, key: &ObjectKey) -> bool {
        self.copies.contains_key(key) || self.in_host.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(bytes: u64, rank: u64) -> Resident {
        Resident {
            bytes,
            class: TrafficClass::Ciphertext,
            ready_at: 0,
            busy_until: 0,
            dirty: false,
            read_since_write: false,
            rank,
        }
    }

    #[test]
    fn victims_are_highest_rank_first_and_never_pinned() {
        let mut m = OnChip::new(100, ReplacementPolicy::Belady);
        m.insert(ObjectKey::Trace(1), r(40, 10));
        m.insert(ObjectKey::Trace(2), r(40, 30));
        m.insert(ObjectKey::Trace(3), r(20, 20));
        let mut v = Vec::new();
        assert!(m.choose_victims(0, &[], &mut v) && v.is_empty());
        assert!(m.choose_victims(30, &[], &mut v));
        assert_eq!(v, vec![ObjectKey::Trace(2)]);
        assert!(m.choose_victims(30, &[ObjectKey::Trace(2)], &mut v));
        assert_eq!(v, vec![ObjectKey::Trace(3), ObjectKey::Trace(1)]);
        // 100 bytes cannot fit beside a pinned 40-byte object.
        assert!(!m.choose_victims(100, &[ObjectKey::Trace(1)], &mut v));
        assert!(v.is_empty());
    }

    #[test]
    fn occupancy_tracks_live_and_dead_bytes() {
        let mut m = OnChip::new(100, ReplacementPolicy::Lru);
        m.insert(ObjectKey::Trace(1), r(40, 5));
        m.insert(ObjectKey::Temp(0), r(30, 6));
        assert_eq!((m.used(), m.peak_live()), (70, 70));
        m.update(&ObjectKey::Temp(0), |x| x.rank = DEAD);
        assert_eq!(m.used(), 70);
        m.insert(ObjectKey::Trace(2), r(10, 7));
        assert_eq!(m.peak_live(), 70, "dead bytes are not live");
        let mut v = Vec::new();
        assert!(m.choose_victims(40, &[], &mut v));
        assert_eq!(v, vec![ObjectKey::Temp(0)], "20 free + 30 dead");
        assert!(m.choose_victims(55, &[], &mut v));
        assert_eq!(v, vec![ObjectKey::Temp(0), ObjectKey::Trace(2)]);
        assert_eq!(m.remove(&ObjectKey::Temp(0)).map(|x| x.bytes), Some(30));
        assert_eq!(m.used(), 50);
    }

    #[test]
    fn off_chip_evicts_least_recently_used() {
        let mut m = OffChip::new(100);
        let c = TrafficClass::Ciphertext;
        m.place(ObjectKey::Trace(1), 50, c, 0, true);
        m.place(ObjectKey::Trace(2), 50, c, 0, false);
        m.touch(&ObjectKey::Trace(1));
        let mut v = Vec::new();
        assert!(m.choose_victims(50, &ObjectKey::Trace(9), &mut v));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].0, ObjectKey::Trace(2));
        assert!(!v[0].1.in_host);
        m.evict_to_host(&ObjectKey::Trace(2), 7);
        assert_eq!(m.in_host(&ObjectKey::Trace(2)), Some(7));
        assert!(!m.is_initial(&ObjectKey::Trace(2)));
        assert!(m.is_initial(&ObjectKey::Trace(3)));
        assert!(!m.choose_victims(101, &ObjectKey::Trace(9), &mut v));
    }
}
