//! Sinks that receive events, and the [`Tracer`] the evaluator owns.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::error::TraceError;
use super::event::{OpKind, TraceEvent};

/// Receives trace events. Implementations use interior mutability, so one sink can be shared.
pub trait TraceSink: Send + Sync {
    /// Records one event. Failures are remembered and reported by [`finish`](Self::finish).
    fn record(&self, event: TraceEvent);

    /// Completes the trace (writers write their end record and flush) and reports the first
    /// error met since the sink was created. A writer treats events recorded afterwards as an
    /// error; in-memory sinks keep accepting them.
    ///
    /// # Errors
    /// The first error the sink met, for example [`TraceError::Io`].
    fn finish(&self) -> Result<(), TraceError> {
        Ok(())
    }
}

/// Locks a mutex, ignoring poisoning (a panic elsewhere does not make the data unusable here).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Keeps every event in memory (for tests and small traces).
#[derive(Debug, Default)]
pub struct VecSink {
    events: Mutex<Vec<TraceEvent>>,
}

impl VecSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the events recorded so far.
    pub fn events(&self) -> Vec<TraceEvent> {
        lock(&self.events).clone()
    }

    /// Takes the events recorded so far, leaving the sink empty.
    pub fn take(&self) -> Vec<TraceEvent> {
        std::mem::take(&mut *lock(&self.events))
    }

    /// How many events are held.
    pub fn len(&self) -> usize {
        lock(&self.events).len()
    }

    /// True if no event is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl TraceSink for VecSink {
    fn record(&self, event: TraceEvent) {
        lock(&self.events).push(event);
    }
}

/// Counts events per operation kind, and nothing else (cheap enough to leave attached).
#[derive(Debug)]
pub struct CountingSink {
    counts: Vec<AtomicU64>,
}

