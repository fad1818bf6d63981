#!/usr/bin/env bash
# The benchmarks (`make bench`): bulk provisioning through the shell, then the core and snapshot
# benchmarks, with a short summary against the targets. Usage: scripts/bench.sh [BUILD_DIR]
#
#   AUTODISC_BENCH_N=100000   rows in the Import-Csv run
#   AUTODISC_BENCH_STRICT=1   exit with status 2 when a target is missed
#
# Everything generated goes into a temporary directory that is deleted on exit.
set -euo pipefail

BUILD_DIR=${1:-build}
BIN=$BUILD_DIR/autodisc
CORE=$BUILD_DIR/autodisc_bench_core
SNAPSHOT=$BUILD_DIR/autodisc_bench_snapshot
N=${AUTODISC_BENCH_N:-100000}
for f in "$BIN" "$CORE" "$SNAPSHOT"; do
  [ -x "$f" ] || { echo "bench: $f is missing; build with -DAUTODISC_BUILD_BENCH=ON" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/autodisc-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DB=$WORK/bench.db
CSV=$WORK/users.csv

echo "== machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"

# --- 1. Import-Csv | New-Mailbox into a fresh store ----------------------------------------------------
awk -v n="$N" 'BEGIN {
  print "Name,Alias,DisplayName,PrimarySmtpAddress"
  for (i = 1; i <= n; i++) printf "User %d,user%d,Test User %d,user%d@contoso.com\n", i, i, i, i
}' >"$CSV"

"$BIN" shell --store "sqlite:$DB" -c "New-AcceptedDomain -Name contoso.com -DomainName contoso.com
New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local
New-MailboxDatabase -Name DB01 -Server EX01" >/dev/null

echo "== Import-Csv of $N mailboxes into a fresh store"
import_cmd=("$BIN" shell --store "sqlite:$DB" -c "Import-Csv $CSV | New-Mailbox")
peak_kb=""
start=$EPOCHREALTIME
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v -o "$WORK/time.txt" "${import_cmd[@]}" >"$WORK/import.out"
  peak_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): *//p' "$WORK/time.txt")
else
  "${import_cmd[@]}" >"$WORK/import.out"
fi
end=$EPOCHREALTIME
import_s=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
peak_mb=$([ -n "$peak_kb" ] && awk -v k="$peak_kb" 'BEGIN { printf "%.0f", k / 1024 }' || echo "n/a")
echo "   ${import_s} s, peak RSS ${peak_mb} MB"

count=$("$BIN" shell --store "sqlite:$DB" -c "Get-Mailbox -ResultSize Unlimited | Measure-Object" |
  sed -n 's/^Count *: *//p')
echo "   Get-Mailbox -ResultSize Unlimited | Measure-Object: ${count:-?} mailboxes"
if [ "${count:-0}" != "$N" ]; then
  echo "bench: expected $N mailboxes in the store, found ${count:-none}" >&2
  exit 1
fi
rm -f "$DB" "$DB-wal" "$DB-shm" "$CSV" "$WORK/import.out"

# --- 2. core: recipient lookup at several organisation sizes -------------------------------------------
echo "== core benchmark"
"$CORE" --benchmark_min_time=0.2 | tee "$WORK/core.txt"

# --- 3. snapshot load (its stores are written under $WORK) ---------------------------------------------
echo "== snapshot benchmark"
TMPDIR=$WORK "$SNAPSHOT" | tee "$WORK/snapshot.txt"

# --- summary -------------------------------------------------------------------------------------------
missed=0
V=""
verdict() {  # value limit: sets V to "met" or "MISSED"
  if awk -v v="$1" -v l="$2" 'BEGIN { exit !(v != "" && v != "n/a" && v + 0 < l + 0) }'; then V=met; else V=MISSED; missed=1; fi
}
counter() { sed -n "s/.*BM_SnapshotLoad\/$1\/.* $2=\([0-9.e+k]*\).*/\1/p" "$WORK/snapshot.txt" |
  awk 'NR == 1 { v = $1; if (v ~ /k$/) v = substr(v, 1, length(v) - 1) * 1000; print v }'; }
load1m=$(counter 1000000 load_s)
rss1m=$(counter 1000000 rss_mb)

echo
echo "== summary"
if [ "$N" = 100000 ]; then verdict "$import_s" 20; import_v=$V; else import_v="n/a, N is not 100000"; fi
printf '  import %s mailboxes: %s s, peak RSS %s MB  (target < 20 s: %s)\n' "$N" "$import_s" "$peak_mb" "$import_v"
for n in 100000 1000000; do
  printf '  snapshot load %7s recipients: %s s, %s MB\n' "$n" "$(counter $n load_s)" "$(counter $n rss_mb)"
done
verdict "$load1m" 5; load_v=$V
verdict "$rss1m" 400; rss_v=$V
printf '  target for 1000000: load < 5 s: %s; memory < 400 MB: %s\n' "$load_v" "$rss_v"
awk '/^BM_RecipientByAddress\// { split($1, a, "/"); printf "  recipient lookup %8s recipients: %8s %s\n", a[2], $2, $3 }' "$WORK/core.txt"

if [ "$missed" = 1 ] && [ "${AUTODISC_BENCH_STRICT:-0}" = 1 ]; then exit 2; fi
exit 0
