#!/usr/bin/env python3
"""Writes the bad trace files of this directory and manifest.json.

Every file is derived from the golden traces core/tests/data/trace/golden.htrace.jsonl and
golden.htrace (format 1.0, docs/trace-format.md) with one thing broken, or from a fixed-seed
random generator. Run from the repository root:

    python3 tests/bad_inputs/trace/generate.py

The output is deterministic; tests/cli_bad_inputs.rs runs the CLI commands each manifest
entry names on its file.
"""

import json
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
GOLDEN = os.path.join(ROOT, "core", "tests", "data", "trace")

STATS = ["trace", "stats", "FILE"]
SIMULATE = ["simulate", "--trace", "FILE", "--hw", "ark"]
INSPECT = ["inspect", "FILE"]
READERS = [STATS, SIMULATE, INSPECT]

entries = []


def write(name, data, broken, expect, commands=None):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    entries.append(
        {
            "file": name,
            "broken": broken,
            "expect": expect,
            "commands": commands or READERS,
        }
    )


def jsonl_lines():
    with open(os.path.join(GOLDEN, "golden.htrace.jsonl"), "rb") as f:
        return f.read().decode("utf-8").splitlines()


def jsonl(lines):
    return "\n".join(lines) + "\n"


def edit_event(line_index, edit):
    """The golden JSONL trace with event line `line_index` (0-based over all lines) edited."""
    lines = jsonl_lines()
    ev = json.loads(lines[line_index])
    edit(ev)
    lines[line_index] = json.dumps(ev, separators=(",", ":"))
    return jsonl(lines)


def edit_header(edit):
    lines = jsonl_lines()
    h = json.loads(lines[0])
    edit(h)
    lines[0] = json.dumps(h, separators=(",", ":"))
    return jsonl(lines)


# ---- JSON Lines ---------------------------------------------------------------------------

lines = jsonl_lines()
good = jsonl(lines)
n_events = len(lines) - 2

