#!/usr/bin/env bash
# Build a stripped release `entropic` binary with `--features cuda` on a machine
# WITHOUT a GPU (recipe: docs/gpu.md).
#
#   scripts/build-cuda.sh            # -> target-cuda/release/entropic
#
# Steps (each skipped when its result already exists, so rerunning is cheap):
#   1. a CUDA 13.0 toolkit from PyPI in the virtualenv ./tk (pinned to 13.0: the
#      GPU machine's driver is CUDA 13.0; a newer nvcc writes PTX it rejects);
#   2. ./.cuda-stub: unversioned symlinks to the wheels' libraries, and a link
#      stub `libcuda.so` (soname libcuda.so.1) generated from cuda.h that defines
#      every `cu*` function declared there, plus the `_v2`/`_v3`... names the
#      `#define cuX cuX_v2` lines point to. It is only for linking: at run time
#      the GPU machine's real driver library is loaded instead;
#   3. `cargo build --release --features cuda` for compute capability 9.0
#      (H100/H200) in the separate target dir ./target-cuda, so the CPU build in
#      ./target is untouched. Symbols are stripped (the binary travels to the GPU
#      machine under a 64 MiB limit).
# The CPU build and CI need none of this.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TK="$ROOT/tk"
STUB="$ROOT/.cuda-stub"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-cuda}"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"

log() { echo "[build-cuda] $*"; }

# 1. Toolkit -----------------------------------------------------------------
if [ ! -x "$TK/bin/python" ]; then
    log "creating virtualenv $TK"
    python3 -m venv "$TK"
fi
find_cu13() { "$TK/bin/python" - <<'PY' 2>/dev/null
import os, nvidia
p = os.path.join(list(nvidia.__path__)[0], "cu13")
print(p if os.path.isdir(p) else "")
PY
}
CU13="$(find_cu13 || true)"
if [ -z "$CU13" ] || [ ! -f "$CU13/bin/nvcc" ] || [ ! -f "$CU13/include/cuda.h" ]; then
    log "installing the CUDA 13.0 toolkit wheels into $TK"
    "$TK/bin/pip" install --quiet \
        "nvidia-cuda-nvcc==13.0.88" "nvidia-nvvm==13.0.88" \
        "nvidia-cuda-crt==13.0.88" "nvidia-cuda-runtime==13.0.96" \
        "nvidia-cuda-cccl==13.0.*" "nvidia-cublas==13.0.*" \
        "nvidia-cuda-nvrtc==13.0.*" nvidia-curand
    CU13="$(find_cu13)"
fi
[ -n "$CU13" ] && [ -f "$CU13/bin/nvcc" ] || { echo "error: nvcc not found under $TK" >&2; exit 1; }
# Wheels drop the executable bit.
chmod +x "$CU13"/bin/* "$CU13"/nvvm/bin/* 2>/dev/null || true
log "toolkit: $CU13 ($("$CU13/bin/nvcc" --version | grep -o 'release [0-9.]*'))"

# 2. Link folder: unversioned symlinks + libcuda stub ------------------------
mkdir -p "$STUB"
for lib in cublas cublasLt cudart curand nvrtc; do
    if [ ! -e "$STUB/lib$lib.so" ]; then
        real="$(ls "$CU13"/lib/lib$lib.so.* 2>/dev/null | sort | head -n1 || true)"
        [ -n "$real" ] || { echo "error: lib$lib.so.* not found in $CU13/lib" >&2; exit 1; }
        ln -sf "$real" "$STUB/lib$lib.so"
    fi
done
if [ ! -f "$STUB/libcuda.so" ]; then
    log "generating the libcuda.so link stub from $CU13/include/cuda.h"
    # Every cu* name declared as a function (`cuX(`), and every target of a
    # `#define cuX cuY` versioning macro. Signatures do not matter for linking.
    {
        grep -oE '\bcu[A-Za-z0-9_]+[[:space:]]*\(' "$CU13/include/cuda.h" | tr -d ' (\t'
        grep -E '^[[:space:]]*#[[:space:]]*define[[:space:]]+cu[A-Za-z0-9_]+[[:space:]]+cu[A-Za-z0-9_]+' \
            "$CU13/include/cuda.h" | awk '{print $3}'
    } | sort -u | awk '{printf "int %s(void) { return 999; }\n", $1}' > "$STUB/libcuda_stub.c"
    gcc -shared -fPIC -fno-builtin -o "$STUB/libcuda.so" -Wl,-soname,libcuda.so.1 "$STUB/libcuda_stub.c"
    log "stub defines $(grep -c '^int' "$STUB/libcuda_stub.c") symbols"
fi

# 3. Build -------------------------------------------------------------------
export PATH="$CU13/bin:$PATH"
export CUDA_ROOT="$CU13" CUDA_PATH="$CU13" CUDA_HOME="$CU13"
export LIBRARY_PATH="$STUB${LIBRARY_PATH:+:$LIBRARY_PATH}"
# The same RUSTFLAGS on every run, so target-cuda is reused, never rebuilt.
export RUSTFLAGS="-L $STUB"
export CARGO_PROFILE_RELEASE_STRIP=symbols
log "cargo build --release --features cuda (CUDA_COMPUTE_CAP=$CUDA_COMPUTE_CAP, target $CARGO_TARGET_DIR)"
start=$(date +%s)
cargo build --release --features cuda --bin entropic
BIN="$CARGO_TARGET_DIR/release/entropic"
size=$(stat -c %s "$BIN")
log "built in $(( $(date +%s) - start )) s"
log "binary: $BIN ($size bytes, $(( size / 1048576 )) MiB, stripped)"
if [ "$size" -ge $((64 * 1048576)) ]; then
    echo "warning: binary is >= 64 MiB and will not travel to the GPU machine" >&2
fi
echo "$BIN"
