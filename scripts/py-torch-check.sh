#!/usr/bin/env bash
# PyTorch/TRL checks of the Python package (docs/python.md); NOT run by CI.
#
#   scripts/py-torch-check.sh              # pytest: numpy tests + torch tests
#   scripts/py-torch-check.sh --example    # and the TRL example, regenerating
#                                          # reports/trl-example.md (+ .svg)
#
# Installs torch, transformers, trl (and datasets, pandas, matplotlib,
# pytest, maturin) from PyPI into its own venv ($PY_TORCH_VENV, default
# ~/.cache/entropic/py-torch-venv; the CUDA build of torch from PyPI is
# ~3 GB, CPU is enough), builds the extension into it, and runs
# python/tests and python/tests_torch (verl loss vs the authors' formula).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
venv="${PY_TORCH_VENV:-$HOME/.cache/entropic/py-torch-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q torch transformers trl datasets numpy pandas matplotlib pytest maturin
"$venv/bin/pip" install -q --force-reinstall --no-deps ./python
cargo run --release -q -p entropic-py --example alpha_fixture > "$venv/alpha.json"
(cd "$venv" && ENTROPIC_ALPHA_FIXTURE="$venv/alpha.json" \
    "$venv/bin/python" -m pytest -q "$repo/python/tests" "$repo/python/tests_torch")

[ "${1:-}" = "--example" ] || exit 0

# The TRL example: a PRBS probe run and a PI run on a tiny random Qwen2 (CPU),
# then `entropic tune` identifies the plant from the probe CSV and must refuse
# the closed-loop one.
out="${TRL_EXAMPLE_OUT:-target/trl-example}"
rm -rf "$out" && mkdir -p "$out"
target=1.0
ex_args=(--out "$out" --steps 120 --target "$target" --init-range 0.6 --hold 4 --amplitude 1.0)
start=$(date +%s)
"$venv/bin/python" python/examples/trl_example.py "${ex_args[@]}" > "$out/train.log" 2>&1
echo "$(( $(date +%s) - start ))" > "$out/seconds"
cargo build --release -q --bin entropic
bin="${CARGO_TARGET_DIR:-target}/release/entropic"
cp "$bin" "$out/entropic"
if "$out/entropic" tune --help | grep -q '^  identify'; then tune=(tune identify); else tune=(tune); fi
set +e
"$out/entropic" "${tune[@]}" --log "$out/probe.csv" --target "$target" > "$out/identify-probe.txt" 2>&1
echo $? > "$out/identify-probe.rc"
"$out/entropic" "${tune[@]}" --log "$out/pi.csv" --target "$target" > "$out/identify-pi.txt" 2>&1
echo $? > "$out/identify-pi.rc"
set -e
echo "entropic ${tune[*]} --log FILE --target $target" > "$out/identify-command"
echo "scripts/py-torch-check.sh --example  (python python/examples/trl_example.py ${ex_args[*]})" > "$out/command"
"$venv/bin/python" python/examples/trl_report.py --out "$out" --report reports/trl-example.md
rm -f "$out/entropic"
echo "wrote reports/trl-example.md"
