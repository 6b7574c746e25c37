//! Traces the engine reads: a file streamed from disk, or events in memory.

use std::path::{Path, PathBuf};

use helrm_core::trace::{OpKind, TraceEvent, TraceHeader, TraceReader};

use crate::error::Error;

/// A trace the engine can read more than once: a pre-pass computes next-use distances, then
/// the replay streams it again.
pub trait EventSource {
    /// The trace's header.
    fn header(&self) -> &TraceHeader;

    /// Calls `f` with every event, in order, stopping at the first error.
    ///
    /// # Errors
    /// The trace's read errors, or the first error `f` returns.
    fn for_each_event(
        &self,
        f: &mut dyn FnMut(&TraceEvent) -> Result<(), Error>,
    ) -> Result<(), Error>;
}

/// A trace file (either encoding), read as a stream on every pass.
#[derive(Debug, Clone)]
pub struct TraceFile {
    path: PathBuf,
    header: TraceHeader,
}

impl TraceFile {
    /// Opens `path` and reads its header. Every event read later is checked against the
    /// header ([`TraceHeader::check_event`]).
    ///
    /// # Errors
    /// [`Error::Trace`] if the file cannot be opened or does not start with a valid header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let reader = TraceReader::open(&path)?;
        Ok(TraceFile {
            header: reader.header().clone(),
            path,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl EventSource for TraceFile {
    fn header(&self) -> &TraceHeader {
        &self.header
    }

    fn for_each_event(
        &self,
        f: &mut dyn FnMut(&TraceEvent) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut reader = TraceReader::open(&self.path)?;
        let mut event = TraceEvent::new(OpKind::Encode, 0, 0);
        while reader.read_event(&mut event)? {
            self.header.check_event(&event)?;
            f(&event)?;
        }
        Ok(())
    }
}

/// A trace held in memory (tests, and traces built by hand).
#[derive(Debug, Clone)]
pub struct InMemoryTrace {
    /// The header.
    pub header: TraceHeader,
    /// The events, in order.
    pub events: Vec<TraceEvent>,
}

impl EventSource for InMemoryTrace {
    fn header(&self) -> &TraceHeader {
        &self.header
    }

    fn for_each_event(
        &self,
        f: &mut dyn FnMut(&TraceEvent) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.events.iter().try_for_each(f)
    }
}