impl Default for CountingSink {
    fn default() -> Self {
        CountingSink {
            counts: OpKind::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl CountingSink {
    /// A sink with every count at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Events of kind `op` recorded so far.
    pub fn count(&self, op: OpKind) -> u64 {
        self.counts
            .get(op.index())
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Events of every kind recorded so far.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The non-zero counts, by kind.
    pub fn counts(&self) -> BTreeMap<OpKind, u64> {
        OpKind::ALL
            .iter()
            .map(|&op| (op, self.count(op)))
            .filter(|&(_, n)| n > 0)
            .collect()
    }
}

impl TraceSink for CountingSink {
    fn record(&self, event: TraceEvent) {
        if let Some(c) = self.counts.get(event.op.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Sends every event to several sinks, in order.
#[derive(Clone, Default)]
pub struct Tee {
    sinks: Vec<Arc<dyn TraceSink>>,
}

impl std::fmt::Debug for Tee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tee")
            .field("sinks", &self.sinks.len())
            .finish()
    }
}

impl Tee {
    /// A fan-out to `sinks`.
    pub fn new(sinks: Vec<Arc<dyn TraceSink>>) -> Self {
        Tee { sinks }
    }

    /// Adds one more sink.
    pub fn with(mut self, sink: Arc<dyn TraceSink>) -> Self {
        self.sinks.push(sink);
        self
    }
}

impl TraceSink for Tee {
    fn record(&self, event: TraceEvent) {
        if let Some((last, rest)) = self.sinks.split_last() {
            for sink in rest {
                sink.record(event.clone());
            }
            last.record(event);
        }
    }

    /// Finishes every sink (even after one fails) and reports the first error.
    fn finish(&self) -> Result<(), TraceError> {
        let mut first = Ok(());
        for sink in &self.sinks {
            let result = sink.finish();
            if first.is_ok() {
                first = result;
            }
        }
        first
    }
}

#[derive(Debug, Default)]
struct TracerState {
    next_seq: u64,
    /// The current scope path, segments joined by `/`.
    path: String,
    /// `path.len()` before each open scope was pushed.
    marks: Vec<usize>,
}

/// Numbers events, stamps them with the current scope, and hands them to a sink.
///
/// The evaluator owns an `Option<Tracer>`: `None` means no sink and no cost, because the
/// [`MaybeTracer`] methods run the closure that builds an event only when a tracer exists.
/// A `Tracer` serialises emission internally, so the sink sees events in `seq` order.
pub struct Tracer {
    sink: Arc<dyn TraceSink>,
    state: Mutex<TracerState>,
    timing: bool,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("state", &*lock(&self.state))
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

impl AsRef<Tracer> for Tracer {
    fn as_ref(&self) -> &Tracer {
        self
    }
}

impl Tracer {
    /// A tracer feeding `sink`, measuring wall times (for real runs).
    pub fn new(sink: Arc<dyn TraceSink>) -> Self {
        Tracer {
            sink,
            state: Mutex::new(TracerState::default()),
            timing: true,
        }
    }

    /// A tracer feeding `sink` that never measures wall times (for symbolic runs).
    pub fn untimed(sink: Arc<dyn TraceSink>) -> Self {
        Tracer {
            timing: false,
            ..Tracer::new(sink)
        }
    }

    /// True if this tracer measures wall times.
    pub fn is_timed(&self) -> bool {
        self.timing
    }

    /// The sink events go to.
    pub fn sink(&self) -> &Arc<dyn TraceSink> {
        &self.sink
    }

    /// Emits `event`, overwriting its `seq` (the next number) and `scope` (the current scope).
    pub fn emit(&self, mut event: TraceEvent) {
        let mut state = lock(&self.state);
        event.seq = state.next_seq;
        state.next_seq += 1;
        event.scope.clear();
        event.scope.push_str(&state.path);
        // Recording under the lock keeps the sink's order equal to `seq` order.
        self.sink.record(event);
    }

    /// Opens a scope named `name` (segments may contain `/`) until the guard is dropped.
    ///
    /// Leading and trailing `/` are ignored; an empty name opens nothing but still returns a
    /// guard. Guards dropped out of order close every scope opened after theirs.
    pub fn scope(&self, name: &str) -> ScopeGuard<'_> {
        let mut state = lock(&self.state);
        let mark = state.path.len();
        state.marks.push(mark);
        let name = name.trim_matches('/');
        if !name.is_empty() {
            if !state.path.is_empty() {
                state.path.push('/');
            }
            state.path.push_str(name);
        }
        ScopeGuard {
            tracer: Some(self),
            depth: state.marks.len() - 1,
        }
    }

    /// The current scope path (empty at top level).
    pub fn current_scope(&self) -> String {
        lock(&self.state).path.clone()
    }

    /// How many events were emitted so far (the next event's `seq`).
    pub fn events_emitted(&self) -> u64 {
        lock(&self.state).next_seq
    }

    /// Finishes the sink; see [`TraceSink::finish`].
    ///
    /// # Errors
    /// The first error the sink met.
    pub fn finish(&self) -> Result<(), TraceError> {
        self.sink.finish()
    }

    fn close_to(&self, depth: usize) {
        let mut state = lock(&self.state);
        if let Some(&mark) = state.marks.get(depth) {
            state.path.truncate(mark);
            state.marks.truncate(depth);
        }
    }
}

/// Closes a scope opened by [`Tracer::scope`] or [`MaybeTracer::scope`] when dropped.
#[must_use = "the scope closes as soon as the guard is dropped"]
#[derive(Debug)]
pub struct ScopeGuard<'a> {
    tracer: Option<&'a Tracer>,
    depth: usize,
}

impl ScopeGuard<'_> {
    /// A guard that closes nothing (what an absent tracer returns).
    pub const fn inert() -> Self {
        ScopeGuard {
            tracer: None,
            depth: 0,
        }
    }
}

impl Drop for ScopeGuard<'_> {
    fn drop(&mut self) {
        if let Some(tracer) = self.tracer {
            tracer.close_to(self.depth);
        }
    }
}

/// Tracing through an optional tracer: with `None` nothing is built, timed or recorded.
///
/// Implemented for `Option<T>` where `T` is a [`Tracer`], a reference to one, an
/// `Arc<Tracer>` or a `Box<Tracer>`.
pub trait MaybeTracer {
    /// The tracer, if one is attached.
    fn tracer(&self) -> Option<&Tracer>;

    /// True if a tracer is attached.
    fn is_tracing(&self) -> bool {
        self.tracer().is_some()
    }

    /// Emits the event `build` returns; `build` runs only if a tracer is attached.
    fn emit_with<F: FnOnce() -> TraceEvent>(&self, build: F) {
        if let Some(tracer) = self.tracer() {
            tracer.emit(build());
        }
    }

    /// Starts a wall-time measurement if a timed tracer is attached.
    fn start_timer(&self) -> Option<Instant> {
        match self.tracer() {
            Some(tracer) if tracer.timing => Some(Instant::now()),
            _ => None,
        }
    }

    /// Like [`emit_with`](Self::emit_with), setting `wall_ns` to the time since `started`
    /// (from [`start_timer`](Self::start_timer)) when there is one.
    fn emit_timed<F: FnOnce() -> TraceEvent>(&self, started: Option<Instant>, build: F) {
        if let Some(tracer) = self.tracer() {
            let mut event = build();
            if let Some(t0) = started {
                event.wall_ns = Some(u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX));
            }
            tracer.emit(event);
        }
    }

    /// Opens a named scope if a tracer is attached; otherwise returns an inert guard.
    fn scope(&self, name: &str) -> ScopeGuard<'_> {
        match self.tracer() {
            Some(tracer) => tracer.scope(name),
            None => ScopeGuard::inert(),
        }
    }
}

impl<T: AsRef<Tracer>> MaybeTracer for Option<T> {
    #[inline]
    fn tracer(&self) -> Option<&Tracer> {
        self.as_ref().map(AsRef::as_ref)
    }
}
