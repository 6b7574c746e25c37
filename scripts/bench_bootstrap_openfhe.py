#!/usr/bin/env python3
"""Bootstrapping side by side: OpenFHE's EvalBootstrap (Python package `openfhe`) and
`helrm bench bootstrap`, in the same run, single-threaded.

OpenFHE is configured to match helrm-n16-boot as closely as its API allows: ring degree 2^16,
32,768 complex slots (full packing), a sparse ternary secret, 10 levels left after
bootstrapping, CoeffsToSlots and SlotsToCoeffs in 3 levels each (level budget [3, 3]), and
its default bootstrapping polynomial. Both encrypt real values uniform in [-1, 1] at the
lowest level, time one bootstrap (median of --reps runs), decrypt and report the precision
in bits (mean and minimum over the slots: -log2 of the mean and of the largest slot error)
and the levels left.

    PYENV_VERSION=3.10.13 python scripts/bench_bootstrap_openfhe.py \
        [--reps 1] [--helrm target/release/helrm] [--levels-after 10] [--json]

The OpenFHE wheel imports on Python 3.10 only (`PYENV_VERSION=3.10.13 python -m pip install
openfhe`). Without --helrm only OpenFHE runs. OMP_NUM_THREADS=1 keeps OpenFHE on one thread;
helrm gets --threads 1. Each library runs in its own process, one after the other, so that
their keys (about 10 GB each at this size) are never in memory together.
"""

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def precision_bits(want, got):
    errs = [abs(complex(g) - complex(w)) for w, g in zip(want, got)]
    floor = 2.0 ** -64
    mean = sum(errs) / len(errs)
    return -math.log2(max(mean, floor)), -math.log2(max(max(errs), floor))


def bootstrap_depth(fhe, level_budget, dist):
    # OpenFHE 1.6 exposes it on CryptoContext; older wheels on FHECKKSRNS.
    for owner in ("CryptoContext", "FHECKKSRNS"):
        f = getattr(getattr(fhe, owner, None), "GetBootstrapDepth", None)
        if f is not None:
            return f(level_budget, dist)
    raise RuntimeError("this openfhe wheel has no GetBootstrapDepth")


def bench_openfhe(args):
    import openfhe as fhe

    slots = args.slots
    dist = fhe.SecretKeyDist.SPARSE_TERNARY
    level_budget = [3, 3]
    p = fhe.CCParamsCKKSRNS()
    p.SetSecretKeyDist(dist)
    p.SetSecurityLevel(fhe.SecurityLevel.HEStd_NotSet)
    p.SetRingDim(1 << 16)
    p.SetScalingTechnique(fhe.ScalingTechnique.FLEXIBLEAUTO)
    p.SetScalingModSize(59)
    p.SetFirstModSize(60)
    depth = args.levels_after + bootstrap_depth(fhe, level_budget, dist)
    p.SetMultiplicativeDepth(depth)
    p.SetBatchSize(slots)
    cc = fhe.GenCryptoContext(p)
    for feature in (
        fhe.PKESchemeFeature.PKE,
        fhe.PKESchemeFeature.KEYSWITCH,
        fhe.PKESchemeFeature.LEVELEDSHE,
        fhe.PKESchemeFeature.ADVANCEDSHE,
        fhe.PKESchemeFeature.FHE,
    ):
        cc.Enable(feature)
    t = time.perf_counter()
    cc.EvalBootstrapSetup(level_budget, [0, 0], slots)
    keys = cc.KeyGen()
    cc.EvalMultKeyGen(keys.secretKey)
    cc.EvalBootstrapKeyGen(keys.secretKey, slots)
    setup_s = time.perf_counter() - t

    rng = random.Random(5)
    x = [rng.uniform(-1.0, 1.0) for _ in range(slots)]
    pt = cc.MakeCKKSPackedPlaintext(x, 1, depth - 1, None, slots)
    ct = cc.Encrypt(keys.publicKey, pt)
    times = []
    out = None
    for _ in range(args.reps):
        t = time.perf_counter()
        out = cc.EvalBootstrap(ct)
        times.append(time.perf_counter() - t)
    dec = cc.Decrypt(out, keys.secretKey)
    dec.SetLength(slots)
    got = dec.GetCKKSPackedValue()
    mean_bits, min_bits = precision_bits(x, got)
    return {
        "library": "openfhe " + getattr(fhe, "__version__", "?"),
        "seconds": statistics.median(times),
        "runs": times,
        "setup_seconds": setup_s,
        "slots": slots,
        "multiplicative_depth": depth,
        "bootstrap_depth": depth - args.levels_after,
        "input_level": ct.GetLevel(),
        "output_level_consumed": out.GetLevel(),
        "levels_left": depth - out.GetLevel(),
        "precision_bits_mean": mean_bits,
        "precision_bits_min": min_bits,
        "ring_dim": cc.GetRingDimension(),
    }


def bench_helrm(args):
    cmd = [
        args.helrm,
        "bench",
        "bootstrap",
        "--params",
        args.params,
        "--slots",
        str(args.slots),
        "--threads",
        "1",
        "--json",
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1, help="timed bootstraps per library")
    ap.add_argument("--slots", type=int, default=1 << 15)
    ap.add_argument("--levels-after", type=int, default=10)
    ap.add_argument("--helrm", help="path to the helrm binary (skip helrm if absent)")
    ap.add_argument("--params", default="helrm-n16-boot")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--openfhe-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.openfhe_only:
        json.dump(bench_openfhe(args), sys.stdout)
        return
    child = [
        sys.executable,
        os.path.abspath(__file__),
        "--openfhe-only",
        "--reps",
        str(args.reps),
        "--slots",
        str(args.slots),
        "--levels-after",
        str(args.levels_after),
    ]
    out = subprocess.run(child, check=True, capture_output=True, text=True)
    results = {"openfhe": json.loads(out.stdout)}
    if args.helrm:
        results["helrm"] = bench_helrm(args)
        results["ratio_helrm_over_openfhe"] = (
            results["helrm"]["seconds"] / results["openfhe"]["seconds"]
        )
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
        return
    o = results["openfhe"]
    print(f"bootstrapping, N = 2^16, {args.slots} slots, 1 thread")
    print(f"{'':10} {'seconds':>9} {'levels left':>12} {'mean bits':>10} {'min bits':>9}")
    print(
        f"{'openfhe':10} {o['seconds']:9.2f} {o['levels_left']:12d} "
        f"{o['precision_bits_mean']:10.2f} {o['precision_bits_min']:9.2f}"
    )
    if "helrm" in results:
        h = results["helrm"]
        print(
            f"{'helrm':10} {h['seconds']:9.2f} {h['output_level']:12d} "
            f"{h['precision_bits_mean']:10.2f} {h['precision_bits_min']:9.2f}"
        )
        print(f"helrm / openfhe = {results['ratio_helrm_over_openfhe']:.2f}")


if __name__ == "__main__":
    main()