write("empty.htrace.jsonl", b"", "no bytes", "Truncated")
write("blank_lines.htrace.jsonl", "\n\n\n", "three blank lines", "Truncated or UnknownFormat")
write(
    "truncated_header.htrace.jsonl",
    lines[0][:80],
    "the first 80 bytes of the header line, no newline",
    "Json (line 1)",
)
write(
    "header_only.htrace.jsonl",
    lines[0] + "\n",
    "the header line alone: no events, no end record",
    "Truncated (end record)",
)
write(
    "no_end_record.htrace.jsonl",
    jsonl(lines[:-1]),
    "the end record is missing",
    "Truncated (end record)",
)
cut = good.index(lines[3]) + len(lines[3]) // 2
write(
    "truncated_mid_event.htrace.jsonl",
    good[:cut],
    "cut in the middle of line 4",
    "Json or Truncated (line 4)",
)
write(
    "wrong_major.htrace.jsonl",
    edit_header(lambda h: h["version"].update(major=2)),
    "header version 2.0",
    "UnsupportedVersion",
)
write(
    "wrong_format_name.htrace.jsonl",
    edit_header(lambda h: h.update(format="helrm-trace-v0")),
    "header format \"helrm-trace-v0\"",
    "WrongFormatName",
)
write(
    "header_not_object.htrace.jsonl",
    "[1, 2, 3]\n" + jsonl(lines[1:]),
    "line 1 is a JSON array",
    "UnknownFormat",
)
write(
    "header_missing_params.htrace.jsonl",
    edit_header(lambda h: h.pop("params")),
    "header without `params`",
    "Json (line 1)",
)
write(
    "header_version_string.htrace.jsonl",
    edit_header(lambda h: h.update(version="1.0")),
    "header version is the string \"1.0\"",
    "Json (line 1)",
)
garbage = list(lines)
garbage[2] = "this line is not JSON at all"
write("garbage_line.htrace.jsonl", jsonl(garbage), "line 3 is plain text", "Json (line 3)")
write(
    "unknown_op.htrace.jsonl",
    edit_event(2, lambda e: e.update(op="fused_magic")),
    "line 3 op \"fused_magic\"",
    "Json or Malformed (line 3, op)",
)
write(
    "unknown_class.htrace.jsonl",
    edit_event(2, lambda e: e["outputs"][0].update({"class": "key_secret"})),
    "line 3 output class \"key_secret\"",
    "Json or Malformed (line 3, class)",
)
write(
    "bad_galois_class.htrace.jsonl",
    edit_event(2, lambda e: e["outputs"][0].update({"class": "key_galois:-5"})),
    "line 3 output class \"key_galois:-5\"",
    "Json or Malformed (line 3, class)",
)
write(
    "level_is_string.htrace.jsonl",
    edit_event(2, lambda e: e.update(level="two")),
    "line 3 level \"two\"",
    "Json (line 3)",
)
write(
    "negative_bytes.htrace.jsonl",
    edit_event(2, lambda e: e["outputs"][0].update(bytes=-98304)),
    "line 3 output bytes -98304",
    "Json (line 3)",
)
write(
    "fractional_bytes.htrace.jsonl",
    edit_event(2, lambda e: e["outputs"][0].update(bytes=98304.5)),
    "line 3 output bytes 98304.5",
    "Json (line 3)",
)
write(
    "missing_op.htrace.jsonl",
    edit_event(2, lambda e: e.pop("op")),
    "line 3 has no `op`",
    "Json (line 3)",
)
write(
    "inputs_not_list.htrace.jsonl",
    edit_event(2, lambda e: e.update(inputs={"id": 1})),
    "line 3 `inputs` is an object",
    "Json (line 3)",
)
write(
    "n_mismatch.htrace.jsonl",
    edit_event(2, lambda e: e.update(n=8192)),
    "line 3 n 8192 with log_n 12",
    "Malformed (line 3, n)",
)
write(
    "limbs_mismatch.htrace.jsonl",
    edit_event(2, lambda e: e.update(limbs=7)),
    "line 3 limbs 7 at level 2",
    "Malformed (line 3, limbs)",
)
write(
    "absurd_log_n.htrace.jsonl",
    edit_event(2, lambda e: e.update(log_n=200, n=0)),
    "line 3 log_n 200",
    "Malformed (line 3, log_n)",
)
write(
    "log_n_not_header.htrace.jsonl",
    edit_event(2, lambda e: e.update(log_n=40, n=1 << 40)),
    "line 3 log_n 40 (n 2^40) in a trace whose header says log_n 12",
    "Malformed (line 3, log_n)",
)
write(
    "level_above_chain.htrace.jsonl",
    edit_event(2, lambda e: (e.update(level=4000000, limbs=4000001),
                             e["outputs"][0].update(level=4000000))),
    "line 3 level 4,000,000 in a chain of 3 Q primes",
    "Malformed (line 3, level)",
)
write(
    "absurd_bytes.htrace.jsonl",
    edit_event(2, lambda e: e["outputs"][0].update(bytes=(1 << 64) - 1)),
    "line 3 output bytes 2^64 - 1",
    "Malformed (line 3, bytes)",
)
write(
    "bytes_overflow_u64.htrace.jsonl",
    edit_event(2, lambda e: e["outputs"][0].update(bytes=1 << 70)),
    "line 3 output bytes 2^70 (does not fit in u64)",
    "Json (line 3)",
)
write(
    "infinite_scale.htrace.jsonl",
    edit_event(2, lambda e: e.update(scale_log2=1e308)).replace("1e+308", "1e999"),
    "line 3 scale_log2 1e999",
    "Json or Malformed (line 3, scale_log2)",
)
nan = list(lines)
nan[2] = nan[2].replace('"scale_log2":40.0', '"scale_log2":NaN')
write("nan_scale.htrace.jsonl", jsonl(nan), "line 3 scale_log2 NaN (not JSON)", "Json (line 3)")
write(
    "count_mismatch.htrace.jsonl",
    jsonl(lines[:-1] + ['{"end":{"events":%d}}' % (n_events + 5)]),
    "end record declares 5 events too many",
    "CountMismatch",
)
write(
    "trailing_data.htrace.jsonl",
    good + '{"seq":99}\n',
    "an event line after the end record",
    "TrailingData",
)
bad_utf8 = good.encode("utf-8").replace(b"mlp/layer0", b"mlp/\xff\xfeyer0", 1)
write("invalid_utf8.htrace.jsonl", bad_utf8, "invalid UTF-8 in a scope", "Json or Malformed")
rng = random.Random(20240808)
write(
    "random_bytes.htrace.jsonl",
    bytes(rng.randrange(256) for _ in range(512)),
    "512 bytes of Python random.Random(20240808)",
    "UnknownFormat",
)
write(
    "random_after_brace.htrace.jsonl",
    b"{" + bytes(rng.randrange(256) for _ in range(511)),
    "`{` then 511 random bytes",
    "Json (line 1)",
)

