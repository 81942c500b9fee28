# shellcheck shell=bash
# shellcheck disable=SC2154 # run, logs and components are the sourcing script's.
# The processes a script starts and stops by PID (e2e/local/cluster.sh, e2e/local/node.sh).
# The script sets $run (pid files), $logs (one log per process), the array `components`
# (what wait_for watches) and a `log` function, then sources this file.

# alive NAME: a process started by `start` and still the same program (a pid can be reused).
alive() {
  local pid exe
  pid=$(cat "$run/$1.pid" 2>/dev/null) || return 1
  # The program itself, not the fork that is about to become it (nor nohup).
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ "$exe" == */"$1" ]]
}

# start NAME COMMAND...: runs it in the background, its output in $logs/NAME.log.
start() {
  local name=$1
  shift
  log "starting $name"
  nohup "$@" </dev/null >"$logs/$name.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$run/$name.pid"
  # Until the fork has become the program, /proc shows this script's command line and
  # `alive` would take it for dead: wait for the exec (or for a quick death).
  for _ in $(seq 500); do
    alive "$name" && return 0
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.02
  done
}

# stop NAME...: TERM to each that is alive, then KILL to any still there after 10 s.
stop() {
  local pids=() name pid
  for name in "$@"; do
    if alive "$name"; then
      pid=$(cat "$run/$name.pid")
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do [ -e "/proc/$pid" ] || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

# wait_for WHAT SECONDS COMMAND...: until the command succeeds; fails early when one of
# `components` died, showing the end of its log.
wait_for() {
  local what=$1 deadline=$((SECONDS + $2)) c
  shift 2
  until "$@" >/dev/null 2>&1; do
    for c in "${components[@]}"; do
      if [ -e "$run/$c.pid" ] && ! alive "$c"; then
        log "$c exited while waiting for $what; the end of logs/$c.log:"
        tail -n 30 "$logs/$c.log" >&2
        return 1
      fi
    done
    if ((SECONDS >= deadline)); then
      log "timed out waiting for $what"
      return 1
    fi
    sleep 0.5
  done
}
