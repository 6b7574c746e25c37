//! The operation trace: the contract between encrypted runs and the hardware simulator.
//!
//! The evaluator reports every public leaf operation as one [`TraceEvent`] (what ran, at which
//! ring degree, level and key-switching shape, on which objects of which [`DataClass`] and
//! size) to a [`Tracer`] it owns as `Option<Tracer>`; circuits open named scopes
//! (`bootstrap/coeffs_to_slots`) that the events carry. With no tracer attached nothing is
//! built ([`MaybeTracer`]). A symbolic run of the same code gives the same trace apart from
//! wall times, which [`diff`] checks.
//!
//! Traces are written as they are produced ([`JsonlWriter`], [`BinaryWriter`]) and read back
//! as a stream ([`TraceReader`]) that detects the encoding, rejects unknown major versions and
//! reports truncation or garbage with the line or byte offset. [`TraceStats`] summarises a
//! trace. Both encodings are specified in `docs/trace-format.md`.
//!
//! This module is a leaf: it uses nothing else from the crate.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use helrm_core::trace::{
//!     DataClass, IdAllocator, JsonlWriter, MaybeTracer, ObjectRef, OpKind, ParamsSummary,
//!     TraceEvent, TraceHeader, TraceMode, TraceReader, TraceSink, TraceStats, Tracer,
//! };
//!
//! # fn main() -> Result<(), helrm_core::trace::TraceError> {
//! let params = ParamsSummary { log_n: 12, q_bits: vec![50, 40, 40], p_bits: vec![60],
//!                              dnum: 1, word_bytes: 8 };
//! let header = TraceHeader::new("toy-fingerprint", params, TraceMode::Symbolic, "example");
//! let writer = Arc::new(JsonlWriter::new(Vec::new(), &header)?);
//! let tracer: Option<Tracer> = Some(Tracer::untimed(writer.clone()));
//!
//! // What an evaluator does for `ct2 = ct0 * pt1` at level 2.
//! let ids = IdAllocator::new();
//! let (ct0, pt1, ct2) = (ids.allocate(), ids.allocate(), ids.allocate());
//! let ct_bytes = 2 * 3 * 4096 * 8;
//! {
//!     let _scope = tracer.scope("mlp/layer0");
//!     tracer.emit_with(|| {
//!         TraceEvent::new(OpKind::MulPlain, 12, 2)
//!             .with_key_switching(1, 1)
//!             .with_scale_log2(80.0)
//!             .with_inputs(vec![
//!                 ObjectRef::at_level(ct0, DataClass::Ciphertext, ct_bytes, 2),
//!                 ObjectRef::at_level(pt1, DataClass::PlaintextWeight, ct_bytes / 2, 2),
//!             ])
//!             .with_outputs(vec![ObjectRef::at_level(ct2, DataClass::Ciphertext, ct_bytes, 2)])
//!     });
//! }
//! writer.finish()?;
//! drop(tracer);
//! let bytes = Arc::into_inner(writer).expect("sole owner").into_inner()?;
//!
//! let mut reader = TraceReader::from_reader(bytes.as_slice())?;
//! assert_eq!(reader.header().mode, TraceMode::Symbolic);
//! let stats = TraceStats::from_reader(&mut reader)?;
//! assert_eq!(stats.events, 1);
//! assert_eq!(stats.by_op[&OpKind::MulPlain].input_bytes, ct_bytes * 3 / 2);
//! assert_eq!(stats.bytes_by_class[&DataClass::Ciphertext].output_bytes, ct_bytes);
//! # Ok(())
//! # }
//! ```

mod binary;
mod diff;
mod error;
mod event;
mod fastjson;
mod header;
mod jsonl;
mod reader;
mod sink;
mod stats;
mod writer;

pub use binary::BINARY_MAGIC;
pub use diff::{diff, diff_event, diff_events, diff_headers, TraceDifference};
pub use error::{Location, TraceError};
pub use event::{
    DataClass, IdAllocator, ObjectId, ObjectRef, OpKind, Term, TraceEvent, UnknownName,
};
pub use header::{
    FormatVersion, ParamsSummary, TraceHeader, TraceMode, FORMAT_NAME, FORMAT_VERSION,
};
pub use reader::TraceReader;
pub use sink::{CountingSink, MaybeTracer, ScopeGuard, Tee, TraceSink, Tracer, VecSink};
pub use stats::{ClassBytes, OpStats, TraceStats};
pub use writer::{create_writer, BinaryWriter, Encoding, JsonlWriter};
