#!/usr/bin/env python3
"""Side-by-side CKKS operation timings: OpenFHE (Python package `openfhe`) vs `helrm bench ops`.

Both run at N = 2^16, 11 Q limbs (55-bit base prime + ten 40-bit primes), hybrid key
switching with dnum = 4, single-threaded, and report the median of repeated runs at the
top level. The OpenFHE wheel imports on Python 3.10 only:

    PYENV_VERSION=3.10.13 python -m pip install openfhe
    PYENV_VERSION=3.10.13 python scripts/bench_openfhe.py [--reps 5] [--rounds 3] [--helrm target/release/helrm]

The two libraries take turns: each round times every OpenFHE operation (median of `--reps`)
and then runs `helrm bench ops` (median of `--reps`), so a change in machine load hits both
alike. The table gives, per operation, the median over rounds of each library's time and of
the per-round ratio helrm / OpenFHE, with the ratio's range (`--json` prints every round).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def median_ns(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t)
    return int(statistics.median(times))


def openfhe_ops():
    """Builds the OpenFHE context and returns (library name, [(op, closure)])."""
    import openfhe as fhe

    p = fhe.CCParamsCKKSRNS()
    p.SetRingDim(1 << 16)
    p.SetMultiplicativeDepth(10)
    p.SetScalingModSize(40)
    p.SetFirstModSize(55)
    p.SetNumLargeDigits(4)
    p.SetKeySwitchTechnique(fhe.KeySwitchTechnique.HYBRID)
    p.SetScalingTechnique(fhe.ScalingTechnique.FIXEDMANUAL)
    p.SetSecurityLevel(fhe.SecurityLevel.HEStd_NotSet)
    p.SetBatchSize(1 << 15)
    cc = fhe.GenCryptoContext(p)
    for feature in (fhe.PKESchemeFeature.PKE, fhe.PKESchemeFeature.KEYSWITCH,
                    fhe.PKESchemeFeature.LEVELEDSHE):
        cc.Enable(feature)
    keys = cc.KeyGen()
    cc.EvalMultKeyGen(keys.secretKey)
    rotations = list(range(1, 17))
    cc.EvalRotateKeyGen(keys.secretKey, rotations)
    values = [((i % 1000) / 1000.0) - 0.5 for i in range(1 << 15)]
    pt = cc.MakeCKKSPackedPlaintext(values)
    a = cc.Encrypt(keys.publicKey, pt)
    b = cc.Encrypt(keys.publicKey, pt)
    prod = cc.EvalMult(a, b)
    m = cc.GetCyclotomicOrder()

    def hoisted():
        pre = cc.EvalFastRotationPrecompute(a)
        for r in rotations:
            cc.EvalFastRotation(a, r, m, pre)

    ops = [
        ("encode", lambda: cc.MakeCKKSPackedPlaintext(values)),
        ("encrypt", lambda: cc.Encrypt(keys.publicKey, pt)),
        ("decrypt", lambda: cc.Decrypt(a, keys.secretKey)),
        ("add", lambda: cc.EvalAdd(a, b)),
        ("mul_plain", lambda: cc.EvalMult(a, pt)),
        ("mul_relin", lambda: cc.EvalMult(a, b)),
        ("rescale", lambda: cc.Rescale(prod)),
        ("rotate", lambda: cc.EvalRotate(a, 1)),
        ("rotate_hoisted_16", hoisted),
    ]
    return "openfhe " + getattr(fhe, "__version__", "?"), ops


def bench_openfhe(ops, reps):
    return {name: median_ns(fn, reps) for name, fn in ops}


def bench_helrm(binary, reps):
    out = subprocess.run(
        [binary, "bench", "ops", "--params", "helrm-n16-l10", "--threads", "1",
         "--reps", str(reps), "--json"],
        check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating rounds of OpenFHE and helrm timings")
    ap.add_argument("--helrm", default="target/release/helrm",
                    help="helrm binary (built with cargo build --release)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    library, ops = openfhe_ops()
    rounds = []
    for k in range(args.rounds):
        ofhe = bench_openfhe(ops, args.reps)
        helrm = {o["op"]: o["median_ns"] for o in bench_helrm(args.helrm, args.reps)["ops"]}
        rounds.append({"openfhe_ns": ofhe, "helrm_ns": helrm})
        print(f"round {k + 1}/{args.rounds} done", file=sys.stderr)
    rows = []
    for name, _ in ops:
        o = [r["openfhe_ns"][name] for r in rounds]
        h = [r["helrm_ns"].get(name) for r in rounds]
        if any(x is None for x in h):
            rows.append({"op": name, "openfhe_ms": statistics.median(o) / 1e6,
                         "helrm_ms": None, "ratio": None, "ratio_min": None, "ratio_max": None})
            continue
        ratios = [hn / on for hn, on in zip(h, o)]
        rows.append({"op": name, "openfhe_ms": statistics.median(o) / 1e6,
                     "helrm_ms": statistics.median(h) / 1e6,
                     "ratio": statistics.median(ratios),
                     "ratio_min": min(ratios), "ratio_max": max(ratios)})
    if args.json:
        json.dump({"openfhe": library, "reps": args.reps, "rounds": rounds,
                   "comparison": rows}, sys.stdout, indent=2)
        print()
        return
    print(f"N = 2^16, 11 limbs, dnum 4, 1 thread; {library}; median of {args.reps} reps, "
          f"{args.rounds} alternating rounds")
    print(f"{'op':<20}{'OpenFHE ms':>12}{'helrm ms':>12}{'helrm/OpenFHE':>15}{'range':>16}")
    for r in rows:
        hm = "-" if r["helrm_ms"] is None else f"{r['helrm_ms']:.2f}"
        ra = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        rg = "-" if r["ratio"] is None else f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}"
        print(f"{r['op']:<20}{r['openfhe_ms']:>12.2f}{hm:>12}{ra:>15}{rg:>16}")


if __name__ == "__main__":
    main()
