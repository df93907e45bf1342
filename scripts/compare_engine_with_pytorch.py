#!/usr/bin/env python3
"""Developer tool: the reference network in RadStream's engine against PyTorch on this machine, in
one command. Runs `radstream benchmark engine --network-only` and scripts/bench_pytorch.py one
after the other, several rounds, and prints each round's ratios and their median: on a shared,
noisy machine a ratio measured within one round is what means something, not either figure alone.

    swift build -c release && python3 scripts/compare_engine_with_pytorch.py --rounds 3
"""
import argparse
import pathlib
import re
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MEASURES = [
    ("training, batch 128, Adam", "training, batch 128, Adam"),
    ("inference, batch 1", "inference, batch 1"),
    ("inference, batch 256", "inference, batch 256"),
    ("inference, batch 1, allocation-free plan", "inference, batch 1"),
    ("inference, batch 256, allocation-free plan", "inference, batch 256"),
]


def radstream(binary, seconds):
    output = subprocess.run([binary, "benchmark", "engine", "--network-only", "--seconds", str(seconds)],
                            check=True, capture_output=True, text=True).stdout
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| (.+?) \| (\d+) \|$", output, re.M)}


def pytorch():
    output = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_pytorch.py")],
                            check=True, capture_output=True, text=True).stdout
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(.+?): (\d+) images/s$", output, re.M)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "radstream"))
    arguments = parser.parse_args()

    peers = ["", ", channels-last"]
    ratios = {(ours, suffix): [] for ours, _ in MEASURES for suffix in peers}
    for round_number in range(1, arguments.rounds + 1):
        ours, theirs = radstream(arguments.binary, arguments.seconds), pytorch()
        print(f"round {round_number}")
        for mine, peer in MEASURES:
            line = f"  {mine}: RadStream {ours[mine]:.0f} images/s"
            for suffix in peers:
                ratio = ours[mine] / theirs[peer + suffix]
                ratios[(mine, suffix)].append(ratio)
                line += f"; PyTorch{suffix or ' NCHW'} {theirs[peer + suffix]:.0f}, ratio {ratio:.2f}"
            print(line)
    print(f"\n| reference network, images/s | RadStream / PyTorch NCHW | range "
          f"| RadStream / PyTorch channels-last | range |  (2 threads, median of {arguments.rounds} rounds)")
    print("|---|---|---|---|---|")
    for mine, _ in MEASURES:
        cells = []
        for suffix in peers:
            values = ratios[(mine, suffix)]
            cells += [f"{statistics.median(values):.2f}", f"{min(values):.2f}–{max(values):.2f}"]
        print(f"| {mine} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
