#!/usr/bin/env python3
"""Writes the bad model files of this directory and manifest.json.

Each file is good/uci.json (written by `helrm train --dataset uci --seed 1 --out
tests/bad_inputs/model/good/uci.json`) with one thing broken, or fixed-seed random bytes.
Run from the repository root:

    python3 tests/bad_inputs/model/generate.py

tests/cli_bad_inputs.rs runs the CLI commands each manifest entry names on its file (OUT is
a path in a fresh temporary directory that must not exist afterwards).
"""

import copy
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "good", "uci.json"), encoding="utf-8") as f:
    TEXT = f.read()
GOOD = json.loads(TEXT)

INFER = ["infer", "--model", "FILE", "--params", "toy-n12-l10", "--samples", "1", "--trace", "OUT"]
PLAN = ["plan", "--model", "FILE", "--params", "toy-n12-l10"]
INSPECT = ["inspect", "FILE", "--params", "toy-n12-l10"]
READERS = [INFER, PLAN, INSPECT]

entries = []


def write(name, data, broken, expect):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    entries.append({"file": name, "broken": broken, "expect": expect, "commands": READERS})


def dumps(v):
    return json.dumps(v, separators=(",", ":"), allow_nan=True)


def edited(name, edit, broken, expect):
    v = copy.deepcopy(GOOD)
    edit(v)
    write(name, dumps(v), broken, expect)


rng = random.Random(20240808)
write("empty.json", b"", "no bytes", "ModelJson (line 1)")
write("truncated.json", TEXT[: len(TEXT) // 2], "the first half of the file", "ModelJson")
write("truncated_header.json", TEXT[:30], "the first 30 bytes", "ModelJson")
write(
    "random_bytes.json",
    bytes(rng.randrange(256) for _ in range(512)),
    "512 bytes of Python random.Random(20240808)",
    "ModelJson",
)
write("not_an_object.json", "[1, 2, 3]", "a JSON array", "ModelJson")
edited("wrong_format.json", lambda v: v.update(format="onnx"), "format \"onnx\"", "ModelFile (format)")
edited("no_format.json", lambda v: v.pop("format"), "no `format` key", "ModelFile (format)")
edited("wrong_version.json", lambda v: v.update(version=2), "version 2", "ModelFile (version)")
edited("version_string.json", lambda v: v.update(version="1"), "version \"1\"", "ModelFile (version)")
edited("missing_weights.json", lambda v: v.pop("weights"), "no `weights`", "ModelJson (missing field)")
edited(
    "unknown_field.json",
    lambda v: v.update(optimizer="adam"),
    "an extra top-level key `optimizer`",
    "ModelJson (unknown field)",
)
edited(
    "unknown_nested_field.json",
    lambda v: v["weights"]["top"][0].update(scale=2.0),
    "an extra key `scale` in weights.top[0]",
    "ModelJson (unknown field)",
)
edited(
    "weights_wrong_type.json",
    lambda v: v["weights"]["top"][0].update(weights="0.1 0.2"),
    "weights.top[0].weights is a string",
    "ModelJson (invalid type)",
)
edited(
    "num_dense_string.json",
    lambda v: v["config"].update(num_dense="5"),
    "config.num_dense is a string",
    "ModelJson (invalid type)",
)
edited(
    "unknown_activation.json",
    lambda v: v["config"]["top"][0].update(activation={"kind": "swish"}),
    "config.top[0].activation kind \"swish\"",
    "ModelJson (unknown variant)",
)
edited(
    "negative_cardinality.json",
    lambda v: v["config"]["cardinalities"].__setitem__(0, -3),
    "config.cardinalities[0] = -3",
    "ModelJson (invalid value)",
)


def nan_text():
    v = copy.deepcopy(GOOD)
    v["weights"]["top"][1]["bias"][0] = float("nan")
    return dumps(v)


write("nan_weight.json", nan_text(), "weights.top[1].bias[0] NaN (not JSON)", "ModelJson")
inf = copy.deepcopy(GOOD)
inf["weights"]["top"][1]["bias"][0] = 12345.5
write(
    "infinite_weight.json",
    dumps(inf).replace("12345.5", "1e999"),
    "weights.top[1].bias[0] = 1e999 (not a finite f64)",
    "ModelJson",
)
edited(
    "table_overflows_f32.json",
    lambda v: v["weights"]["tables"][0].__setitem__(0, 1e39),
    "weights.tables[0][0] = 1e39 (above the f32 range)",
    "ModelJson or ModelFile (weights.tables[0])",
)
edited(
    "absurd_weight.json",
    lambda v: v["weights"]["top"][0]["weights"].__setitem__(0, 1e300),
    "weights.top[0].weights[0] = 1e300",
    "ModelFile (weights.top[0].weights)",
)
edited(
    "bias_too_short.json",
    lambda v: v["weights"]["top"][1].update(bias=[]),
    "weights.top[1].bias is empty (1 expected)",
    "ModelFile (weights.top[1].bias)",
)
edited(
    "weights_too_many.json",
    lambda v: v["weights"]["bottom"][0]["weights"].append(0.5),
    "weights.bottom[0].weights has one value too many",
    "ModelFile (weights.bottom[0].weights)",
)
edited(
    "missing_table.json",
    lambda v: v["weights"]["tables"].pop(),
    "weights.tables has 7 tables for 8 cardinalities",
    "ModelFile (weights.tables)",
)
edited(
    "width_mismatch.json",
    lambda v: v["config"]["top"][0].update(inputs=35),
    "config.top[0].inputs = 35 (the interaction gives 36)",
    "ModelFile (config.top[0].inputs)",
)
edited(
    "absurd_cardinality.json",
    lambda v: v["config"]["cardinalities"].__setitem__(0, 10**18),
    "config.cardinalities[0] = 10^18",
    "ModelFile",
)
edited(
    "zero_embedding_dim.json",
    lambda v: v["config"].update(embedding_dim=0),
    "config.embedding_dim = 0",
    "ModelFile",
)
edited(
    "zero_std.json",
    lambda v: v["standardizer"]["std"].__setitem__(0, 0.0),
    "standardizer.std[0] = 0",
    "ModelFile (standardizer)",
)
edited(
    "negative_std.json",
    lambda v: v["standardizer"]["std"].__setitem__(1, -1.5),
    "standardizer.std[1] = -1.5",
    "ModelFile (standardizer)",
)
edited(
    "standardizer_short.json",
    lambda v: (v["standardizer"]["mean"].pop(), v["standardizer"]["std"].pop()),
    "standardizer for 4 dense features, the model has 5",
    "ModelFile (standardizer.mean)",
)
edited(
    "calibration_wrong_shape.json",
    lambda v: v["calibration"]["top"].pop(),
    "calibration.top has 1 layer for 2",
    "ModelFile (calibration.top)",
)
edited(
    "calibration_inverted_range.json",
    lambda v: v["calibration"]["top"][0]["pre_activation"].update(min=5.0, max=-5.0),
    "calibration.top[0].pre_activation min 5 > max -5",
    "ModelFile (calibration)",
)
edited(
    "calibration_absurd_range.json",
    lambda v: v["calibration"]["top"][0]["pre_activation"].update(min=-1e300, max=1e300),
    "calibration.top[0].pre_activation range ±1e300",
    "ModelFile (calibration) or a plan error",
)

with open(os.path.join(HERE, "manifest.json"), "w", encoding="utf-8") as f:
    json.dump(entries, f, indent=2)
    f.write("\n")
print(f"{len(entries)} files")
