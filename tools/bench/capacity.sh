#!/usr/bin/env bash
# tools/bench/capacity.sh: capacity figures to plan with, from the other
# parts' Markdown sections in $BUILD/bench (kernel.md, insitu.md,
# sqlite.md, ipfix.md, compare.md: whichever exist; a figure whose part did
# not run is left out, and the section says so). Writes the section
# "Capacity on this machine" to FILE ($BUILD/bench/capacity.md) and prints
# it. Needs no root and measures nothing itself: every figure is one of the
# parts' own, turned into a rate per CPU core (1e9 / ns per packet, 1e6 /
# CPU s per million).
#
# Usage: tools/bench/capacity.sh [--markdown FILE]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
DIR=$BUILD/bench
md=$DIR/capacity.md
while (($#)); do
	case $1 in
	--markdown) md=${2:?--markdown needs a file}; shift ;;
	--markdown=*) md=${1#*=} ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) echo "capacity: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done

# cell FILE ROW COLUMN [N]: the cell of the first table row whose first cell
# matches the extended regex ROW (bold marks and spaces stripped) in the
# column whose header matches COLUMN; N: the Nth such row (1). Nothing if
# the file, the row or the column is missing. A cell "a / b / c" (min /
# median / max) gives b.
cell()
{
	[[ -r $1 ]] || return 0
	awk -F'|' -v row="$2" -v col="$3" -v nth="${4:-1}" '
	function clean(s) { gsub(/\*\*/, "", s); gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
	!/^\|/ { intable = 0; next }
	!intable { intable = 1; ci = 0
		   for (i = 2; i < NF; i++) if (ci == 0 && clean($i) ~ col) ci = i
		   next }
	/^\| *:?---/ { next }
	ci && clean($2) ~ row && ++seen == nth {
		v = clean($ci)
		n = split(v, p, " / ")
		if (n == 3) v = p[2]
		sub(/ .*/, "", v)
		print v; exit }' "$1"
}
# per_core NS: packets/s one core gives at NS ns per packet.
per_core() { awk -v n="$1" 'BEGIN{ if (n > 0) printf "%.0f", 1e9 / n }'; }
# per_cpu_s S: items/s per core at S CPU s per million items.
per_cpu_s() { awk -v s="$1" 'BEGIN{ if (s > 0) printf "%.0f", 1e6 / s }'; }
# th N: N with thousands separators.
th() { printf "%s" "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

rows=() missing=()
add() { rows+=("| $1 | $2 | $3 |"); }

# The kernel program: BPF_PROG_TEST_RUN (hot caches) and the live link.
K=$DIR/kernel.md
if [[ -r $K ]]; then
	for r in "hot flow, IPv4 UDP" "hot flow, IPv6 TCP" "round robin, .* flows" "new flow every packet"; do
		for ((i = 1; i <= 3; i++)); do
			ns=$(cell "$K" "^$r( \\*)?\$" '^fm_xdp$' "$i")
			[[ -n $ns ]] || break
			name=$(awk -F'|' -v row="^$r( \\*)?\$" -v nth="$i" '/^\|/ { s = $2; gsub(/\*\*|^[ \t]+|[ \t]+$/, "", s); if (s ~ row && ++n == nth) { sub(/ \*$/, "", s); print s; exit } }' "$K")
			add "XDP program, test run, $name" "$(th "$(per_core "$ns")") packets/s per core" "kernel: fm_xdp $ns ns/packet (\`BPF_PROG_TEST_RUN\`, hot caches: an upper bound)"
			[[ $r == *".*"* ]] || break
		done
	done
else
	missing+=(kernel)
fi
I=$DIR/insitu.md
ns=$(cell "$I" '^fm_xdp$' 'ns/packet on the link')
if [[ -n $ns ]] && awk -v n="$ns" 'BEGIN{exit !(n <= 0)}'; then
	add "XDP program on the live link" "no figure" "insitu: fm_xdp $ns ns/packet is not a measurement (no run counted by the program's statistics)"
elif [[ -n $ns ]]; then
	pps=$(cell "$I" '^fm_xdp$' '^packets/s( \(median\))?$')
	add "XDP program on the live link" "$(th "$(per_core "$ns")") packets/s per core" "insitu: fm_xdp $ns ns/packet (\`run_time_ns / run_cnt\` on a veth at its maximum; the program alone, the rest of the receive path comes on top: the link carried $(th "${pps:-?}") packets/s with it)"
else
	missing+=(insitu)
fi
C=$DIR/compare.md
# row_of FILE LOAD FLOWS TOOL: which row among those of LOAD is FLOWS
# UDP/IPv4 flows with TOOL (for cell's N).
row_of()
{
	awk -F'|' -v l="$2" -v f="$3" -v t="$4" '
		function c(s) { gsub(/\*\*|^[ \t]+|[ \t]+$/, "", s); return s }
		/^\|/ && c($2) == l { n++; if (c($3) == f && c($4) ~ /^UDP/ && c($5) == t) { print n; exit } }' "$1" 2>/dev/null || true
}
for f in 1000 65858; do
	n=$(row_of "$C" max "$f" fm)
	[[ -n $n ]] || continue
	pps=$(cell "$C" '^max$' '^packets/s' "$n")
	[[ -n $pps ]] || continue
	add "flowmaster on the veth link, max load, $(th "$f") UDP/IPv4 flows" "$(th "$pps") packets/s arrived and stored (median)" "compare: what the link carried with flowmaster attached, on 2 CPUs shared by sender, receiver and tool"
done

# The SQLite path: flow rows per second through the store's writer.
S=$DIR/sqlite.md
v=$(cell "$S" '^flows\(first_seen_ms\) only$' '^store rows/s$')
if [[ -n $v ]]; then
	add "SQLite store, flow rows" "$(th "$v") flows/s" "sqlite: store module, flows(first_seen_ms) index only (one writer thread)"
	v=$(cell "$S" 'index-addresses' '^store rows/s$')
	[[ -n $v ]] && add "SQLite store, flow rows, --index-addresses" "$(th "$v") flows/s" "sqlite: the same with the address indexes"
else
	missing+=(sqlite)
fi
# compare: flowmaster's own CPU per million packets when every packet is a
# new flow: flows/s one core of flowmaster gives, end to end.
for t in fm fm-export; do
	n=$(row_of "$C" 100000 1003520 "$t")
	[[ -n $n ]] || continue
	v=$(cell "$C" '^100000$' '^tool CPU s/Mpkt$' "$n")
	[[ -n $v ]] || continue
	if [[ $t == fm ]]; then
		add "flowmaster, 1M-flow churn into SQLite" "$(th "$(per_cpu_s "$v")") flows/s per core of flowmaster" "compare: fm's own CPU $v s per million packets at 100 kpps, every packet a new flow (drain, flow table, records, SQLite)"
	else
		add "flowmaster export only, 1M-flow churn to IPFIX" "$(th "$(per_cpu_s "$v")") records/s per core of flowmaster" "compare: fm-export's own CPU $v s per million packets at 100 kpps, every packet a new flow (drain, flow table, IPFIX)"
	fi
done

# The exporter: records/s in one process.
X=$DIR/ipfix.md
if [[ -r $X ]] && grep -q 'export (sendto)' "$X"; then
	rps=$(sed -n 's/.*export (sendto) *\([0-9]*\) records\/s.*/\1/p' "$X" | head -n 1)
	cps=$(sed -n 's/.*export (sendto).* \([0-9.]*\) CPU s per million records.*/\1/p' "$X" | head -n 1)
	add "IPFIX exporter, encode + send" "$(th "$rps") records/s ($(th "$(per_cpu_s "$cps")") per core at $cps CPU s per million)" "ipfix: \`ipfix_bench\`, one process, 512-byte messages on loopback"
	v=$(awk -F'|' 'function c(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
		/^\|/ && c($2) == "nfcapd" && c($5) ~ /^0( events)?$/ && c($6) == "0" { r = c($3); sub(/ .*/, "", r); if (r + 0 > b) b = r + 0 }
		END { if (b) print b }' "$X")
	[[ -n $v ]] && add "nfcapd as the collector" "$(th "$v") records/s without a loss" "ipfix: the highest offered rate nfcapd stored completely"
else
	missing+=(ipfix)
fi

{
	echo "### Capacity on this machine"
	echo
	echo "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) CPUs, kernel $(uname -r); \`tools/bench/capacity.sh\` from the sections below (their runs, their loads; a shared machine moves them). Rates per core are 1e9 / ns per packet or 1e6 / CPU s per million: what one core could do with nothing else to do, not what a link carried."
	echo
	if ((${#rows[@]})); then
		echo "| what | capacity | from |"
		echo "| --- | ---: | --- |"
		printf '%s\n' "${rows[@]}"
	else
		echo "No part's results were found in $DIR."
	fi
	((${#missing[@]})) && { echo; echo "Not measured in this run: ${missing[*]}."; }
} >"$md"
cat "$md"
echo "(Markdown section: $md)" >&2
