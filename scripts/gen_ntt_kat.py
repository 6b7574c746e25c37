#!/usr/bin/env python3
"""Known-answer vectors for helrm's negacyclic NTT, computed independently of the Rust code.

For n = 1024 and the largest 30-bit and 60-bit primes q with q = 1 (mod 2n), this script
  * finds q by walking down from 2^bits (deterministic Miller-Rabin),
  * finds psi, the smallest primitive 2n-th root of unity mod q (smallest odd power of any
    one primitive root),
  * builds the input a_i = (i * 0x9E3779B97F4A7C15 + 0x243F6A8885A308D3) mod 2^64 mod q,
    then sets a_0 = q - 1 and a_1 = 0 (edge values),
  * evaluates the polynomial naively (Horner) at psi^(2*brv(j) + 1) for j = 0 .. n-1, where
    brv reverses the log2(n) low bits of j: the documented output order of
    NttPlan::forward (bit-reversed evaluation order, as in SEAL and Lattigo),
and writes core/tests/data/ntt_kat_n1024_q{bits}.json. Pure Python, no dependencies.

Usage: python3 scripts/gen_ntt_kat.py   (from the repository root)
"""

import json
import os

N = 1024
BITS = (30, 60)
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "tests", "data")


def is_prime(n):
    """Deterministic Miller-Rabin for n < 3.3e24."""
    if n < 2:
        return False
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
    for p in bases:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def largest_friendly_prime(bits, n):
    two_n = 2 * n
    q = ((2**bits - 1) // two_n) * two_n + 1
    while q >= 2**bits:
        q -= two_n
    while not is_prime(q):
        q -= two_n
        assert q > 2 ** (bits - 1)
    return q


def smallest_psi(n, q):
    two_n = 2 * n
    cof = (q - 1) // two_n
    x = 2
    while True:
        g = pow(x, cof, q)
        if pow(g, n, q) == q - 1:  # order exactly 2n
            break
        x += 1
    return min(pow(g, k, q) for k in range(1, two_n, 2))


def brv(j, bits):
    return int(format(j, "0{}b".format(bits))[::-1], 2)


def main():
    log_n = N.bit_length() - 1
    for bits in BITS:
        q = largest_friendly_prime(bits, N)
        psi = smallest_psi(N, q)
        assert pow(psi, N, q) == q - 1
        a = [((i * 0x9E3779B97F4A7C15 + 0x243F6A8885A308D3) % 2**64) % q for i in range(N)]
        a[0], a[1] = q - 1, 0
        out = []
        for j in range(N):
            x = pow(psi, 2 * brv(j, log_n) + 1, q)
            acc = 0
            for c in reversed(a):
                acc = (acc * x + c) % q
            out.append(acc)
        doc = {
            "description": "negacyclic NTT known answers: forward[j] = a(psi^(2*brv(j)+1)) mod q",
            "generator": "scripts/gen_ntt_kat.py",
            "n": N,
            "q": q,
            "psi": psi,
            "input": a,
            "forward": out,
        }
        path = os.path.join(OUT_DIR, "ntt_kat_n{}_q{}.json".format(N, bits))
        with open(path, "w") as f:
            json.dump(doc, f, indent=None, separators=(",", ":"))
            f.write("\n")
        print("wrote", os.path.normpath(path), "q =", q, "psi =", psi)


if __name__ == "__main__":
    main()