# A valid trace checked against parameters it was not recorded with.
write(
    "other_params.htrace.jsonl",
    good,
    "a valid trace (fingerprint fnv1a64:0123456789abcdef, log_n 12) replayed against toy-n10",
    "params mismatch",
    commands=[["inspect", "FILE", "--params", "toy-n10"]],
)

# ---- binary -------------------------------------------------------------------------------

with open(os.path.join(GOLDEN, "golden.htrace"), "rb") as f:
    gold = f.read()

MAGIC = gold[:8]
hlen = struct.unpack_from("<I", gold, 12)[0]
body = 16 + hlen
records = []  # (offset, kind, payload)
off = body
while off < len(gold):
    kind = gold[off]
    (length,) = struct.unpack_from("<I", gold, off + 1)
    records.append((off, kind, gold[off + 5 : off + 5 + length]))
    off += 5 + length
first = records[0][0]  # offset of the first record
events = [r for r in records if r[1] == 1]


def patch(data, offset, fmt, value):
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


def event_field(index, field_offset, fmt, value):
    """The golden binary trace with a fixed-offset field of event `index` replaced."""
    rec_off = events[index][0]
    return patch(gold, rec_off + 5 + field_offset, fmt, value)


def first_input_offset(index):
    """Offset (in the file) of the first input object's id of event `index`."""
    rec_off, _, p = events[index]
    (s,) = struct.unpack_from("<I", p, 44)
    o = 48 + s
    (r,) = struct.unpack_from("<I", p, o)
    o += 4 + 8 * r
    (g,) = struct.unpack_from("<I", p, o)
    o += 4 + 8 * g
    return rec_off + 5 + o  # at the inputs count


def first_output_offset(index):
    rec_off, _, p = events[index]
    o = first_input_offset(index) - rec_off - 5
    (i,) = struct.unpack_from("<I", p, o)
    (e,) = struct.unpack_from("<H", p, o + 4)
    return rec_off + 5 + o + 6 + i * e  # at the outputs count


