#!/usr/bin/env bash
# One prepared run for a GPU machine: the fused-kernel tests (they skip without a GPU),
# then the GPU layer benchmark. Writes both logs to ${OUT:-.}.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.}"
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONUNBUFFERED=1
python -m pytest tests/layers/test_cudnn.py -q -rs 2>&1 | tee "$out/gpu_tests.log"
python benchmarks/layers.py --device gpu --quick --markdown 2>&1 | tee "$out/gpu_benchmark.log"
