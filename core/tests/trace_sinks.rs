//! Sinks, the tracer and the writers' error handling.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions unwrap too"
)]

use std::cell::Cell;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use helrm_core::trace::{
    BinaryWriter, CountingSink, DataClass, IdAllocator, JsonlWriter, MaybeTracer, ObjectId,
    ObjectRef, OpKind, ParamsSummary, Tee, TraceError, TraceEvent, TraceHeader, TraceMode,
    TraceReader, TraceSink, Tracer, VecSink,
};

fn header() -> TraceHeader {
    TraceHeader::new(
        "test",
        ParamsSummary {
            log_n: 10,
            q_bits: vec![40, 30],
            p_bits: vec![50],
            dnum: 2,
            word_bytes: 8,
        },
        TraceMode::Symbolic,
        "trace_sinks test",
    )
}

fn event(op: OpKind) -> TraceEvent {
    TraceEvent::new(op, 10, 1)
        .with_key_switching(1, 2)
        .with_scale_log2(30.0)
        .with_inputs(vec![ObjectRef::at_level(
            ObjectId(1),
            DataClass::Ciphertext,
            32_768,
            1,
        )])
        .with_outputs(vec![ObjectRef::at_level(
            ObjectId(2),
            DataClass::Ciphertext,
            32_768,
            1,
        )])
}

#[test]
fn event_constructor_derives_n_and_limbs() {
    let e = TraceEvent::new(OpKind::Rescale, 16, 10);
    assert_eq!(e.n, 65_536);
    assert_eq!(e.limbs, 11);
    assert_eq!(e.wall_ns, None);
    e.check().unwrap();
    let bad = TraceEvent::new(OpKind::Rescale, 64, 0);
    assert_eq!(
        bad.check().unwrap_err(),
        TraceError::InvalidEvent {
            seq: 0,
            field: "log_n",
            found: 64,
            expected: "at most 63"
        }
    );
    let mut nan = event(OpKind::Add);
    nan.scale_log2 = f64::NAN;
    assert!(matches!(
        nan.check(),
        Err(TraceError::InvalidEvent {
            field: "scale_log2",
            ..
        })
    ));
}

#[test]
fn tracer_numbers_events_and_stamps_scopes() {
    let sink = Arc::new(VecSink::new());
    let tracer = Tracer::new(sink.clone());
    tracer.emit(event(OpKind::Encode));
    {
        let _a = tracer.scope("dlrm");
        let _b = tracer.scope("/embedding/lookup/");
        assert_eq!(tracer.current_scope(), "dlrm/embedding/lookup");
        let mut e = event(OpKind::MulPlain);
        e.seq = 77;
        e.scope = "ignored".into();
        tracer.emit(e);
        {
            let _empty = tracer.scope("");
            tracer.emit(event(OpKind::Add));
        }
        drop(_b);
        tracer.emit(event(OpKind::Rescale));
    }
    tracer.emit(event(OpKind::Decrypt));
    let events = sink.take();
    let got: Vec<(u64, OpKind, &str)> = events
        .iter()
        .map(|e| (e.seq, e.op, e.scope.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (0, OpKind::Encode, ""),
            (1, OpKind::MulPlain, "dlrm/embedding/lookup"),
            (2, OpKind::Add, "dlrm/embedding/lookup"),
            (3, OpKind::Rescale, "dlrm"),
            (4, OpKind::Decrypt, ""),
        ]
    );
    assert_eq!(tracer.events_emitted(), 5);
}

#[test]
fn dropping_an_outer_scope_first_closes_the_inner_one() {
    let tracer = Tracer::new(Arc::new(VecSink::new()));
    let outer = tracer.scope("bootstrap");
    let inner = tracer.scope("coeffs_to_slots");
    drop(outer);
    assert_eq!(tracer.current_scope(), "");
    drop(inner);
    assert_eq!(tracer.current_scope(), "");
    let _again = tracer.scope("eval_mod");
    assert_eq!(tracer.current_scope(), "eval_mod");
}

#[test]
fn without_a_tracer_nothing_is_built() {
    let none: Option<Tracer> = None;
    let built = Cell::new(false);
    let _scope = none.scope("mlp");
    none.emit_with(|| {
        built.set(true);
        event(OpKind::Add)
    });
    let started = none.start_timer();
    none.emit_timed(started, || {
        built.set(true);
        event(OpKind::Add)
    });
    assert!(!built.get());
    assert!(started.is_none());
    assert!(!none.is_tracing());
}

