#!/usr/bin/env bash
# Builds the C guest (kguest) and the runtime's self-test (kh-selftest) for each Debian kernel named, in
# parallel, into target/kharness/debian-<version>/. mvn verify runs this (exec-maven-plugin).
#
#   build.sh [--required=true|false] VERSION...
#
# For a kernel whose prerequisites are missing it writes the reason to target/kharness/debian-<v>/UNAVAILABLE
# and skips it (the Java tests then skip with that reason), unless --required=true, which fails instead
# (CI). A build that starts and fails always fails. Timings go to build-times.properties beside the binaries.
set -uo pipefail
cd "$(dirname "$0")"

required=false
versions=()
for a in "$@"; do
  case "$a" in
    --required=*) required="${a#--required=}" ;;
    *) versions+=("$a") ;;
  esac
done

PACKAGES="gcc make libprotobuf-c-dev protobuf-c-compiler xz-utils"

missing() {  # prints why kernel $1 cannot be built here, or nothing
  local v="$1" why=()
  command -v "${CC:-gcc}" >/dev/null || why+=("no C compiler (${CC:-gcc})")
  command -v make >/dev/null || why+=("no make")
  command -v protoc-c >/dev/null || why+=("no protoc-c (package protobuf-c-compiler)")
  [ -f /usr/include/protobuf-c/protobuf-c.h ] || why+=("no protobuf-c headers (package libprotobuf-c-dev)")
  command -v xz >/dev/null || why+=("no xz (package xz-utils)")
  [ -f "${DEBIAN_SRC_DIR:-/usr/src}/linux-source-$v.tar.xz" ] || why+=("no ${DEBIAN_SRC_DIR:-/usr/src}/linux-source-$v.tar.xz (package linux-source-$v)")
  if [ ${#why[@]} -gt 0 ]; then
    local IFS=';'
    echo "${why[*]}; install with: apt-get install $PACKAGES linux-source-$v"
  fi
}

now() { date +%s.%N; }
secs() { awk "BEGIN { printf \"%.1f\", $2 - $1 }"; }

build_one() {  # kernel version -> exit status; log in the build directory
  local v="$1" dir="target/kharness/debian-$1"
  local t0 t1 t2
  t0=$(now)
  make -s DEBIAN="$v" extract >"$dir/build.log" 2>&1 || return 1
  t1=$(now)
  make -s DEBIAN="$v" all >>"$dir/build.log" 2>&1 || return 1
  t2=$(now)
  {
    echo "# seconds, measured by build.sh (extract is 0.0 when the tree was already extracted)"
    echo "extract.seconds=$(secs "$t0" "$t1")"
    echo "compile.seconds=$(secs "$t1" "$t2")"
  } >"$dir/build-times.properties"
}

status=0
pids=()
built=()
for v in "${versions[@]}"; do
  dir="target/kharness/debian-$v"
  mkdir -p "$dir"
  why=$(missing "$v")
  if [ -n "$why" ]; then
    echo "$why" >"$dir/UNAVAILABLE"
    if [ "$required" = true ]; then
      echo "kharness: ERROR: Linux $v guest cannot be built (kharness.required=true): $why" >&2
      status=1
    else
      echo "kharness: skipping the Linux $v guest: $why"
    fi
    continue
  fi
  rm -f "$dir/UNAVAILABLE"
  build_one "$v" &
  pids+=($!)
  built+=("$v")
done

for i in "${!pids[@]}"; do
  v="${built[$i]}"
  dir="target/kharness/debian-$v"
  if wait "${pids[$i]}"; then
    ex=$(sed -n 's/^extract.seconds=//p' "$dir/build-times.properties")
    co=$(sed -n 's/^compile.seconds=//p' "$dir/build-times.properties")
    echo "kharness: Linux $v guest built in $dir (extract ${ex} s, compile ${co} s)"
  else
    echo "kharness: ERROR: building the Linux $v guest failed; the end of $dir/build.log:" >&2
    tail -30 "$dir/build.log" >&2
    status=1
  fi
done
exit $status
