#!/usr/bin/env bash
# Build, check and time the engine on a GPU machine in one command (under 8 minutes).
#
#   bash benchmarks/gpu.sh --prepare   # here, with PyPI reachable: wheels the GPU image lacks
#   bash benchmarks/gpu.sh             # there: install nothing from the network, run, write $OUT
#   GPU_SH_SMOKE=1 bash benchmarks/gpu.sh   # a tiny version on the CPU, to test the script
#
# The GPU image (Python 3.12, JAX 0.11 with CUDA) has numpy, PyYAML, pandas, pyarrow, rich and
# typer but not pydantic (the scenario language) or duckdb (the run catalog): --prepare
# downloads their wheels into .whl/ (git-ignored, about 27 MB); carry .whl to the GPU machine.
# The project itself is used from src/ (PYTHONPATH), so nothing is built or fetched there.
# Output: $OUT/results.json (every figure) and $OUT/gpu.log (this script's log).
# The correctness check compares with benchmarks/gpu_reference.json, made on the CPU: after any
# change to the engine or to the presets `rongcheng` and `xinjiang-informants`, remake it first
# with `python benchmarks/gpu_bench.py --make-reference` (and check it with GPU_SH_SMOKE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=(pydantic==2.14.4 pydantic_core==2.50.5 typing-inspection==0.4.5 annotated-types==0.8.0
        duckdb==2.0.1)

if [ "${1:-}" = "--prepare" ]; then
  mkdir -p .whl
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl "${WHEELS[@]}"
  ls -la .whl
  exit 0
fi

OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu.log") 2>&1
PY="${PYTHON:-python3}"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
if ! "$PY" -c "import pydantic, yaml" 2>/dev/null; then
  if ls .whl/*.whl >/dev/null 2>&1; then
    echo "installing the carried wheels into /tmp/site (no network)"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .whl/*.whl
    export PYTHONPATH="$PYTHONPATH:/tmp/site"
  else
    echo "error: pydantic is missing and there is no .whl/: run 'bash benchmarks/gpu.sh --prepare'" \
         "where PyPI is reachable and carry .whl" >&2
    exit 2
  fi
fi
# the engine's import path needs jax, numpy, pydantic and PyYAML only
"$PY" -c "import jax, numpy, pydantic, yaml; print('jax', jax.__version__, jax.devices())"
export JAX_COMPILATION_CACHE_DIR="${JAX_COMPILATION_CACHE_DIR:-/tmp/socialcredit-jax-cache}"
export SOCIALCREDIT_CACHE="$JAX_COMPILATION_CACHE_DIR"
export XLA_PYTHON_CLIENT_MEM_FRACTION="${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.95}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true

if [ -n "${GPU_SH_SMOKE:-}" ]; then
  ARGS=(--sizes 20000 50000 --also national:50000 --chunk 5 --budget 300
        "--main-job-args=--agents 20000 --days 30")
else  # the richest preset at three sizes, then the country's population in `national`
  ARGS=(--sizes 1e7 1e8 1.4e9 --also national:1.4e9 --chunk 5 --budget 400)
fi
timeout 470 "$PY" benchmarks/gpu_bench.py --out "$OUT" "${ARGS[@]}"
