#!/usr/bin/env bash
# On the GPU machine: validate the CUDA build of `entropic` from the binary
# alone (built elsewhere by scripts/build-cuda.sh; see docs/gpu.md).
#
#   scripts/gpu-validate.sh [BINARY]     # default target-cuda/release/entropic
#
# Steps, all output into one folder ($OUT if set, else ./gpu-out):
#   1. nvidia-smi (card, driver) -> nvidia-smi.txt
#   2. LD_LIBRARY_PATH from PyTorch's NVIDIA wheels (every nvidia/*/lib folder
#      of the Python that has them; PYTHON=... picks the interpreter), checked
#      with ldd -> ldd.txt; stops here if any library is "not found";
#   3. entropic llm selftest --cuda -> selftest.json / selftest.log
#      (CPU vs GPU f32 forward within 1e-3, bf16 forward, a GRPO-like step);
#   4. entropic llm validate --preset gpu, if the binary has that command
#      -> llm-validate.log (else noted as skipped);
#   5. throughput: `entropic bench llm --json` on the GPU if the bench takes a
#      device, else `entropic llm selftest --cuda --bench` (training and
#      generation tokens/s, model FLOP utilisation against the dense bf16
#      peak of H100/H200, 989 TFLOP/s) -> throughput.json;
#   6. summary.md (one line per step). Exit 0 only if steps 2, 3 (and 4, 5
#      when run) succeeded.
# The whole script is limited to 6 minutes (it re-runs itself under timeout).
set -uo pipefail

if [ -z "${GPU_VALIDATE_INNER:-}" ]; then
    GPU_VALIDATE_INNER=1 exec timeout --kill-after=10 360 "$0" "$@"
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-${ENTROPIC_BIN:-$ROOT/target-cuda/release/entropic}}"
DIR="${OUT:-$ROOT/gpu-out}"
PEAK_TFLOPS=989 # H100 SXM dense bf16 (the H200 is the same GH100 chip)
mkdir -p "$DIR"
SUMMARY="$DIR/summary.md"
status=0
say() { echo "$*" | tee -a "$SUMMARY"; }
: > "$SUMMARY"
say "# gpu-validate $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say ""

if [ ! -x "$BIN" ]; then
    say "- FAIL: binary $BIN not found or not executable (build it with scripts/build-cuda.sh)"
    exit 1
fi
chmod +x "$BIN" 2>/dev/null || true

# 1. The card ------------------------------------------------------------------
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi > "$DIR/nvidia-smi.txt" 2>&1 || true
    card="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n1)"
    say "- card: ${card:-unknown}"
    case "$card" in
        *H100* | *H200*) ;;
        *) say "- note: not an H100/H200; utilisation is still taken against ${PEAK_TFLOPS} TFLOP/s" ;;
    esac
else
    say "- note: nvidia-smi not found"
fi

# 2. Libraries -----------------------------------------------------------------
PY="${PYTHON:-python3}"
NV="$("$PY" -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null || true)"
libs=""
if [ -n "$NV" ]; then
    for d in "$NV"/nvidia/*/lib; do
        [ -d "$d" ] && libs="${libs:+$libs:}$d"
    done
    say "- NVIDIA wheels: $NV/nvidia ($(echo "$libs" | tr ':' '\n' | grep -c .) lib folders)"
else
    say "- note: $PY has no \`nvidia\` package (PyTorch's CUDA wheels); relying on the system's libraries"
fi
export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+${libs:+:}$LD_LIBRARY_PATH}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" > "$DIR/ldd.txt"
ldd "$BIN" >> "$DIR/ldd.txt" 2>&1
if grep -q "not found" "$DIR/ldd.txt"; then
    say "- FAIL: ldd: libraries not found:"
    grep "not found" "$DIR/ldd.txt" | sed 's/^/    /' | tee -a "$SUMMARY"
    exit 1
fi
say "- ldd: every library found (ldd.txt)"

# 3. Smoke test ----------------------------------------------------------------
timeout 150 "$BIN" llm selftest --cuda --json > "$DIR/selftest.json" 2> "$DIR/selftest.log"
rc=$?
if [ $rc -eq 0 ]; then
    say "- PASS: entropic llm selftest --cuda ($(tail -n1 "$DIR/selftest.log"))"
else
    say "- FAIL: entropic llm selftest --cuda exited $rc: $(tail -n1 "$DIR/selftest.log")"
    status=1
fi
if command -v python3 >/dev/null 2>&1 && [ -s "$DIR/selftest.json" ]; then
    python3 - "$DIR/selftest.json" <<'PY' | tee -a "$SUMMARY"
import json, sys
for c in json.load(open(sys.argv[1]))["checks"]:
    print(f"    - {'PASS' if c['passed'] else 'FAIL'} {c['name']}: {c['detail']}")
PY
fi

# 4. llm validate --preset gpu (when the binary has it) ---------------------------
if "$BIN" llm validate --help > /dev/null 2>&1; then
    extra=()
    if "$BIN" llm validate --help 2>&1 | grep -q -- "--out"; then
        extra=(--out "$DIR/llm-validate")
    fi
    timeout 120 "$BIN" llm validate --preset gpu "${extra[@]}" > "$DIR/llm-validate.log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        say "- PASS: entropic llm validate --preset gpu (llm-validate.log)"
    else
        say "- FAIL: entropic llm validate --preset gpu exited $rc (llm-validate.log: $(tail -n1 "$DIR/llm-validate.log"))"
        status=1
    fi
else
    say "- skipped: entropic llm validate --preset gpu (this binary has no \`llm validate\` command)"
fi

# 5. Throughput ------------------------------------------------------------------
bench_help="$("$BIN" bench --help 2>&1 || true)"
if echo "$bench_help" | grep -q -- "--device"; then
    cmd=("$BIN" bench llm --json --device cuda)
elif echo "$bench_help" | grep -q -- "--cuda"; then
    cmd=("$BIN" bench llm --json --cuda)
else
    cmd=("$BIN" llm selftest --cuda --bench --json --peak-tflops "$PEAK_TFLOPS")
fi
timeout 90 "${cmd[@]}" > "$DIR/throughput.json" 2> "$DIR/throughput.log"
rc=$?
if [ $rc -eq 0 ]; then
    say "- PASS: throughput: entropic ${cmd[*]:1} (throughput.json)"
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$DIR/throughput.json" "$PEAK_TFLOPS" <<'PY' | tee -a "$SUMMARY"
import json, sys
# one JSON value, or (`bench llm --json`) one object per line
text = open(sys.argv[1]).read()
try:
    v = json.loads(text)
except json.JSONDecodeError:
    v = [json.loads(l) for l in text.splitlines() if l.strip()]
t = v.get("throughput") if isinstance(v, dict) else None
if t:
    print(f"    - {t['device']} {t['dtype']}, {t['params']} parameters: training "
          f"{t['train_tokens_per_s']:.0f} tokens/s ({t['train_tflops']:.2f} TFLOP/s, "
          f"MFU {100 * (t['train_mfu'] or 0):.2f}% of {sys.argv[2]}), generation "
          f"{t['gen_tokens_per_s']:.0f} tokens/s (MFU {100 * (t['gen_mfu'] or 0):.3f}%)")
else:
    print("    - " + json.dumps(v)[:400])
PY
    fi
else
    say "- FAIL: throughput: entropic ${cmd[*]:1} exited $rc: $(tail -n1 "$DIR/throughput.log")"
    status=1
fi

say ""
say "result: $([ $status -eq 0 ] && echo PASS || echo FAIL) (files in $DIR)"
exit $status