write("empty.htrace", b"", "no bytes", "Truncated")
write("truncated_preamble.htrace", gold[:10], "the first 10 bytes", "Truncated")
write(
    "truncated_header.htrace",
    gold[: 16 + hlen // 2],
    "cut in the middle of the JSON header",
    "Truncated",
)
e1 = events[1][0]
write(
    "truncated_record.htrace",
    gold[: e1 + 20],
    "cut 20 bytes into the second event record",
    "Truncated",
)
write(
    "no_end_record.htrace",
    gold[: records[-1][0]],
    "the end record is missing",
    "Truncated",
)
write("wrong_magic.htrace", b"\x89HTRACX\n" + gold[8:], "magic \\x89HTRACX\\n", "UnknownFormat")
write("wrong_major.htrace", patch(gold, 8, "<H", 2), "preamble major version 2", "UnsupportedVersion")
write(
    "version_disagrees.htrace",
    patch(gold, 10, "<H", 3),
    "preamble says 1.3, the JSON header 1.0",
    "Malformed",
)
write(
    "absurd_header_length.htrace",
    patch(gold, 12, "<I", 0xFFFFFFFF),
    "header length 2^32 - 1 (limit 1 MiB)",
    "Malformed",
)
write(
    "header_not_json.htrace",
    gold[:16] + b"#" * hlen + gold[body:],
    "the header bytes are all `#`",
    "Json",
)
write(
    "absurd_record_length.htrace",
    patch(gold, first + 1, "<I", 0xFFFFFFF0),
    "first record length 2^32 - 16 (limit 16 MiB)",
    "Malformed",
)
write(
    "short_record_length.htrace",
    patch(gold, first + 1, "<I", 12),
    "first record length 12 (an event needs at least 64)",
    "Malformed or Truncated",
)
write("bad_record_kind.htrace", patch(gold, first, "<B", 7), "first record kind 7", "Malformed")
write("unknown_op_code.htrace", event_field(0, 8, "<H", 999), "first event op code 999", "Malformed")
write("absurd_log_n.htrace", event_field(0, 10, "<B", 200), "first event log_n 200", "Malformed")
write(
    "log_n_not_header.htrace",
    event_field(0, 10, "<B", 40),
    "first event log_n 40 in a trace whose header says log_n 12",
    "Malformed",
)
write(
    "limbs_mismatch.htrace",
    event_field(0, 16, "<I", 9),
    "first event limbs 9 at level 2",
    "Malformed",
)
lvl = event_field(0, 12, "<I", 0xFFFFFFFE)
rec = events[0][0] + 5
lvl = patch(lvl, rec + 16, "<I", 0xFFFFFFFF)
write(
    "level_above_chain.htrace",
    lvl,
    "first event level 2^32 - 2, limbs 2^32 - 1, in a chain of 3 Q primes",
    "Malformed",
)
write(
    "nan_scale.htrace",
    event_field(0, 28, "<Q", 0x7FF8000000000001),
    "first event scale_log2 NaN",
    "Malformed",
)
write(
    "infinite_scale.htrace",
    event_field(0, 28, "<Q", 0x7FF0000000000000),
    "first event scale_log2 +inf",
    "Malformed",
)
write(
    "absurd_scope_length.htrace",
    event_field(0, 44, "<I", 0xFFFFFFFF),
    "first event scope length 2^32 - 1",
    "Malformed or Truncated",
)
bad_scope = bytearray(gold)
bad_scope[events[0][0] + 5 + 48] = 0xFF
write("invalid_utf8_scope.htrace", bytes(bad_scope), "first event scope starts with 0xff", "Malformed")
oo = first_output_offset(0)
write(
    "absurd_object_count.htrace",
    patch(gold, oo, "<I", 0xFFFFFFFF),
    "first event declares 2^32 - 1 outputs",
    "Malformed or Truncated",
)
write(
    "small_object_size.htrace",
    patch(gold, oo + 4, "<H", 10),
    "first event output element size 10 (at least 30)",
    "Malformed",
)
write(
    "unknown_class_code.htrace",
    patch(gold, oo + 6 + 16, "<B", 99),
    "first event output class code 99",
    "Malformed",
)
write(
    "absurd_object_bytes.htrace",
    patch(gold, oo + 6 + 8, "<Q", 0xFFFFFFFFFFFFFFFF),
    "first event output bytes 2^64 - 1",
    "Malformed",
)
end_off = records[-1][0]
write(
    "count_mismatch.htrace",
    patch(gold, end_off + 5, "<Q", len(events) + 1000),
    "end record declares 1000 events too many",
    "CountMismatch",
)
write("trailing_data.htrace", gold + b"\x00" * 7, "7 zero bytes after the end record", "TrailingData")
write(
    "random_bytes.htrace",
    MAGIC + bytes(rng.randrange(256) for _ in range(504)),
    "the magic then 504 random bytes",
    "any error but a panic",
)
write(
    "random_bytes_no_magic.htrace",
    bytes(rng.randrange(256) for _ in range(512)),
    "512 random bytes",
    "UnknownFormat",
)
write(
    "other_params.htrace",
    gold,
    "a valid binary trace replayed against toy-n10",
    "params mismatch",
    commands=[["inspect", "FILE", "--params", "toy-n10"]],
)

with open(os.path.join(HERE, "manifest.json"), "w") as f:
    json.dump(entries, f, indent=2)
    f.write("\n")
print(f"{len(entries)} files")