#[test]
fn maybe_tracer_works_through_references_and_arcs() {
    let sink = Arc::new(VecSink::new());
    let owned = Some(Tracer::new(sink.clone()));
    let by_ref: Option<&Tracer> = owned.as_ref();
    let shared: Option<Arc<Tracer>> = Some(Arc::new(Tracer::new(sink.clone())));
    {
        let _s = by_ref.scope("a");
        by_ref.emit_with(|| event(OpKind::Add));
    }
    shared.emit_with(|| event(OpKind::Sub));
    let events = sink.take();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].scope, "a");
    assert_eq!(events[1].op, OpKind::Sub);
}

#[test]
fn timed_tracers_record_wall_time_and_untimed_ones_do_not() {
    let sink = Arc::new(VecSink::new());
    let timed = Some(Tracer::new(sink.clone()));
    let untimed = Some(Tracer::untimed(sink.clone()));
    let t0 = timed.start_timer();
    timed.emit_timed(t0, || event(OpKind::MulRelin));
    let t1 = untimed.start_timer();
    untimed.emit_timed(t1, || event(OpKind::MulRelin));
    let events = sink.take();
    assert!(events[0].wall_ns.is_some());
    assert_eq!(events[1].wall_ns, None);
    assert!(timed.as_ref().unwrap().is_timed());
    assert!(!untimed.as_ref().unwrap().is_timed());
}

#[test]
fn emission_from_several_threads_keeps_seq_order() {
    let sink = Arc::new(VecSink::new());
    let tracer = Arc::new(Tracer::untimed(sink.clone()));
    std::thread::scope(|s| {
        for _ in 0..4 {
            let tracer = tracer.clone();
            s.spawn(move || {
                for _ in 0..250 {
                    tracer.emit(event(OpKind::Add));
                }
            });
        }
    });
    let seqs: Vec<u64> = sink.take().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (0..1000).collect::<Vec<_>>());
}

#[test]
fn counting_sink_counts_per_op() {
    let counts = CountingSink::new();
    for op in [
        OpKind::Add,
        OpKind::Add,
        OpKind::Rotate,
        OpKind::SlotsToCoeffs,
    ] {
        counts.record(event(op));
    }
    assert_eq!(counts.count(OpKind::Add), 2);
    assert_eq!(counts.count(OpKind::Rotate), 1);
    assert_eq!(counts.count(OpKind::SlotsToCoeffs), 1);
    assert_eq!(counts.count(OpKind::MulRelin), 0);
    assert_eq!(counts.total(), 4);
    assert_eq!(
        counts.counts().into_iter().collect::<Vec<_>>(),
        [
            (OpKind::Add, 2),
            (OpKind::Rotate, 1),
            (OpKind::SlotsToCoeffs, 1)
        ]
    );
}

/// A `Write` that shares its bytes, so a test can read what a writer inside an `Arc` wrote.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn tee_feeds_every_sink_the_same_events() {
    let vec = Arc::new(VecSink::new());
    let counts = Arc::new(CountingSink::new());
    let jsonl_bytes = SharedBuf::default();
    let bin_bytes = SharedBuf::default();
    let jsonl = Arc::new(JsonlWriter::new(jsonl_bytes.clone(), &header()).unwrap());
    let bin = Arc::new(BinaryWriter::new(bin_bytes.clone(), &header()).unwrap());
    let tee = Tee::new(vec![vec.clone(), counts.clone()])
        .with(jsonl.clone())
        .with(bin.clone());
    let tracer = Some(Tracer::untimed(Arc::new(tee)));
    let ids = IdAllocator::new();
    for op in [OpKind::Encode, OpKind::MulRelin, OpKind::Rescale] {
        let id = ids.allocate();
        tracer.emit_with(|| {
            let mut e = event(op);
            e.outputs[0].id = id;
            e
        });
    }
    tracer.as_ref().unwrap().finish().unwrap();
    assert_eq!(jsonl.events(), 3);
    assert_eq!(counts.total(), 3);
    let expected = vec.events();
    assert_eq!(expected.len(), 3);
    assert_eq!(expected[2].outputs[0].id, ObjectId(2));
    for bytes in [jsonl_bytes, bin_bytes] {
        let data = bytes.0.lock().unwrap().clone();
        let got: Vec<_> = TraceReader::from_reader(data.as_slice())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, expected);
    }
}

