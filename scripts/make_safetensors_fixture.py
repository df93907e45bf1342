#!/usr/bin/env python3
"""Developer tool: writes Tests/TensorEngineTests/Fixtures/python.safetensors with Python's own
`safetensors` package (pip install safetensors numpy), so the tests read what Python writes.
It also checks that Python reads a file RadStream wrote, when given one: `make_... FILE`."""
import pathlib
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "TensorEngineTests" / "Fixtures"


def main() -> None:
    if len(sys.argv) > 1:
        for name, array in load_file(sys.argv[1]).items():
            print(name, array.dtype, array.shape, array.ravel()[:4])
        return
    OUT.mkdir(parents=True, exist_ok=True)
    tensors = {
        "conv.weight": np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) / 10,
        "fc.bias": np.array([-1.5, 0.25], dtype=np.float32),
        "half": np.array([1.0, -2.5, 65504.0], dtype=np.float16),
    }
    save_file(tensors, OUT / "python.safetensors", metadata={"architecture": "test", "channels": "16,32,64"})


if __name__ == "__main__":
    main()
