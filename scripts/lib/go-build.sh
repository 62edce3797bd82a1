# Sourced by the set-up scripts that build from the Go module proxy (envtest, pulumi), after lib/common.sh.
# go_build_env NAME VERBOSE_VAR: a throw-away work dir with a build log (removed on exit), and
#   run CMD...            run a command, keeping its output in the log unless $VERBOSE_VAR=1
#   fail WHAT             say WHAT failed, print the log's tail, exit 1
#   modinfo MOD@V FIELD   a field of `go mod download -json` (Dir, GoMod, ...)
go_build_env() {
  GO_BUILD_NAME=$1
  GO_BUILD_VERBOSE_VAR=$2
  WORK=$(mktemp -d)
  LOG="$WORK/setup.log"
  trap 'rm -rf "$WORK"' EXIT
  export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0
}
run() {
  if [ "${!GO_BUILD_VERBOSE_VAR:-}" = 1 ]; then "$@"; else "$@" >>"$LOG" 2>&1; fi
}
fail() {
  echo "$GO_BUILD_NAME: $1 failed; log follows" >&2
  tail -n 60 "$LOG" >&2 || true
  exit 1
}
modinfo() {
  (cd "$WORK" && go mod download -json "$1" 2>>"$LOG") \
    | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}
