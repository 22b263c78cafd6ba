#!/usr/bin/env bash
# tools/bench/web.sh: how fast `flowmaster web` answers on a database of
# FLOWS flow rows over the last 24 h (made by build/bench/web_db with SQL,
# kept in $BUILD/bench/web-FLOWS.db and reused), for each API endpoint a
# page reads, over the windows the pages offer (15 min, 1 h, 24 h). Each
# figure is the median of RUNS requests (curl's time_total, loopback of a
# network namespace of its own, so nothing else listens there). With
# --index, the same again after adding a covering index on the window's
# columns to a copy (what it would cost the writer is in the section).
#
# Usage: tools/bench/web.sh [--quick] [--flows N] [--runs N] [--index]
#          [--markdown FILE]
#   --quick       100,000 flows, 3 runs
#   --flows N     flow rows (1000000)
#   --runs N      requests per figure (5)
#   --index       also with flows_web_cover (first_seen_ms, last_seen_ms,
#                 protocol, direction, end_reason, packets, bytes)
#   --markdown F  Markdown section ($BUILD/bench/web.md)
# Needs root (unshare -n), curl, sqlite3.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FM=${FM:-$BUILD/flowmaster}
flows=1000000 runs=5 index=0 md=$BUILD/bench/web.md

while (($#)); do
	case $1 in
	--quick) flows=100000 runs=3 ;;
	--flows) flows=$2; shift ;;
	--runs) runs=$2; shift ;;
	--index) index=1 ;;
	--markdown) md=$2; shift ;;
	-h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) echo "web.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done

db=$BUILD/bench/web-$flows.db
mkdir -p "$BUILD/bench"
# The rows are relative to now: a file older than an hour is made again.
if [[ -f $db && -n $(find "$db" -mmin +60) ]]; then
	rm -f "$db" "$db-wal" "$db-shm" "$db.idx"*
fi
if [[ ! -f $db ]]; then
	"$BUILD/bench/web_db" "$db" "$flows" || exit 1
fi

# measure DB: one line per query, "PATH ROWS MEDIAN_MS STATUS", in a
# network namespace of its own (unshare -n: gone when it ends).
measure()
{
	unshare -n bash -s "$FM" "$1" "$runs" <<'INNER'
fm=$1 db=$2 runs=$3
ip link set lo up
"$fm" web --db "$db" --listen 127.0.0.1:8080 --query-timeout 60000 >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for i in $(seq 50); do
	curl -s -o /dev/null http://127.0.0.1:8080/static/app.css && break
	sleep 0.1
done
for q in "info" \
	"overview?last=15m" "overview?last=1h" "overview?last=24h" \
	"talkers?last=15m" "talkers?last=1h" "talkers?last=24h" \
	"flows?last=15m" "flows?last=1h" "flows?last=24h" \
	"host?last=1h&addr=198.18.0.32" "host?last=24h&addr=198.18.0.32" \
	"devices" "health?last=1h" "health?last=24h" "runs"; do
	for ((i = 0; i < runs; i++)); do
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:8080/api/$q"
	done | sort -k2 -n | awk -v q="$q" -v n="$runs" 'NR == int((n + 1) / 2) { printf "%s %.1f %s\n", q, $2 * 1000, $1 }'
done
INNER
}

now=$(date +%s%3N)
rows_in()
{
	case $1 in
	health*) echo "(metrics)" ;;
	*last=15m*) sqlite3 "$db" "select count(*) from flows where first_seen_ms >= $now - 900000;" ;;
	*last=1h*) sqlite3 "$db" "select count(*) from flows where first_seen_ms >= $now - 3600000;" ;;
	*last=24h* | runs) echo "$flows" ;;
	*) echo - ;;
	esac
}

echo "web: $flows flows in $db; median of $runs requests"
mapfile -t plain < <(measure "$db")
covered=()
if ((index)); then
	cp "$db" "$db.idx"
	t0=$(date +%s%N)
	sqlite3 "$db.idx" "CREATE INDEX flows_web_cover ON flows(first_seen_ms, last_seen_ms, protocol, direction, end_reason, packets, bytes);"
	idx_ms=$((($(date +%s%N) - t0) / 1000000))
	mapfile -t covered < <(measure "$db.idx")
	rm -f "$db.idx" "$db.idx-wal" "$db.idx-shm"
fi

{
	echo "### Web view: API answer times on $flows flows"
	echo
	echo "\`tools/bench/web.sh\`: \`flowmaster web\` on a database of $flows flow rows spread over"
	echo "the last 24 h (tools/bench/web_db.c), each figure the median of $runs requests"
	echo "with curl over loopback. A page is its HTML (static, embedded) plus /api/info"
	echo "and the endpoint below, so its time is about the endpoint's."
	echo
	# The verdict from the plain database (no covering index): the slowest
	# endpoint, and how many answered under 200 ms.
	slow_q="" slow_ms=0 fast=0
	for i in "${!plain[@]}"; do
		read -r q ms _ <<<"${plain[$i]}"
		awk -v m="$ms" 'BEGIN{exit !(m < 200)}' && fast=$((fast + 1))
		if awk -v m="$ms" -v s="$slow_ms" 'BEGIN{exit !(m > s)}'; then slow_q=$q slow_ms=$ms; fi
	done
	echo "**Target**: every page under 200 ms on 1,000,000 flows: $fast of ${#plain[@]} endpoints under 200 ms on $flows flows, the slowest \`/api/$slow_q\` $slow_ms ms: $( ((fast == ${#plain[@]})) && echo '**PASS**' || echo '**MISS**')"
	echo
	if ((index)); then
		echo "| endpoint | rows in window | ms | ms with covering index | status |"
		echo "| --- | ---: | ---: | ---: | --- |"
	else
		echo "| endpoint | rows in window | ms | status |"
		echo "| --- | ---: | ---: | --- |"
	fi
	for i in "${!plain[@]}"; do
		read -r q ms st <<<"${plain[$i]}"
		if ((index)); then
			read -r _ cms _ <<<"${covered[$i]:-- - -}"
			echo "| \`/api/$q\` | $(rows_in "$q") | $ms | $cms | $st |"
		else
			echo "| \`/api/$q\` | $(rows_in "$q") | $ms | $st |"
		fi
	done
	((index)) && { echo; echo "Building the covering index on $flows rows took $idx_ms ms."; }
} >"$md"
cat "$md"
