#!/usr/bin/env bash
# cace_server writes its state file when SIGTERM or SIGINT stops it (the engine writes it as the
# service ends): start it on a tiny model with a state file, stop it with the signal, check that the
# file is there and is a cace state file (magic "CACESTAT").
#   state_on_signal.sh CACE_SERVER MAKE_TINY_MODEL WORK TERM|INT
set -euo pipefail
server=$1 make_tiny=$2 work=$3 signal=$4
rm -rf "$work" && mkdir -p "$work"
"$make_tiny" --out "$work/tiny" > /dev/null
cat > "$work/server.json" <<JSON
{"listen": {"port": 0},
 "engine": {"memory_budget_bytes": 67108864, "compute_threads": 1, "host_cache_bytes": 67108864,
            "prefetch": true, "state_file": "learned.state"},
 "models": [{"id": "tiny", "path": "tiny"}]}
JSON
"$server" --config "$work/server.json" > "$work/out.log" 2> "$work/err.log" &
pid=$!
for _ in $(seq 100); do
  grep -q '^listening on' "$work/out.log" && break
  kill -0 "$pid" 2> /dev/null || { echo "FAIL: the server exited early:"; cat "$work/err.log"; exit 1; }
  sleep 0.1
done
grep -q '^listening on' "$work/out.log" || { echo "FAIL: the server did not start"; kill "$pid"; exit 1; }
[[ ! -e $work/learned.state ]] || { echo "FAIL: the state file existed before the stop"; kill "$pid"; exit 1; }
kill -"$signal" "$pid"
status=0
wait "$pid" || status=$?
[[ $status -eq 0 ]] || { echo "FAIL: the server exited with $status after SIG$signal:"; cat "$work/err.log"; exit 1; }
[[ -s $work/learned.state ]] || { echo "FAIL: no state file after SIG$signal"; cat "$work/err.log"; exit 1; }
[[ $(head -c 8 "$work/learned.state") == CACESTAT ]] || { echo "FAIL: not a cace state file"; exit 1; }
echo "ok: SIG$signal stopped the server cleanly and it wrote $(stat -c %s "$work/learned.state") bytes of state"