#[test]
fn id_allocator_counts_in_program_order() {
    let ids = IdAllocator::starting_at(5);
    assert_eq!(ids.peek(), ObjectId(5));
    assert_eq!(ids.allocate(), ObjectId(5));
    assert_eq!(ids.allocate(), ObjectId(6));
    assert_eq!(ids.peek(), ObjectId(7));
    assert_eq!(IdAllocator::new().allocate(), ObjectId(0));
}

/// A `Write` that accepts `budget` bytes, then fails.
#[derive(Debug)]
struct FailingAfter {
    budget: usize,
    written: Vec<u8>,
}

impl Write for FailingAfter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.budget == 0 {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        }
        let n = buf.len().min(self.budget);
        self.budget -= n;
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn header_write_failure_is_reported_at_once() {
    // A header larger than the writer's 64 KiB buffer is written through at once.
    let mut h = header();
    h.created_by = "x".repeat(100_000);
    let err = JsonlWriter::new(
        FailingAfter {
            budget: 10,
            written: Vec::new(),
        },
        &h,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            TraceError::Io {
                kind: io::ErrorKind::StorageFull,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn write_errors_are_remembered_and_surfaced_by_finish() {
    for binary in [false, true] {
        let out = FailingAfter {
            budget: 70_000,
            written: Vec::new(),
        };
        let sink: Box<dyn TraceSink> = if binary {
            Box::new(BinaryWriter::new(out, &header()).unwrap())
        } else {
            Box::new(JsonlWriter::new(out, &header()).unwrap())
        };
        // Enough events to overflow the 64 KiB buffer and hit the failing write.
        for _ in 0..5_000 {
            sink.record(event(OpKind::Add));
        }
        let err = sink.finish().unwrap_err();
        assert!(
            matches!(
                err,
                TraceError::Io {
                    kind: io::ErrorKind::StorageFull,
                    during: "writing an event",
                    ..
                }
            ),
            "{err:?}"
        );
        // finish is idempotent and keeps reporting the error.
        assert_eq!(sink.finish().unwrap_err(), err);
    }
}

#[test]
fn invalid_events_are_refused_and_reported() {
    let w = JsonlWriter::new(Vec::new(), &header()).unwrap();
    w.record(event(OpKind::Add));
    let mut bad = event(OpKind::Sub);
    bad.seq = 1;
    bad.scale_log2 = f64::INFINITY;
    w.record(bad);
    w.record(event(OpKind::Add));
    assert_eq!(w.events(), 1);
    assert!(matches!(
        w.finish().unwrap_err(),
        TraceError::InvalidEvent {
            seq: 1,
            field: "scale_log2",
            ..
        }
    ));
    let mut e = event(OpKind::Add);
    e.limbs = 7;
    let w = BinaryWriter::new(Vec::new(), &header()).unwrap();
    w.record(e);
    assert!(matches!(
        w.into_inner().unwrap_err(),
        TraceError::InvalidEvent {
            field: "limbs",
            found: 7,
            ..
        }
    ));
}

#[test]
fn recording_after_finish_is_an_error() {
    let w = JsonlWriter::new(Vec::new(), &header()).unwrap();
    w.record(event(OpKind::Add));
    w.finish().unwrap();
    let mut late = event(OpKind::Add);
    late.seq = 9;
    w.record(late);
    assert_eq!(
        w.finish().unwrap_err(),
        TraceError::RecordAfterFinish { seq: 9 }
    );
}

#[test]
fn finished_writers_produce_readable_traces_even_when_empty() {
    let w = BinaryWriter::new(Vec::new(), &header()).unwrap();
    let bytes = w.into_inner().unwrap();
    let reader = TraceReader::from_reader(bytes.as_slice()).unwrap();
    assert_eq!(reader.header(), &header());
    assert_eq!(reader.count(), 0);
}

#[test]
fn trace_errors_convert_into_the_crate_error() {
    let e = TraceError::TrailingData {
        at: helrm_core::trace::Location::Line(3),
    };
    let err: helrm_core::Error = e.clone().into();
    assert_eq!(err, helrm_core::Error::Trace(e));
    assert_eq!(
        err.to_string(),
        "line 3: data after the end-of-trace record"
    );
}
