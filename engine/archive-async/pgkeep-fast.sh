#!/bin/sh
# pgkeep entry point for PostgreSQL's archive_command with a fast path:
#
#   archive_command = '<pgkeep>/dist/engine/archive-async/pgkeep-fast.sh --stanza=main archive-push %p'
#
# It takes exactly pgkeep's arguments. When archive-async is on and the background process has
# already pushed the segment (or is pushing it right now) it answers in a few milliseconds, in
# sh, without starting Node; in every other case it runs the Node CLI (../cli.js) with the same
# arguments. The design, the descriptor it reads and why each check is there are described in
# fast-path.ts beside this file; what it accepts is exactly what pgBackRest's foreground
# accepts: the .ok status file of this very segment, no stop file.
#
# Only POSIX sh builtins on the fast path, plus `export -p` in a subshell, `sleep` while waiting,
# and `setsid` to start the background process.

# Succeeds only when the segment named by the last argument is known to be in the archive.
fast_push() {
  [ $# -ge 2 ] || return 1
  stanza='' next_is_stanza='' command=''
  for arg do
    if [ -n "$next_is_stanza" ]; then stanza=$arg; next_is_stanza=''; continue; fi
    case $arg in
      --stanza=*) stanza=${arg#--stanza=} ;;
      --stanza) next_is_stanza=1 ;;
      archive-push) command=1 ;;
    esac
  done
  [ -n "$command" ] || return 1
  case $stanza in '' | */* | . | ..) return 1 ;; esac
  eval "wal=\${$#}"
  segment=${wal##*/}
  case $segment in '' | *[!0-9A-Za-z.]*) return 1 ;; esac

  # The effective uid, from the shell's own /proc entry (no process started), as Node's geteuid().
  uid=''
  if [ -r /proc/self/status ]; then
    while read -r key real effective rest; do
      case $key in Uid:) uid=$effective; break ;; esac
    done </proc/self/status
  fi
  [ -n "$uid" ] || uid=$(id -u) || return 1

  # Node's os.tmpdir(): TMPDIR, TMP, TEMP or /tmp, one trailing slash removed.
  tmp=${TMPDIR:-${TMP:-${TEMP:-/tmp}}}
  case $tmp in ?*/) tmp=${tmp%/} ;; esac
  dir=$tmp/pgkeep-$uid
  descriptor=$dir/archive-push.$stanza
  [ -d "$dir" ] && [ ! -h "$dir" ] && [ -O "$dir" ] || return 1
  [ -f "$descriptor" ] && [ ! -h "$descriptor" ] && [ -O "$descriptor" ] || return 1

  version='' args=0 out='' lock='' wait_ms='' env_count='' ended='' param_dir='' wal_dir='' node='' bg=''
  while IFS= read -r line; do
    tag=${line%% *}
    value=${line#* }
    case $tag in
      pgkeep-fast-path) version=$value ;;
      arg)
        # the same words in the same places: Node would parse the same options
        [ -z "$bg" ] || return 1
        args=$((args + 1))
        [ "$args" -lt $# ] || return 1
        eval "given=\${$args}"
        [ "$given" = "$value" ] || return 1
        ;;
      bg)
        # our arguments are all checked: from here on "$@" holds the background process's
        if [ -z "$bg" ]; then
          [ "$args" -eq $(($# - 1)) ] || return 1
          bg=1
          set --
        fi
        set -- "$@" "$value"
        ;;
      out) out=$value ;;
      lock) lock=$value ;;
      wait-ms) wait_ms=$value ;;
      wal-param-dir) param_dir=$value ;;
      wal-dir) wal_dir=$value ;;
      node) node=$value ;;
      absent) [ ! -e "$value" ] && [ ! -h "$value" ] || return 1 ;;
      newer) [ -e "$value" ] && [ ! "$value" -nt "$descriptor" ] || return 1 ;;
      env-count) env_count=$value ;;
      env)
        name=${value%%=*}
        case $name in '' | *[!A-Z0-9_]*) return 1 ;; esac
        eval "set_mark=\${$name+set} current=\${$name-}"
        [ "$set_mark" = set ] && [ "$current" = "${value#*=}" ] || return 1
        ;;
      end) ended=1; break ;;
      *) return 1 ;;
    esac
  done <"$descriptor"
  [ "$version" = 1 ] && [ -n "$ended" ] && [ -n "$bg" ] || return 1
  [ -n "$out" ] && [ -n "$lock" ] && [ -n "$wal_dir" ] && [ -n "$node" ] || return 1
  [ "${wal%/*}" = "$param_dir" ] || return 1
  case $wait_ms in '' | *[!0-9]*) return 1 ;; esac

  # No PGKEEP_*/PGBACKREST_* variable beyond the ones checked above.
  count=0
  variables=$(export -p)
  while IFS= read -r line; do
    case $line in
      'export PGKEEP_'* | 'export PGBACKREST_'* | 'declare -x PGKEEP_'* | 'declare -x PGBACKREST_'*) count=$((count + 1)) ;;
    esac
  done <<VARIABLES
$variables
VARIABLES
  [ "$count" = "$env_count" ] || return 1

  # Waits of 5, 10, 20, then 40 ms: each look costs a `sleep` process, and a push takes tens of ms.
  waited=0 pause=5 started=''
  while :; do
    if [ -f "$out/$segment.ok" ]; then
      # an .ok with content carries a warning (or a manual skip): Node prints it
      [ -s "$out/$segment.ok" ] && return 1
      return 0
    fi
    # an error is reported by Node, which also restarts the background process
    if [ -e "$out/$segment.error" ] || [ -e "$out/global.error" ]; then return 1; fi
    [ "$waited" -lt "$wait_ms" ] || return 1
    # Queued: wait while a live process holds the archive lock (the background process) or while
    # the one started here is starting; start one when none runs.
    content=''
    read -r content 2>/dev/null <"$lock"
    pid=${content#*\"pid\":}
    pid=${pid%%[!0-9]*}
    if [ -n "$pid" ] && alive "$pid"; then
      :
    elif [ -n "$started" ]; then
      alive "$started" || return 1
    else
      command -v setsid >/dev/null 2>&1 || return 1
      setsid "$node" "$@" "$wal_dir" </dev/null >/dev/null 2>&1 &
      started=$!
    fi
    case $pause in 5) seconds=0.005 ;; 10) seconds=0.01 ;; 20) seconds=0.02 ;; *) seconds=0.04 ;; esac
    sleep "$seconds" || return 1
    waited=$((waited + pause))
    [ "$pause" -ge 40 ] || pause=$((pause * 2))
  done
}

# Whether a process runs (a zombie, ended but not yet collected, does not).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  stat=''
  read -r stat 2>/dev/null <"/proc/$1/stat"
  state=${stat##*) }
  state=${state%% *}
  [ "$state" != Z ] && [ "$state" != X ]
}

if fast_push "$@"; then exit 0; fi

here=${0%/*}
[ "$here" = "$0" ] && here=.
if [ -h "$0" ]; then
  target=$(readlink -f -- "$0") && here=${target%/*}
fi
exec node "$here/../cli.js" "$@"
