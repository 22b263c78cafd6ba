#!/usr/bin/env bash
# tools/bench/race_profile.sh: where the fair race's CPU goes, symbol by
# symbol. Runs one case of tools/bench/compare.sh (one run) with fm-export,
# then with softflowd, each under `perf record -a` (cpu-clock samples: this
# works on virtual CPUs without a PMU), and prints the kernel and user
# symbols whose cost differs most between the two, in ns per arrived
# packet. Only the processes of the data path count: trafgen (the veth
# receive path, XDP program included, runs in its softirq), the idle task's
# softirqs, ksoftirqd, the tool and nfcapd; compare.sh's own helpers
# (bash, awk, nfdump) and idle time are left out.
#
# Usage: tools/bench/race_profile.sh [--seconds S] [--top N] [SHAPE:LOAD:FLOWS]
#   SHAPE:LOAD:FLOWS  the case (udp4:100000:1000000), as compare.sh's --headline
#   --seconds S       load per run (10)
#   --top N           symbols shown (20)
# Needs root, perf (Debian: linux-perf) and what compare.sh needs. Test
# hosts in compare.sh's own namespaces. Exit 0, 1 on an error, 2 on a
# usage error.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
secs=10 top=20 case=udp4:100000:1000000
while (($#)); do
	case $1 in
	--seconds) secs=${2:-}; shift ;;
	--top) top=${2:-}; shift ;;
	-h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	-*) echo "race_profile: unknown option '$1'" >&2; exit 2 ;;
	*) case=$1 ;;
	esac
	shift
done
[[ $secs =~ ^[0-9]+$ && $top =~ ^[0-9]+$ ]] || { echo "race_profile: --seconds and --top take a number" >&2; exit 2; }
command -v perf >/dev/null || { echo "race_profile: needs perf (apt-get install linux-perf)" >&2; exit 1; }
((EUID == 0)) || { echo "race_profile: needs root" >&2; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
comms=trafgen,swapper,ksoftirqd/0,ksoftirqd/1,flowmaster,softflowd,nfcapd

for t in fm-export softflowd; do
	echo "race_profile: $t, $case, $secs s under perf record -a" >&2
	perf record -q -a -e cpu-clock -F 499 -o "$tmp/$t.data" -- \
		tools/bench/compare.sh --tools "$t" --headline "$case" --headline-only \
		--runs 1 --seconds "$secs" --markdown "$tmp/$t.md" --plot none >"$tmp/$t.log" 2>&1 ||
		{ tail -n 20 "$tmp/$t.log" >&2; echo "race_profile: compare.sh failed for $t" >&2; exit 1; }
	# The case's run line: "# CASE,TOOL,1: sent N arrived N ...".
	sed -n "s/.*# $case,$t,1: sent [0-9]* arrived \([0-9]*\) .*/\1/p" "$tmp/$t.log" >"$tmp/$t.pkts"
	[[ -s $tmp/$t.pkts ]] || { echo "race_profile: no run of $t in compare.sh's output" >&2; exit 1; }
	# comm, symbol, samples; idle left out
	perf report -i "$tmp/$t.data" --stdio --no-children -n -g none --comms "$comms" --sort comm,sym 2>/dev/null |
		awk '!/^#/ && NF >= 5 && $2 ~ /^[0-9]+$/ {s = $5; for (i = 6; i <= NF; i++) s = s " " $i
			if (s != "pv_native_safe_halt" && s !~ /^default_idle/) print $3 "\t" s "\t" $2}' >"$tmp/$t.syms"
done

# ns per packet from samples: samples / 499 Hz / packets * 1e9.
awk -F '\t' -v pa="$(cat "$tmp/fm-export.pkts")" -v pb="$(cat "$tmp/softflowd.pkts")" -v top="$top" -v fa="$tmp/fm-export.syms" '
	function ns(n, p) { return n / 499 / p * 1e9 }
	function abs(x) { return x < 0 ? -x : x }
	FILENAME == fa { a[$2] += $3; cA[$1] += $3; tA += $3 }
	FILENAME != fa { b[$2] += $3; cB[$1] += $3; tB += $3 }
	{ syms[$2] = 1; names[$1] = 1 }
	END {
		printf "%-40s %10s %10s\n", "busy in (ns/packet)", "fm-export", "softflowd"
		for (c in names) printf "%-40s %10.0f %10.0f\n", c, ns(cA[c], pa), ns(cB[c], pb)
		printf "%-40s %10.0f %10.0f\n\n", "all of these", ns(tA, pa), ns(tB, pb)
		for (s in syms) d[s] = ns(a[s], pa) - ns(b[s], pb)
		printf "%-40s %10s %10s %10s\n", "symbol (ns/packet)", "fm-export", "softflowd", "difference"
		for (i = 0; i < top; i++) {
			best = ""
			for (s in d) if (best == "" || abs(d[s]) > abs(d[best])) best = s
			if (best == "") break
			printf "%-40s %10.0f %10.0f %+10.0f\n", substr(best, 1, 40), ns(a[best], pa), ns(b[best], pb), d[best]
			delete d[best]
		}
	}' "$tmp/fm-export.syms" "$tmp/softflowd.syms"
