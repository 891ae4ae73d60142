# Shared by interop/*/run.sh, which source it after setting INTEROP_NAME:
# log and die with the script's name, a clean environment, the tools every
# interop test needs, a work directory ($WORK), and stop_proc.

log() { printf 'interop/%s: %s\n' "$INTEROP_NAME" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# Settings from the caller's environment must not reach omnigate (a
# PostgreSQL URL, a public URL for hrefs …): everything is passed as flags.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^OMNIGATE_' || true)

for tool in go node npm timeout; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
(( node_major >= 18 )) || die "node >= 18 is needed (have $(node --version))"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/omnigate-interop-$INTEROP_NAME.XXXXXX")"

# stop_proc PID WHAT sends SIGTERM and sets STOP_RC to the exit status.
# Bounded: 15 s, then SIGKILL (status 137). Only for this shell's own
# children: wait knows no others.
stop_proc() {
  local pid="$1" what="$2" i
  STOP_RC=0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$what ($pid) did not stop within 15 s of SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || STOP_RC=$?
}
