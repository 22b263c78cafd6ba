#!/usr/bin/env bash
# tools/bench/compare.sh: flowmaster end to end, side by side with
# softflowd, pmacctd, an empty XDP program and nothing at all, on one veth
# link between two test hosts (network namespaces made here, tools/lab.sh),
# the same load offered to each tool in the same run.
#
# A case is a traffic shape, an offered load and a flow count: 60-byte
# UDP/IPv4 frames at every load x flow count, and 74-byte TCP/IPv6 frames
# (ACK set; source addresses and ports varied in the link's 2001:2:0:N::/64)
# at the --ipv6-rates loads x --ipv6 flow counts. trafgen on host "tx"
# sends them to host "rx" (one trafgen process, bounded by a packet count
# and a timeout), once per tool, every tool on rx's veth end:
#   none          nothing attached (the baseline of the CPU figures)
#   empty         xdp_empty (XDP_PASS, bpf/bench.bpf.c) attached natively;
#                 at max load, the baseline of "/ empty" (packets/s), and
#                 at every load when fm-export runs: what native XDP on the
#                 veth costs by itself, in the fair race's breakdown
#   fm            build/flowmaster run -i IF --db DB --pin-path PIN (defaults)
#   fm-generic    the same with --xdp-mode generic; with 1000 UDP/IPv4 flows
#                 only: what veth's native XDP mode itself costs
#   fm-export     build/flowmaster run -i IF --db none --ipfix
#                 127.0.0.1:PORT --ipfix-rate FM_EXPORT_RATE: export only,
#                 IPFIX to the same nfcapd as softflowd's, paced (200000
#                 records/s) so that the burst of every flow at the stop
#                 does not overrun nfcapd's socket; stored = nfdump's
#                 packet total (the fair race)
#   softflowd     softflowd -i IF -n 127.0.0.1:PORT -v 9 -T full -d, exporting
#                 NetFlow v9 to nfcapd on 127.0.0.1 in rx's namespace;
#                 stored = nfdump's packet total over nfcapd's files
#   pmacct        pmacctd, sqlite3 plugin, aggregate src_host,dst_host,
#                 src_port,dst_port,proto, sql_refresh_time 1, else defaults
#   pmacct-tuned  the same with larger pcap, pipe and cache buffers
# First a calibration: one `none` run at max load, 1000 UDP/IPv4 flows. A
# fixed load >= 0.9 x the rate that run reached is skipped (the link cannot
# carry it; the max rows stand for it). Every tool is started before the
# load; the capture tools (softflowd, pmacctd) get until they have read
# what is still queued in their capture buffers (until the tool has used no
# CPU for 0.1 s, and pmacctd at least 1 s: the last frames reach it only on
# a timer; at most SETTLE, 3 s), the others
# (flowmaster counts in the kernel and drains its maps at exit) are
# stopped at once. Then
# SIGTERM (softflowd: `softflowctl shutdown`, as SIGTERM makes it exit
# without exporting); "stop s" runs from there until every process of the
# tool (and for softflowd the collector, after it has read every export
# datagram) has exited with its data written, and only then are the stored
# counts read. Flows sent by rx itself (its ICMP port unreachables, which
# the capture tools see on the way out) are not counted as stored. The
# headline cases run RUNS runs of SECONDS each, the others ORUNS of
# OSECONDS; the tables show min / median / max over the runs, differences
# and ratios to a baseline taken within a run first. The Markdown section
# starts with the targets (**Target** lines), computed from the data.
#
# Usage: tools/bench/compare.sh [--quick] [--runs N] [--seconds S]
#          [--other-runs N] [--other-seconds S] [--side-runs N]
#          [--headline LIST|none] [--headline-only]
#          [--flows N,N,...] [--rates PPS,...,max] [--ipv6 N,...]
#          [--ipv6-rates PPS,...,max] [--tools LIST]
#          [--markdown FILE] [--plot FILE|none] [-v]
#   --quick        a smoke test, a few minutes: 1 run of 2 s per case, no
#                  headline cases, loads 100000,max, 1000 flows, TCP/IPv6
#                  1000 flows at max
#   --runs N       runs of each headline case (5)
#   --seconds S    load per run of a headline case (10)
#   --other-runs N runs of every other case (3)
#   --other-seconds S  load per run of every other case (2)
#   --side-runs N  in the headline cases, pmacct, pmacct-tuned and
#                  fm-generic (beside the race) run only the first N runs (3)
#   --headline L   the headline cases, SHAPE:LOAD:FLOWS (default
#                  udp4:max:1000,tcp6:max:1000,udp4:100000:65536,
#                  udp4:100000:1000000); none: every case is an other case
#   --headline-only  run only the headline cases
#                  (on the 2-CPU test machine at load average 4-7: 1713 s
#                  for the four default headline cases, about 40 min with
#                  the others; --quick about 100 s)
#   --flows LIST   distinct UDP/IPv4 flow keys per case (1,1000,65536,1000000);
#                  above 4096 the key count is a coprime product of source
#                  ports (as many as possible, <= 4096) x source addresses,
#                  at most 0.5 % above N (printed); at 1M every packet of a
#                  run is a new flow
#   --rates LIST   offered loads: packets/s (trafgen -b) or max (as fast as
#                  the link takes them); default 100000,300000,max
#   --ipv6 LIST    flows of the TCP/IPv6 cases, 1..2000000 (1000; 0: none);
#                  above 4096 source ports x source addresses, as for UDP
#   --ipv6-rates L offered loads of the TCP/IPv6 cases (max)
#   --tools LIST   subset and order of none,empty,fm,fm-generic,fm-export,
#                  softflowd,pmacct,pmacct-tuned (default all)
#   --markdown F   Markdown section ($BUILD/bench/compare.md)
#   --plot F       gnuplot PNG ($BUILD/bench/compare.png; none: no plot)
#   -v             show the tail of each tool's log after each run
# Environment: SETTLE (most s between the load and a capture tool's stop, 3),
# FM_EXPORT_MTU (fm-export's --ipfix-mtu, 65000), FM_EXPORT_RATE
# (fm-export's --ipfix-rate, 200000; 0: unpaced),
# FM_ARGS (extra flowmaster run options, every fm tool), FM_EXPORT_ARGS
# (extra options of fm-export), SOFTFLOWD_ARGS (extra softflowd
# options), PMACCT_TUNED (extra lines for the tuned config), BENCH_OBJ
# (the empty program's object, $BUILD/bpf/bench.bpf.o).
# Needs root, iproute2, trafgen, sqlite3, /usr/bin/time, and for the other
# tools softflowd, nfcapd + nfdump (package nfdump), pmacctd (pmacct);
# gnuplot for the plot. Exit 0 when every case ran and every flowmaster
# run stored exactly the packets that arrived (other tools losing packets,
# or a missed target, is a result, not an error); 1 on a runtime error, a
# lost count or flowmaster failing; 2 on a usage error.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FM=${FM:-$BUILD/flowmaster}
BENCH_OBJ=${BENCH_OBJ:-$BUILD/bpf/bench.bpf.o}

runs=5 secs=10 oruns=3 osecs=2 sruns=3 hl_only=0
headline_list=udp4:max:1000,tcp6:max:1000,udp4:100000:65536,udp4:100000:1000000
flows_list=1,1000,65536,1000000 rates_list=100000,300000,max ipv6_list=1000 ipv6_rates=max
tools_list=none,empty,fm,fm-generic,fm-export,softflowd,pmacct,pmacct-tuned
md=$BUILD/bench/compare.md plot=$BUILD/bench/compare.png verbose=0 quick=0
# Upper bound on packets per run at max load: far above what the link
# carries, so the timeout ends the run; both bound it.
MAX_PPS=2000000
NF_PORT=9995
SETTLE=${SETTLE:-3}
# A fixed load at or above this share of the calibrated maximum is skipped.
CAL_SHARE=0.9
# The Python collector flowmaster replaces stored 2152 packets/s; the goal
# is 400 times that.
PY_PPS=2152 PY_TIMES=400

usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//p}' "$0"; }
die() { echo "compare: $*" >&2; exit 1; }
uerr() { echo "compare: $* (try --help)" >&2; exit 2; }
say() { echo "  # $*" >&2; }

while (($#)); do
	case $1 in
	--quick) quick=1 runs=1 secs=2 oruns=1 osecs=2 sruns=1 headline_list="" rates_list=100000,max flows_list=1000 ipv6_list=1000 ipv6_rates=max ;;
	--runs) runs=${2:-}; shift ;;
	--runs=*) runs=${1#*=} ;;
	--seconds) secs=${2:-}; shift ;;
	--seconds=*) secs=${1#*=} ;;
	--other-runs) oruns=${2:-}; shift ;;
	--other-runs=*) oruns=${1#*=} ;;
	--other-seconds) osecs=${2:-}; shift ;;
	--other-seconds=*) osecs=${1#*=} ;;
	--side-runs) sruns=${2:-}; shift ;;
	--side-runs=*) sruns=${1#*=} ;;
	--headline) headline_list=${2:-}; shift ;;
	--headline=*) headline_list=${1#*=} ;;
	--headline-only) hl_only=1 ;;
	--ipv6-rates) ipv6_rates=${2:-}; shift ;;
	--ipv6-rates=*) ipv6_rates=${1#*=} ;;
	--flows) flows_list=${2:-}; shift ;;
	--flows=*) flows_list=${1#*=} ;;
	--rates) rates_list=${2:-}; shift ;;
	--rates=*) rates_list=${1#*=} ;;
	--ipv6) ipv6_list=${2:-}; shift ;;
	--ipv6=*) ipv6_list=${1#*=} ;;
	--tools) tools_list=${2:-}; shift ;;
	--tools=*) tools_list=${1#*=} ;;
	--markdown) md=${2:-}; shift ;;
	--markdown=*) md=${1#*=} ;;
	--plot) plot=${2:-}; shift ;;
	--plot=*) plot=${1#*=} ;;
	-v) verbose=1 ;;
	-h | --help) usage; exit 0 ;;
	*) uerr "unknown option '$1'" ;;
	esac
	shift
done
[[ $runs =~ ^[1-9][0-9]?$ ]] || uerr "--runs: '$runs' is not 1..99"
[[ $secs =~ ^[1-9][0-9]{0,2}$ ]] || uerr "--seconds: '$secs' is not 1..999"
[[ $oruns =~ ^[1-9][0-9]?$ ]] || uerr "--other-runs: '$oruns' is not 1..99"
[[ $osecs =~ ^[1-9][0-9]{0,2}$ ]] || uerr "--other-seconds: '$osecs' is not 1..999"
[[ $sruns =~ ^[1-9][0-9]?$ ]] || uerr "--side-runs: '$sruns' is not 1..99"
[[ $headline_list == none ]] && headline_list=""
IFS=, read -ra HEADLINE <<<"$headline_list"
for c in "${HEADLINE[@]}"; do
	[[ $c =~ ^(udp4|tcp6):(max|[1-9][0-9]*):[1-9][0-9]*$ ]] || uerr "--headline: '$c' is not SHAPE:LOAD:FLOWS (udp4 or tcp6, packets/s or max, flows)"
done
[[ $ipv6_list == 0 ]] && ipv6_list=""
IFS=, read -ra IPV6 <<<"$ipv6_list"
for f in "${IPV6[@]}"; do
	if ! [[ $f =~ ^[1-9][0-9]*$ ]] || ((f > 2000000)); then
		uerr "--ipv6: '$f' is not 1..2000000"
	fi
done
IFS=, read -ra RATES6 <<<"$ipv6_rates"
[[ $SETTLE =~ ^[0-9]{1,2}$ ]] || uerr "SETTLE: '$SETTLE' is not 0..99 seconds"
IFS=, read -ra FLOWS <<<"$flows_list"
IFS=, read -ra TOOLS <<<"$tools_list"
IFS=, read -ra RATES <<<"$rates_list"
((${#RATES[@]})) || uerr "--rates: no load given"
for x in "${RATES[@]}" "${RATES6[@]}"; do
	[[ $x == max ]] || { [[ $x =~ ^[1-9][0-9]*$ ]] && ((x <= MAX_PPS)); } ||
		uerr "--rates/--ipv6-rates: '$x' is not max or 1..$MAX_PPS packets/s"
done
for f in "${FLOWS[@]}"; do
	if ! [[ $f =~ ^[1-9][0-9]*$ ]] || ((f > 2000000)); then
		uerr "--flows: '$f' is not 1..2000000"
	fi
done
((${#TOOLS[@]})) || uerr "--tools: no tool given"
for t in "${TOOLS[@]}"; do
	case $t in
	none | empty | fm | fm-generic | fm-export | softflowd | pmacct | pmacct-tuned) ;;
	*) uerr "--tools: '$t' is not none, empty, fm, fm-generic, fm-export, softflowd, pmacct or pmacct-tuned" ;;
	esac
done
has_tool() { [[ ",$tools_list," == *",$1,"* ]]; }
has_rate() { [[ ",$rates_list," == *",$1,"* ]]; }

((EUID == 0)) || die "needs root (namespaces, XDP, packet capture); try: sudo $0"
need=(ip trafgen sqlite3 nsenter timeout pgrep ss /usr/bin/time)
has_tool softflowd && need+=(softflowd softflowctl nfcapd nfdump)
has_tool fm-export && need+=(nfcapd nfdump)
{ has_tool pmacct || has_tool pmacct-tuned; } && need+=(pmacctd)
for c in "${need[@]}"; do
	command -v "$c" >/dev/null ||
		die "$c is not installed (apt-get install softflowd nfdump pmacct netsniff-ng sqlite3 time)"
done
if has_tool fm || has_tool fm-generic || has_tool fm-export; then
	[[ -x $FM ]] || die "$FM not built (run make)"
fi
if has_tool empty; then
	[[ -r $BENCH_OBJ ]] || die "$BENCH_OBJ not built (run make bench)"
fi
PM_SCHEMA=""
for f in /usr/share/pmacct/sql/pmacct-create-table_v1.sqlite3 \
	/usr/share/doc/pmacct/sql/pmacct-create-table_v1.sqlite3; do
	[[ -r $f ]] && PM_SCHEMA=$f && break
done
if has_tool pmacct || has_tool pmacct-tuned; then
	[[ -n $PM_SCHEMA ]] || die "pmacct's sqlite3 schema pmacct-create-table_v1.sqlite3 not found"
fi
mkdir -p "$(dirname "$md")" || exit 1

# shellcheck source=tools/lab.sh
source "$ROOT/tools/lab.sh"
LAB_ID=fmcmp-$$
lab_init || exit 1
HZ=$(getconf CLK_TCK)
TX=tx RX=rx TXIF=tx-rx RXIF=rx-tx

# Both hosts without IPv6, so that the link stays silent: rx's stack drops
# the IPv6 case's frames after every tool has seen them (arrived is the
# veth's rx counter, which counts them).
if ! { lab_host $TX --no-ipv6 && lab_host $RX --no-ipv6 && lab_link $TX $RX; }; then
	die "cannot build the test hosts"
fi
RXNS=$(lab_ns $RX) TXNS=$(lab_ns $TX)
RX_IP4=$(lab_ip4 $RX $RXIF)

BENCH_NAME=compare
# shellcheck source=tools/bench/traffic.sh
source "$(dirname "${BASH_SOURCE[0]}")/traffic.sh"
# --- measurements (more) ------------------------------------------------------

# foreign_ticks: CPU ticks (utime + stime + cutime + cstime) of the user
# processes outside this lab's namespaces: other work on the machine
# (and the sampler), subtracted from the busy ticks so
# that a concurrent job does not count as a tool's cost. Kernel threads
# (softirq, kworkers) stay in.
foreign_ticks()
{
	local p l f t=0 ns
	for p in /proc/[0-9]*; do
		[[ $p/ns/net -ef /run/netns/$TXNS || $p/ns/net -ef /run/netns/$RXNS ]] && continue
		{ read -r l <"$p/stat"; } 2>/dev/null || continue
		l=${l##*) }
		read -ra f <<<"$l"
		((f[6] & 0x200000)) && continue	# PF_KTHREAD
		t=$((t + f[11] + f[12]))
		# Reaped children's time, but not this script's: its children
		# are the load and the tools (via timeout, nsenter).
		[[ ${p#/proc/} == "$$" ]] || t=$((t + f[13] + f[14]))
	done
	echo "$t"
}
# UDP receive-buffer drops in rx's namespace (lost NetFlow export datagrams).
# shellcheck disable=SC2016 # $i and $c[...] are awk's fields, not the shell's
udp_rcvbuf_errors() { lab_nsexec "$RX" awk '/^Udp:/{n++; if (n == 1) for (i = 1; i <= NF; i++) c[$i] = i; else print $c["RcvbufErrors"]}' /proc/net/snmp; }
# rx_ns_pids: processes left in rx's namespace (ours, all of them), but
# the anchor.
rx_ns_pids() { ip netns pids "$RXNS" 2>/dev/null | grep -vx "$ANCHOR"; }

# The anchor: an idle process in rx's namespace whose /proc/PID/net/dev
# shows rx's counters without a fork per reading. The sampler records
# (time, rx packets) at every change, every 20 ms during a load: the
# achieved rate is taken over the time packets were arriving.
lab_bg $RX /dev/null sleep 100000
ANCHOR=$LAB_PID
mkfifo "$LAB_TMP/tick" || die "mkfifo"
sampler()
{
	local dev=/proc/$ANCHOR/net/dev last=-1 l p
	exec 3<>"$LAB_TMP/tick"
	while :; do
		while read -r l; do [[ $l == "$RXIF:"* ]] && break; done <"$dev"
		l=${l#*:}
		read -r _ p _ <<<"$l"
		if [[ $p != "$last" ]]; then
			echo "$EPOCHREALTIME $p"
			last=$p
		fi
		read -r -t 0.02 -u 3
	done
}
# active_pps FILE: packets / seconds between the first and the last change
# of the counter.
active_pps()
{
	awk 'NR == 2 {t0 = $1; c0 = $2} NR > 2 {t1 = $1; c1 = $2}
	     END {if (t1 > t0) printf "%.0f", (c1 - c0) / (t1 - t0)}' "$1"
}

# --- a measured process ---------------------------------------------------------
# proc_start TAG CMD...: CMD in rx's namespace under /usr/bin/time (CPU of
# the process and its reaped children, peak RSS at exit); sets P_WRAP (the
# time process), P_PID (CMD), P_LOG, P_TIME.
P_WRAP="" P_PID="" P_LOG="" P_TIME="" P_N=0
proc_start()
{
	local tag=$1 i
	shift
	P_N=$((P_N + 1))
	P_LOG=$LAB_TMP/$tag-$P_N.log P_TIME=$LAB_TMP/$tag-$P_N.time
	lab_bg $RX "$P_LOG" /usr/bin/time -f '%e %U %S %M' -o "$P_TIME" "$@"
	P_WRAP=$LAB_PID P_PID=""
	for ((i = 0; i < 200; i++)); do
		P_PID=$(pgrep -P "$P_WRAP" | head -n 1)
		[[ -n $P_PID ]] && return 0
		kill -0 "$P_WRAP" 2>/dev/null || break
		sleep 0.02
	done
	tail -n 20 "$P_LOG" >&2
	die "$tag did not start"
}

# proc_stop KEY [SIG]: signal P_PID (TERM), wait for the wrapper to exit
# (at most 120 s), then fill R[KEY,rc,tcpu_s,rss]; R[KEY,stop] is the time
# from the signal until it exited. Sets P_T0 (ns at the signal).
proc_stop()
{
	local k=$1 sig=${2:-TERM} rc=124 i u s m
	P_T0=$(now_ns)
	if [[ $sig == ctl:* ]]; then
		# A control command stops it (softflowctl).
		kill -0 "$P_PID" 2>/dev/null || echo "compare: the tool was not running at the end of case $k" >&2
		${sig#ctl:} >>"$P_LOG" 2>&1
	else
		kill -"$sig" "$P_PID" 2>/dev/null || echo "compare: the tool was not running at the end of case $k" >&2
	fi
	for ((i = 0; i < 120 * 50; i++)); do
		if ! kill -0 "$P_WRAP" 2>/dev/null; then
			wait "$P_WRAP"
			rc=$?
			break
		fi
		sleep 0.02
	done
	if ((rc == 124)); then
		echo "compare: the tool did not exit within 120 s of SIG$sig in case $k: killed" >&2
		lab_signal_tree KILL "$P_WRAP"
		wait "$P_WRAP" 2>/dev/null
	fi
	R[$k,stop]=$(secs_between "$P_T0" "$(now_ns)")
	R[$k,rc]=$rc
	# The last line: before it, "Command exited with non-zero status N".
	if read -r _ u s m < <(tail -n 1 "$P_TIME" 2>/dev/null) && [[ -n ${m:-} ]]; then
		R[$k,tcpu_s]=$(awk -v u="$u" -v s="$s" -v p0="$TOOL_TICKS0" -v hz="$HZ" 'BEGIN{printf "%.2f", u + s - p0 / hz}')
		R[$k,rss]=$(awk -v m="$m" 'BEGIN{printf "%.1f", m / 1024}')
	fi
	((verbose)) && tail -n 4 "$P_LOG" | sed 's/^/  #   /' >&2
	return 0
}

# wait_promisc: wait until a capture socket has the rx end in promiscuous
# mode (softflowd and pmacctd both ask for it), then a little more: libpcap
# asks for it while it opens the capture, whose ring then queues every
# frame; the rest lets the tool reach its loop before the load.
wait_promisc()
{
	local i
	for ((i = 0; i < 250; i++)); do
		kill -0 "$P_WRAP" 2>/dev/null || { tail -n 20 "$P_LOG" >&2; die "$1 exited before capturing"; }
		if ip -d -n "$RXNS" link show dev $RXIF | grep -q 'promiscuity [1-9]'; then
			sleep 0.25
			return 0
		fi
		sleep 0.02
	done
	tail -n 20 "$P_LOG" >&2
	die "$1 did not open $RXIF within 5 s"
}

# settle_tool KEY MIN: wait until the capture tool TOOL_PID has read what is
# queued in its capture buffer: MIN s, then until it has used no CPU for
# 0.1 s (it waits for packets again), at most SETTLE s in all;
# R[KEY,settle] is how long.
settle_tool()
{
	local i a b t0
	t0=$(now_ns)
	[[ $2 == 0 ]] || sleep "$2"
	a=$(proc_ticks "$TOOL_PID")
	for ((i = ${2%.*} * 10; i < SETTLE * 10; i++)); do
		sleep 0.1
		b=$(proc_ticks "$TOOL_PID")
		[[ $b == "$a" ]] && break
		a=$b
	done
	R[$1,settle]=$(secs_between "$t0" "$(now_ns)")
}

# --- the tools ----------------------------------------------------------------
# tool_NAME_start KEY (before the load; may set TOOL_PID, whose CPU counts
# from the start of the load, and TOOL_SETTLE: wait at least this many
# seconds and for it to catch up after the load before the stop) and tool_NAME_stop KEY (after it: stop, fill
# R[KEY,stored] and the rest). The whole-machine CPU window of every tool
# but none ends when the tool has exited, so its final flush counts.

tool_none_start() { :; }
tool_none_stop() { :; }

# The empty XDP program: what any XDP program costs on this link.
tool_empty_start()
{
	ip -n "$RXNS" link set dev $RXIF xdpdrv obj "$BENCH_OBJ" sec xdp ||
		die "cannot attach $BENCH_OBJ natively to $RXIF"
	# iproute2 takes the first program of section "xdp": it must be xdp_empty.
	ip -n "$RXNS" link show dev $RXIF | grep -q 'prog/xdp id [0-9]* name xdp_empty' ||
		die "$BENCH_OBJ: the first program in section xdp is not xdp_empty: $(ip -n "$RXNS" link show dev $RXIF | grep prog/)"
}
tool_empty_stop() { ip -n "$RXNS" link set dev $RXIF xdp off || die "cannot detach the empty program"; }

# flowmaster, default settings (fm-generic: generic XDP).
# fm_start [OPTION...]: flowmaster run with a database of its own, or with
# FM_DB=none set before (export only, the OPTIONs say where to).
FM_DB=""
fm_start()
{
	local pin i db
	db=none
	if [[ $FM_DB != none ]]; then
		FM_DB=$LAB_TMP/fm-$((P_N + 1)).db db=$FM_DB
	fi
	pin=$(lab_pin_dir) || die "no bpffs for pins"
	# shellcheck disable=SC2086 # FM_ARGS is a list of options
	proc_start fm "$FM" run -i $RXIF --db "$db" --pin-path "$pin" "$@" ${FM_ARGS:-}
	for ((i = 0; i < 1500; i++)); do
		kill -0 "$P_WRAP" 2>/dev/null || { tail -n 20 "$P_LOG" >&2; die "flowmaster exited before attaching"; }
		if lab_xdp_attached $RX $RXIF; then
			TOOL_PID=$P_PID
			return 0
		fi
		sleep 0.02
	done
	die "flowmaster did not attach to $RXIF within 30 s"
}
# fm_stop KEY: stop it, then read what it stored and reported; a lost count
# (stored != arrived) is shown at once with the end of its log.
fm_stop()
{
	local k=$1 q
	proc_stop "$k"
	q=(sqlite3 -batch -noheader "$FM_DB")
	# Ingress only: the egress program (--direction both, the default)
	# also counts rx's own ICMP port unreachables on their way out.
	R[$k,stored]=$("${q[@]}" "select coalesce(sum(packets), 0) from flows where interface_id in (select id from interfaces where name = '$RXIF') and coalesce(direction, '') != 'egress';")
	R[$k,out]=$("${q[@]}" "select coalesce(sum(packets), 0) from flows where direction = 'egress';")
	R[$k,rows]=$("${q[@]}" "select count(*) from flows;")
	R[$k,ring]=$("${q[@]}" "select cast(coalesce(max(value), 0) as integer) from metrics where name = 'ringbuf_events';")
	R[$k,ovf]=$("${q[@]}" "select cast(coalesce(max(value), 0) as integer) from metrics where name = 'overflow_packets';")
	fm_saw "$k"
	R[$k,note]="flow rows ${R[$k,rows]}, ring-buffer events ${R[$k,ring]:-?}, overflow packets ${R[$k,ovf]:-?}, kernel saw ${R[$k,saw]:-?} (ingress; egress ${R[$k,out]:-?} stored, rx's own ICMP)"
	((R[$k,rc] == 0)) || { echo "compare: flowmaster exited with status ${R[$k,rc]} in $k" >&2; tail -n 10 "$P_LOG" >&2; }
	if [[ ${R[$k,stored]} != "${R[$k,arrived]}" ]]; then
		echo "compare: LOST COUNT in $k: arrived ${R[$k,arrived]}, stored ${R[$k,stored]} (kernel saw ${R[$k,saw]:-?}); flowmaster's log:" >&2
		tail -n 15 "$P_LOG" >&2
	fi
	rm -f "$FM_DB" "$FM_DB-wal" "$FM_DB-shm"
}
# fm_saw KEY: what the kernel program saw on rx's end, arriving (the
# line "IF in: kernel saw N packets" with --direction both, "IF: ..."
# otherwise).
fm_saw() { R[$1,saw]=$(sed -n "s/.*$RXIF\( in\)\{0,1\}: kernel saw \([0-9]*\) packets.*/\2/p" "$P_LOG" | tail -n 1); }
tool_fm_start() { FM_DB=""; fm_start; }
tool_fm_stop() { fm_stop "$1"; }
tool_fm-generic_start() { FM_DB=""; fm_start --xdp-mode generic; }
tool_fm-generic_stop() { fm_stop "$1"; }

# nfcapd on 127.0.0.1:NF_PORT in rx's namespace: the collector of
# softflowd's NetFlow v9 and of flowmaster's IPFIX (fm-export), the same
# for both. Not measured as the tool, but its CPU is in the whole-machine
# figure. A large socket buffer so that it keeps up.
NF_DIR="" NF_WRAP="" NF_PID="" NF_LOG="" SF_ERR0=0 NF_TICKS0=0
nf_start()
{
	local i
	NF_DIR=$(lab_tmpdir) || die "no temp dir"
	NF_LOG=$LAB_TMP/nfcapd-$((P_N + 1)).log
	lab_bg $RX "$NF_LOG" nfcapd -b 127.0.0.1 -p $NF_PORT -w "$NF_DIR" -B 16777216 -P "$NF_DIR/nfcapd.pid"
	NF_WRAP=$LAB_PID NF_PID=$LAB_PID
	for ((i = 0; i < 250; i++)); do
		kill -0 "$NF_PID" 2>/dev/null || { cat "$NF_LOG" >&2; die "nfcapd exited at start"; }
		lab_nsexec $RX ss -Hlun "sport = :$NF_PORT" | grep -q . && break
		sleep 0.02
	done
	SF_ERR0=$(udp_rcvbuf_errors)
}
# nf_stop KEY: after the exporter has exited: let the collector read what
# is queued on its socket, stop it (it closes its file), then fill
# R[KEY,stored] (nfdump's packet total), rows, rows6 and drops (export
# datagrams the socket dropped), ncpu_s (nfcapd's CPU s from the start of
# the load); R[KEY,stop] runs from P_T0.
nf_stop()
{
	local k=$1 i q
	for ((i = 0; i < 500; i++)); do
		q=$(lab_nsexec $RX ss -Hun "sport = :$NF_PORT" | awk '{s += $2} END {print s + 0}')
		((q == 0)) && break
		sleep 0.02
	done
	sleep 0.1
	R[$k,ncpu_s]=$(awk -v t="$(proc_ticks "$NF_PID")" -v t0="$NF_TICKS0" -v hz="$HZ" \
		'BEGIN{if (t != "") printf "%.2f", (t - t0) / hz}')
	kill -TERM "$NF_PID" 2>/dev/null
	lab_wait_exit "$NF_WRAP" 30 || { lab_stop "$NF_WRAP" 1; echo "compare: nfcapd did not stop in $k" >&2; }
	R[$k,stop]=$(secs_between "$P_T0" "$(now_ns)")
	# Flows from rx itself (its ICMP port unreachables, captured on the
	# way out) are not among the packets that arrived. The filter keeps
	# every IPv6 record (rx has no IPv6 address; the IPv6 case's sources
	# are tx's).
	nfdump -R "$NF_DIR" -q -N -o 'fmt:%pkt %pr %sa' "not src ip $RX_IP4" >"$LAB_TMP/nfdump.out" 2>&1 ||
		{ echo "compare: nfdump failed in $k: $(head -n 3 "$LAB_TMP/nfdump.out")" >&2; }
	R[$k,stored]=$(awk '$1 ~ /^[0-9]+$/ {s += $1} END {printf "%.0f", s}' "$LAB_TMP/nfdump.out")
	R[$k,rows]=$(awk '$1 ~ /^[0-9]+$/' "$LAB_TMP/nfdump.out" | wc -l)
	R[$k,rows6]=$(awk '$1 ~ /^[0-9]+$/ && $3 ~ /:/' "$LAB_TMP/nfdump.out" | wc -l)
	R[$k,drops]=$(($(udp_rcvbuf_errors) - SF_ERR0))
	((verbose)) && tail -n 3 "$NF_LOG" | sed 's/^/  #   nfcapd: /' >&2
	rm -rf "$NF_DIR"
	NF_PID=""
}

# softflowd exporting NetFlow v9 to nfcapd, both in rx's namespace.
tool_softflowd_start()
{
	nf_start
	# shellcheck disable=SC2086 # SOFTFLOWD_ARGS is a list of options
	proc_start softflowd softflowd -i $RXIF -n 127.0.0.1:$NF_PORT -v 9 -T full -d \
		-p "$NF_DIR/softflowd.pid" -c "$NF_DIR/softflowd.ctl" ${SOFTFLOWD_ARGS:-}
	wait_promisc softflowd
	TOOL_PID=$P_PID TOOL_SETTLE=0
}
tool_softflowd_stop()
{
	local k=$1
	# softflowctl shutdown: softflowd exports every flow, then exits
	# (SIGTERM would end it without exporting anything).
	lab_nsexec $RX softflowctl -c "$NF_DIR/softflowd.ctl" statistics >"$LAB_TMP/sfstat" 2>&1
	((verbose)) && sed "s/^/  #   softflowctl: /" "$LAB_TMP/sfstat" >&2
	proc_stop "$k" "ctl:lab_nsexec $RX softflowctl -c $NF_DIR/softflowd.ctl shutdown"
	nf_stop "$k"
	R[$k,note]="NetFlow records ${R[$k,rows]} (IPv6 ${R[$k,rows6]}); just before the stop: $(sed -n 's/^Packets dropped by libpcap: \([0-9]*\).*/\1 dropped by libpcap/p; s/^Flows expired: [0-9]* (\([0-9]*\) forced).*/\1 flows expired early (table full)/p; s/^Packets received by libpcap: \([0-9]*\).*/\1 received by libpcap/p; s/^Packets processed: \([0-9]*\).*/\1 processed/p' "$LAB_TMP/sfstat" | paste -sd, | sed 's/,/, /g'); export datagrams dropped ${R[$k,drops]}"
}

# flowmaster export only: no database, IPFIX to the same nfcapd, which
# stores what it receives; stored = nfdump's packet total, as for
# softflowd. Stopped at once (it counts in the kernel, drains its maps and
# exports every flow at exit); the window ends when nfcapd has read it all.
# Messages up to FM_EXPORT_MTU bytes (65000: the loopback's MTU is 65536).
# A run is shorter than the idle timeout, so every flow is exported in one
# burst at the stop; in 512-byte messages (the default) that burst
# overran nfcapd's socket from 64k flows on (152 of ~16000 datagrams
# dropped at 65858 flows, 2880 at 200000), where softflowd, whose table
# holds 8192 flows, exports all along. Even in 65000-byte messages the 1M
# flows' burst lost 70-574 datagrams (nfcapd's buffer is capped at
# net.core.rmem_max, 4 MiB here), hence --ipfix-rate FM_EXPORT_RATE
# (200000 records/s: 1M flows leave in 5 s). Measured at 100 kpps, 1M flows
# (2026-12-03, load average 2-3): unpaced 88.9 and 99.5 % stored (153 and 6
# datagrams dropped); paced at 200000 (3 runs), 400000 (2) and 1000000 (2,
# reaching ~600000/s, the flush's own speed) 100.000 % in every run: the
# loss came from the microbursts, which the 2 ms burst cap removes. 200000
# leaves a margin for a busier machine.
FM_EXPORT_MTU=${FM_EXPORT_MTU:-65000}
FM_EXPORT_RATE=${FM_EXPORT_RATE:-200000}
tool_fm-export_start()
{
	nf_start
	FM_DB=none
	# shellcheck disable=SC2086 # FM_EXPORT_ARGS is a list of options
	fm_start --ipfix 127.0.0.1:$NF_PORT --ipfix-mtu "$FM_EXPORT_MTU" \
		--ipfix-rate "$FM_EXPORT_RATE" ${FM_EXPORT_ARGS:-}
}
tool_fm-export_stop()
{
	local k=$1
	proc_stop "$k"
	nf_stop "$k"
	fm_saw "$k"
	R[$k,note]="IPFIX records ${R[$k,rows]} (IPv6 ${R[$k,rows6]}), export datagrams dropped by nfcapd's socket ${R[$k,drops]}, kernel saw ${R[$k,saw]:-?} (ingress)"
	((R[$k,rc] == 0)) || { echo "compare: flowmaster (export) exited with status ${R[$k,rc]} in $k" >&2; tail -n 10 "$P_LOG" >&2; }
	if [[ ${R[$k,stored]} != "${R[$k,arrived]}" ]]; then
		echo "compare: fm-export: nfcapd stored ${R[$k,stored]} of ${R[$k,arrived]} arrived packets in $k (kernel saw ${R[$k,saw]:-?}, ${R[$k,drops]} export datagrams dropped); flowmaster's log:" >&2
		tail -n 8 "$P_LOG" >&2
	fi
}

# pmacctd with the sqlite3 plugin, default or tuned buffers.
PM_DB=""
pmacct_start()
{
	local tuned=$1 conf
	PM_DB=$LAB_TMP/pmacct-$((P_N + 1)).db
	conf=$LAB_TMP/pmacct-$((P_N + 1)).conf
	sqlite3 "$PM_DB" <"$PM_SCHEMA" || die "cannot create pmacct's table"
	{
		echo "daemonize: false"
		echo "pidfile: $LAB_TMP/pmacct-$((P_N + 1)).pid"
		echo "pcap_interface: $RXIF"
		echo "plugins: sqlite3"
		echo "sql_db: $PM_DB"
		echo "sql_table_version: 1"
		echo "aggregate: src_host,dst_host,src_port,dst_port,proto"
		echo "sql_refresh_time: 1"
		if ((tuned)); then
			echo "pmacctd_pipe_size: 67108864"
			echo "plugin_pipe_size: 134217728"
			echo "plugin_buffer_size: 131072"
			echo "sql_cache_entries: 1048573"
			[[ -n ${PMACCT_TUNED:-} ]] && echo "$PMACCT_TUNED"
		fi
	} >"$conf"
	proc_start pmacct pmacctd -f "$conf"
	wait_promisc pmacctd
	# The last frames of a load reach its core only on a timer (a
	# part-filled block of the capture ring): with less than 1 s after the
	# load, up to 0.7 % of the packets were missing at 100 kpps and 1 flow.
	# (Its stop takes 2 s: after SIGTERM the core flushes its buffer to the
	# plugin and sleeps 2 s before it stops the plugin.)
	TOOL_PID=$P_PID TOOL_SETTLE=1
}
pmacct_stop()
{
	local k=$1 i t0 locked q
	# SIGTERM: the core stops its plugins, the sqlite3 plugin writes its
	# cache; writers it forked may still run after the core has gone.
	proc_stop "$k"
	t0=$P_T0
	for ((i = 0; i < 120 * 50; i++)); do
		[[ -z $(rx_ns_pids) ]] && break
		sleep 0.02
	done
	[[ -n $(rx_ns_pids) ]] && echo "compare: pmacct writers still running 120 s after SIGTERM in $k" >&2
	R[$k,stop]=$(secs_between "$t0" "$(now_ns)")
	# Without rows from rx itself (its ICMP port unreachables, captured on
	# the way out), which are not among the packets that arrived; IPv6
	# rows (text with a colon) all count.
	q=(sqlite3 -batch -noheader "$PM_DB")
	R[$k,stored]=$("${q[@]}" "select coalesce(sum(packets), 0) from acct where ip_src != '$RX_IP4';" 2>/dev/null)
	R[$k,rows]=$("${q[@]}" 'select count(*) from acct;' 2>/dev/null)
	R[$k,rows6]=$("${q[@]}" "select count(*) from acct where ip_src like '%:%';" 2>/dev/null)
	locked=$(grep -c 'database is locked' "$P_LOG")
	R[$k,note]="rows ${R[$k,rows]} (IPv6 ${R[$k,rows6]}), 'database is locked' $locked, $(sed -n 's/.*dropped_packets=\([0-9]*\).*/\1/p' "$P_LOG" | tail -n 1) dropped by libpcap, $(grep -c 'missing data' "$P_LOG") 'missing data' warnings"
	rm -f "$PM_DB"
}
tool_pmacct_start() { pmacct_start 0; }
tool_pmacct_stop() { pmacct_stop "$1"; }
tool_pmacct-tuned_start() { pmacct_start 1; }
tool_pmacct-tuned_stop() { pmacct_stop "$1"; }

# --- one run ------------------------------------------------------------------

# Case ids are SHAPE:LOAD:FLOWS, SHAPE udp4 (60-byte UDP/IPv4) or tcp6
# (74-byte TCP/IPv6), LOAD packets/s or max; results of run R of TOOL in
# case C are R[C,TOOL,R,FIELD] (run 0: the calibration).
declare -A R=() KEYS=() CFG=()
case_shape() { echo "${1%%:*}"; }
case_load() { local x=${1#*:}; echo "${x%%:*}"; }
case_flows() { echo "${1##*:}"; }

# run_case CASE TOOL RUN: one load of CASE with TOOL.
run_case()
{
	local c=$1 tool=$2 r=$3 k="$1,$2,$3" rate n cfg
	local tx0 rx0 tx1 rx1 c0 c1 f0 f1 t0 t1 ts rc limit count bargs=() dur
	rate=$(case_load "$c") n=$(case_flows "$c") cfg=${CFG[$(case_shape "$c"):$n]}
	# Run 0, the calibration, is a short one.
	if ((r == 0)); then dur=$osecs; else dur=$(case_secs "$c"); fi
	TOOL_PID="" TOOL_TICKS0=0 TOOL_SETTLE=
	lab_xdp_attached $RX $RXIF && die "$RXIF has an XDP program attached before $k"
	[[ -z $(rx_ns_pids) ]] || die "processes left in $RXNS before $k: $(rx_ns_pids | tr '\n' ' ')"
	ts=$(now_ns)
	R[$k,t0]=$ts
	"tool_${tool}_start" "$k"
	R[$k,start]=$(secs_between "$ts" "$(now_ns)")
	[[ -n $TOOL_PID ]] && TOOL_TICKS0=$(proc_ticks "$TOOL_PID")
	[[ -n $NF_PID ]] && NF_TICKS0=$(proc_ticks "$NF_PID")
	if [[ $rate == max ]]; then
		# The timeout ends the load; the count only bounds it.
		count=$((MAX_PPS * dur)) limit=$dur
	else
		# The count ends the load; the timeout only bounds it.
		count=$((rate * dur)) limit=$((dur + 5)) bargs=(-b "${rate}pps")
	fi
	tx0=$(stat_of $TX $TXIF tx_packets) rx0=$(stat_of $RX $RXIF rx_packets)
	sampler >"$LAB_TMP/samples" &
	SAMPLER=$!
	LAB_PIDS+=("$SAMPLER")
	f0=$(foreign_ticks) c0=$(cpu_ticks) t0=$(now_ns)
	lab_nsexec $TX timeout -s INT -k 2 "$limit" trafgen -i "$cfg" -o $TXIF -P 1 \
		--no-sock-mem -Q -C -n "$count" "${bargs[@]}" >"$LAB_TMP/trafgen.log" 2>&1
	rc=$?
	t1=$(now_ns)
	# 124: the timeout ended it; 0: the count did.
	((rc == 0 || rc == 124)) || { cat "$LAB_TMP/trafgen.log" >&2; die "trafgen failed ($rc) in $k"; }
	# The last frames through rx's stack, then the counters.
	sleep 0.05
	c1=$(cpu_ticks)
	kill "$SAMPLER" 2>/dev/null
	wait "$SAMPLER" 2>/dev/null
	tx1=$(stat_of $TX $TXIF tx_packets) rx1=$(stat_of $RX $RXIF rx_packets)
	R[$k,sent]=$((tx1 - tx0)) R[$k,arrived]=$((rx1 - rx0))
	R[$k,secs]=$(secs_between "$t0" "$t1")
	R[$k,pps]=$(active_pps "$LAB_TMP/samples")
	[[ -n ${R[$k,pps]} ]] || R[$k,pps]=$(awk -v p="${R[$k,arrived]}" -v s="${R[$k,secs]}" 'BEGIN{printf "%.0f", p / s}')
	# The capture tools catch up on their buffers before the stop.
	[[ -n $TOOL_SETTLE ]] && settle_tool "$k" "$TOOL_SETTLE"
	"tool_${tool}_stop" "$k"
	[[ $tool != none ]] && c1=$(cpu_ticks)
	f1=$(foreign_ticks)
	R[$k,wall]=$(secs_between "${R[$k,t0]}" "$(now_ns)")
	R[$k,foreign]=$(awk -v f="$((f1 - f0))" -v hz="$HZ" 'BEGIN{printf "%.2f", f / hz}')
	R[$k,cpu_raw]=$(awk -v c="$((c1 - c0))" -v hz="$HZ" -v n="${R[$k,arrived]}" \
		'BEGIN{printf "%.3f", n ? c / hz / (n / 1e6) : 0}')
	R[$k,cpu]=$(awk -v c="$((c1 - c0 - (f1 - f0)))" -v hz="$HZ" -v n="${R[$k,arrived]}" \
		'BEGIN{printf "%.3f", n ? c / hz / (n / 1e6) : 0}')
	if [[ -n ${R[$k,stored]:-} ]]; then
		R[$k,share]=$(awk -v s="${R[$k,stored]}" -v a="${R[$k,arrived]}" 'BEGIN{printf "%.3f", a ? 100 * s / a : 0}')
		# Stored packets per second of arrival.
		R[$k,spps]=$(awk -v s="${R[$k,stored]}" -v a="${R[$k,arrived]}" -v p="${R[$k,pps]}" 'BEGIN{printf "%.0f", a ? p * s / a : 0}')
	fi
	[[ -n ${R[$k,tcpu_s]:-} ]] && R[$k,tcpu]=$(awk -v c="${R[$k,tcpu_s]}" -v n="${R[$k,arrived]}" \
		'BEGIN{printf "%.3f", n ? c / (n / 1e6) : 0}')
	[[ -n ${R[$k,ncpu_s]:-} ]] && R[$k,ncpu]=$(awk -v c="${R[$k,ncpu_s]}" -v n="${R[$k,arrived]}" \
		'BEGIN{printf "%.3f", n ? c / (n / 1e6) : 0}')
	say "$k: sent ${R[$k,sent]} arrived ${R[$k,arrived]} in ${R[$k,secs]} s = ${R[$k,pps]} pps, CPU ${R[$k,cpu]} s/Mpkt (all busy ${R[$k,cpu_raw]}; other processes ${R[$k,foreign]} CPU s), wall ${R[$k,wall]} s, start ${R[$k,start]} s${R[$k,settle]+, settle ${R[$k,settle]} s}${R[$k,stored]+, stored ${R[$k,stored]} (${R[$k,share]}%), tool CPU ${R[$k,tcpu]:-?} s/Mpkt, RSS ${R[$k,rss]:-?} MiB, stop ${R[$k,stop]} s; ${R[$k,note]:-}}"
}

# --- the cases ------------------------------------------------------------------

start_s=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
shape_name() { if [[ $1 == tcp6 ]]; then echo "TCP/IPv6 74 B"; else echo "UDP/IPv4 60 B"; fi; }
# cfg_for SHAPE N: write the trafgen config of SHAPE with N flows (once).
cfg_for()
{
	local s=$1 n=$2
	[[ -n ${CFG[$s:$n]:-} ]] && return 0
	CFG[$s:$n]=$LAB_TMP/$s-$n.cfg
	if [[ $s == tcp6 ]]; then
		make_cfg6 "${CFG[$s:$n]}" "$n" && KEYS[$s:$n]=$(keys_of "$n")
	else
		make_cfg "${CFG[$s:$n]}" "$n" && KEYS[$s:$n]=$(keys_of "$n")
	fi || die "cannot write the trafgen config for $n $s flows"
}
# tools_for CASE: the tools that run in CASE, in --tools order: empty at
# max load only (at a fixed load the packets/s ratio says nothing), unless
# fm-export runs (the fair race's breakdown subtracts what native XDP mode
# costs the veth by itself);
# fm-generic with 1000 UDP/IPv4 flows only (what veth's native XDP mode
# costs; more flows change nothing there).
tools_for()
{
	local t
	for t in "${TOOLS[@]}"; do
		[[ $t == empty && $(case_load "$1") != max ]] && ! has_tool fm-export && continue
		[[ $t == fm-generic && ($(case_shape "$1") != udp4 || $(case_flows "$1") != 1000) ]] && continue
		echo "$t"
	done
}
# ran_in CASE TOOL: did TOOL run in CASE? (No grep -q in a pipe: with
# pipefail, tools_for's SIGPIPE after an early match would say no.)
ran_in()
{
	local t
	for t in $(tools_for "$1"); do
		[[ $t == "$2" ]] && return 0
	done
	return 1
}

# Headline cases: RUNS runs of SECONDS; in them the tools beside the race
# (pmacct, pmacct-tuned, fm-generic) only the first SRUNS. Other cases:
# ORUNS runs of OSECONDS.
is_headline() { [[ ",$headline_list," == *",$1,"* ]]; }
case_runs() { if is_headline "$1"; then echo "$runs"; else echo "$oruns"; fi; }
case_secs() { if is_headline "$1"; then echo "$secs"; else echo "$osecs"; fi; }
# tool_runs CASE TOOL: how many runs TOOL has in CASE.
tool_runs()
{
	local n
	n=$(case_runs "$1")
	if is_headline "$1" && [[ $2 == pmacct || $2 == pmacct-tuned || $2 == fm-generic ]] && ((sruns < n)); then
		n=$sruns
	fi
	echo "$n"
}

# The calibration: how fast this link goes with nothing attached. A fixed
# load the link cannot carry would only repeat the max rows, slower.
CAL_PPS="" SKIPPED=() skip_lines=() RUN_RATES=()
fixed=0
for rate in "${RATES[@]}" "${RATES6[@]}"; do [[ $rate != max ]] && fixed=1; done
if ((fixed)); then
	cfg_for udp4 1000
	run_case udp4:max:1000 none 0
	CAL_PPS=${R[udp4:max:1000,none,0,pps]}
fi
for rate in "${RATES[@]}"; do
	if [[ $rate != max && -n $CAL_PPS ]] && awk -v r="$rate" -v m="$CAL_PPS" -v s="$CAL_SHARE" 'BEGIN{exit !(r >= s * m)}'; then
		SKIPPED+=("$rate")
		if ((rate >= CAL_PPS)); then
			line="$rate pps is above this link's maximum ($CAL_PPS pps with nothing attached)"
		else
			line="$rate pps is within $(awk -v s="$CAL_SHARE" 'BEGIN{printf "%.0f", 100 * (1 - s)}') % of this link's maximum ($CAL_PPS pps with nothing attached)"
		fi
		has_rate max && line+=": the max rows stand for it" || line+=": not run"
		skip_lines+=("$line")
		echo "compare: $line"
	else
		RUN_RATES+=("$rate")
	fi
done
[[ -n $CAL_PPS ]] && echo "compare: calibration: $CAL_PPS pps at max load with nothing attached (1000 flows); fixed loads from $(awk -v m="$CAL_PPS" -v s="$CAL_SHARE" 'BEGIN{printf "%.0f", s * m}') pps on are skipped"

# too_fast RATE: a fixed load the calibration says the link cannot carry.
too_fast() { [[ " ${SKIPPED[*]} " == *" $1 "* ]]; }
CASES=()
for rate in "${RUN_RATES[@]}"; do
	for n in "${FLOWS[@]}"; do
		cfg_for udp4 "$n"
		CASES+=("udp4:$rate:$n")
	done
done
for rate in "${RATES6[@]}"; do
	if [[ $rate != max && -n $CAL_PPS ]] && awk -v r="$rate" -v m="$CAL_PPS" -v s="$CAL_SHARE" 'BEGIN{exit !(r >= s * m)}'; then
		too_fast "$rate" || { SKIPPED+=("$rate"); skip_lines+=("$rate pps (TCP/IPv6) is at or near this link's maximum ($CAL_PPS pps with nothing attached): not run"); }
		continue
	fi
	for n in "${IPV6[@]}"; do
		cfg_for tcp6 "$n"
		CASES+=("tcp6:$rate:$n")
	done
done
if ((hl_only)); then
	hl=()
	for c in "${CASES[@]}"; do is_headline "$c" && hl+=("$c"); done
	CASES=("${hl[@]}")
fi
((${#CASES[@]})) || die "no case left to run"
# RMAX: the most runs of any case.
nrun=0 RMAX=1 nhl=0
for c in "${CASES[@]}"; do
	for t in $(tools_for "$c"); do nrun=$((nrun + $(tool_runs "$c" "$t"))); done
	(($(case_runs "$c") > RMAX)) && RMAX=$(case_runs "$c")
	is_headline "$c" && nhl=$((nhl + 1))
done
echo "compare: ${#CASES[@]} cases (${CASES[*]}) x tools ${TOOLS[*]} (empty at max load$(has_tool fm-export && echo ", and at fixed loads for the fair race") only): $nrun loads in all; $nhl headline case(s) of $runs run(s) x $secs s (pmacct, pmacct-tuned, fm-generic $((sruns < runs ? sruns : runs)) runs), the others $oruns x $osecs s; load average $load_before"
for ((r = 1; r <= RMAX; r++)); do
	for c in "${CASES[@]}"; do
		((r <= $(case_runs "$c"))) || continue
		tl=()
		for t in $(tools_for "$c"); do ((r <= $(tool_runs "$c" "$t"))) && tl+=("$t"); done
		# Each run starts with the next tool, so that no tool always
		# follows the same one.
		for ((i = 0; i < ${#tl[@]}; i++)); do
			run_case "$c" "${tl[(i + r - 1) % ${#tl[@]}]}" "$r"
		done
	done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(($(date +%s) - start_s))

# --- results --------------------------------------------------------------------

median() { sort -g | awk '{a[NR] = $1} END {if (!NR) exit; if (NR % 2) print a[(NR + 1) / 2]; else printf "%.10g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# vals CASE TOOL FIELD: FIELD of every run of TOOL in CASE, one a line.
vals()
{
	local r
	for ((r = 1; r <= RMAX; r++)); do
		[[ -n ${R[$1,$2,$r,$3]:-} ]] && echo "${R[$1,$2,$r,$3]}"
	done
}
# vals_vs CASE TOOL BASE FIELD ratio|diff: per run, TOOL's FIELD divided
# by (or minus) BASE's in the same run.
vals_vs()
{
	local r x y
	for ((r = 1; r <= RMAX; r++)); do
		x=${R[$1,$2,$r,$4]:-} y=${R[$1,$3,$r,$4]:-}
		[[ -n $x && -n $y ]] || continue
		awk -v x="$x" -v y="$y" -v m="$5" 'BEGIN{if (m == "ratio") printf "%.4f\n", y ? x / y : 0; else printf "%.4f\n", x - y}'
	done
}
# med CASE TOOL FIELD: median over the runs (nothing if no run has it).
med() { vals "$@" | median; }
# med_vs CASE TOOL BASE FIELD ratio|diff: the median of vals_vs.
med_vs() { vals_vs "$@" | median; }
# mmm FORMAT: "min / median / max" of the numbers on stdin in FORMAT, the
# number alone if there is one, - if none.
mmm()
{
	sort -g | awk -v f="$1" '{a[NR] = $1}
		END {if (!NR) {printf "-"; exit}
		     m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		     if (NR == 1) printf f, a[1]; else printf f " / " f " / " f, a[1], m, a[NR]}'
}
# fmt FORMAT VALUE: VALUE printed with FORMAT, or - if it is empty.
# shellcheck disable=SC2059 # the format is the argument
fmt() { if [[ -n ${2:-} ]]; then printf "$1" "$2"; else printf -- '-'; fi; }
# case_name CASE: "max, 1000 flows, UDP/IPv4" for the notes and targets.
case_name()
{
	local s k
	s=$(case_shape "$1")
	k=${KEYS[$s:$(case_flows "$1")]}
	echo "$(case_load "$1"), $k flow$( ((k > 1)) && echo s), $(shape_name "$s" | cut -d' ' -f1)"
}
# is_lt A B: A < B (numbers).
is_lt() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a < b)}'; }
FMS=()
for t in fm fm-generic; do has_tool $t && FMS+=("$t"); done

hdr=(load flows traffic tool runs sent arrived stored "stored % min/med/max" "pkt/s min/med/max" "/empty min/med/max" "CPU s/Mpkt min/med/max" "+vs none min/med/max" "tool CPU s/Mpkt" "RSS MiB" "stop s")
rows=() notes=() fm_lines=() plotdat=()
for c in "${CASES[@]}"; do
	s=$(case_shape "$c") rate=$(case_load "$c") n=$(case_flows "$c")
	mapfile -t tl < <(tools_for "$c")
	for t in "${tl[@]}"; do
		extra=- ratio=-
		[[ $t != none ]] && has_tool none && extra=$(vals_vs "$c" "$t" none cpu diff | mmm %+.3f)
		[[ $t != none && $t != empty && $rate == max ]] && has_tool empty &&
			ratio=$(vals_vs "$c" "$t" empty pps ratio | mmm %.3f)
		row=("$rate" "${KEYS[$s:$n]}" "$(shape_name "$s")" "$t" "$(vals "$c" "$t" arrived | wc -l) x $(case_secs "$c") s"
		     "$(med "$c" "$t" sent)" "$(med "$c" "$t" arrived)" "$(fmt %s "$(med "$c" "$t" stored)")"
		     "$(vals "$c" "$t" share | mmm %.3f)" "$(vals "$c" "$t" pps | mmm %.0f)" "$ratio"
		     "$(vals "$c" "$t" cpu | mmm %.3f)" "$extra"
		     "$(fmt %.3f "$(med "$c" "$t" tcpu)")" "$(fmt %s "$(med "$c" "$t" rss)")"
		     "$(fmt %.2f "$(med "$c" "$t" stop)")")
		rows+=("$(IFS='|'; echo "${row[*]}")")
		[[ $t == none ]] && continue
		for ((r = 1; r <= RMAX; r++)); do
			k=$c,$t,$r
			[[ -n ${R[$k,arrived]:-} ]] || continue
			[[ -n ${R[$k,note]:-} || $t == empty ]] && notes+=("$(case_name "$c"), $t, run $r: ${R[$k,note]:+${R[$k,note]}; }exit status ${R[$k,rc]:-0}; all CPUs busy ${R[$k,cpu_raw]} s/Mpkt of which other processes ${R[$k,foreign]} CPU s")
		done
		[[ $s == udp4 ]] && plotdat+=("$t $n $rate $(fmt %s "$(med "$c" "$t" share)") $(fmt %.3f "$(med_vs "$c" "$t" none cpu diff)")")
	done
	for t in "${FMS[@]}"; do
		ran_in "$c" "$t" || continue
		fm_lines+=("$t, $(case_name "$c"): $(med "$c" "$t" rows) flow rows, $(med "$c" "$t" ring) ring-buffer events, $(med "$c" "$t" ovf) overflow packets (medians)")
	done
done

# --- the targets ------------------------------------------------------------------
# Each a line starting with **Target**, PASS or MISS with the figures
# behind it; tools/bench.sh collects them at the top of BENCHMARKS.md.
targets=() lost=0 bad_exit=0 fm_runs=0 lost_lines=()

# (a) flowmaster stores every packet that arrived, in every run.
for c in "${CASES[@]}"; do
	for t in "${FMS[@]}"; do
		ran_in "$c" "$t" || continue
		for ((r = 1; r <= RMAX; r++)); do
			k=$c,$t,$r
			[[ -n ${R[$k,arrived]:-} ]] || continue
			fm_runs=$((fm_runs + 1))
			[[ ${R[$k,rc]:-} == 0 ]] || bad_exit=$((bad_exit + 1))
			if [[ ${R[$k,stored]:-} != "${R[$k,arrived]}" ]]; then
				lost=$((lost + 1))
				lost_lines+=("$t, $(case_name "$c"), run $r: sent ${R[$k,sent]}, arrived ${R[$k,arrived]}, stored ${R[$k,stored]:-?}, difference $((R[$k,arrived] - ${R[$k,stored]:-0})); kernel saw ${R[$k,saw]:-?}")
			fi
		done
	done
done
if ((fm_runs)); then
	targets+=("**Target** flowmaster stores every packet that arrived (stored == arrived in every $(IFS=/; echo "${FMS[*]}") run): $((fm_runs - lost)) of $fm_runs exact: $( ((lost)) && echo '**MISS**' || echo '**PASS**')")
else
	targets+=("**Target** flowmaster stores every packet that arrived: not measured (no fm in --tools)")
fi

# (b) flowmaster's extra CPU per Mpkt below every capture tool's, at 1k
# and 64k flows.
others=()
for t in softflowd pmacct pmacct-tuned; do has_tool $t && others+=("$t"); done
if has_tool fm && has_tool none && ((${#others[@]})); then
	figs=() nb=0 nmiss=0
	for c in "${CASES[@]}"; do
		n=$(case_flows "$c")
		[[ $n == 1000 || $n == 65536 ]] || continue
		nb=$((nb + 1)) ok=1
		x=$(med_vs "$c" fm none cpu diff)
		line="$(case_name "$c"): fm $(fmt %+.2f "$x")"
		for t in "${others[@]}"; do
			y=$(med_vs "$c" "$t" none cpu diff)
			line+=", $t $(fmt %+.2f "$y")"
			[[ -n $x && -n $y ]] && is_lt "$x" "$y" || ok=0
		done
		((ok)) || { nmiss=$((nmiss + 1)); line+=" (miss)"; }
		figs+=("$line")
	done
	if ((nb)); then
		targets+=("**Target** flowmaster's extra CPU s/Mpkt (over none) below $(IFS=/; echo "${others[*]}")'s in every case with 1k and 64k flows: $( ((nmiss)) && echo "**MISS** in $nmiss of $nb cases" || echo "**PASS** in $nb of $nb cases"): $(IFS=';'; x="${figs[*]}"; echo "${x//;/; }")")
	fi
fi

# (e) The fair race: flowmaster export only against softflowd, both to
# the same nfcapd: fm-export's extra CPU s/Mpkt (over none, median of the
# per-run differences) below softflowd's in every case both ran, with
# fm-export storing every packet that arrived in every run.
if has_tool fm-export && has_tool softflowd && has_tool none; then
	figs=() nb=0 nmiss=0 xruns=0 xexact=0
	for c in "${CASES[@]}"; do
		nb=$((nb + 1)) ok=1 ex=0 nr=0
		for ((r = 1; r <= RMAX; r++)); do
			k=$c,fm-export,$r
			[[ -n ${R[$k,arrived]:-} ]] || continue
			nr=$((nr + 1))
			[[ ${R[$k,stored]:-} == "${R[$k,arrived]}" ]] && ex=$((ex + 1))
		done
		xruns=$((xruns + nr)) xexact=$((xexact + ex))
		x=$(med_vs "$c" fm-export none cpu diff) y=$(med_vs "$c" softflowd none cpu diff)
		line="$(case_name "$c"): fm-export $(fmt %+.2f "$x") ($ex of $nr runs exact, min $(vals "$c" fm-export share | mmm %.3f | cut -d' ' -f1) %), softflowd $(fmt %+.2f "$y") (min $(vals "$c" softflowd share | mmm %.3f | cut -d' ' -f1) %)"
		[[ -n $x && -n $y ]] && is_lt "$x" "$y" || ok=0
		((ex == nr && nr > 0)) || ok=0
		((ok)) || { nmiss=$((nmiss + 1)); line+=" (miss)"; }
		figs+=("$line")
	done
	if ((nb)); then
		targets+=("**Target** the fair race: flowmaster export only (\`--db none --ipfix\` to nfcapd) below softflowd → nfcapd in extra CPU s/Mpkt (over none, median) in every case, at 100.000 % stored in every run: $( ((nmiss)) && echo "**MISS** in $nmiss of $nb cases" || echo "**PASS** in $nb of $nb cases") ($xexact of $xruns fm-export runs exact): $(IFS=';'; x="${figs[*]}"; echo "${x//;/; }")")
	fi
fi

# Where the fair race's extra CPU goes, per case and tool (medians of the
# per-run figures, s/Mpkt): the tool's own process, nfcapd, and the rest,
# which is the kernel outside both processes (the packet's receive path
# with the XDP program or the capture tap, softirqs, the loopback's
# receive side of the export datagrams).
race_rows=()
if has_tool fm-export && has_tool softflowd && has_tool none; then
	for c in "${CASES[@]}"; do
		for t in fm-export softflowd; do
			ran_in "$c" "$t" || continue
			parts=$(for ((r = 1; r <= RMAX; r++)); do
				k=$c,$t,$r b=$c,none,$r
				e=$c,empty,$r
				[[ -n ${R[$k,cpu]:-} && -n ${R[$b,cpu]:-} && -n ${R[$k,tcpu]:-} && -n ${R[$k,ncpu]:-} ]] || continue
				echo "${R[$k,cpu]} ${R[$b,cpu]} ${R[$k,tcpu]} ${R[$k,ncpu]} ${R[$e,cpu]:--}"
			done)
			[[ -n $parts ]] || continue
			col() { awk -v i="$1" '{x = $1 - $2; v[1] = x; v[2] = $3; v[3] = $4; v[4] = x - $3 - $4
				if ($5 == "-") { if (i == 5) next; } else { v[5] = $5 - $2 }
				printf "%.4f\n", v[i]}' <<<"$parts" | mmm %+.3f; }
			xdp=-
			[[ $t == fm-export ]] && xdp=$(col 5)
			race_rows+=("$(case_name "$c")|$t|$(col 1)|$(col 2)|$(col 3)|$(col 4)|$xdp")
		done
	done
fi

# (c) flowmaster's packets/s at least 0.95 x the empty program's, 1k
# flows, max load.
if has_tool fm && has_tool empty; then
	figs=() ok=1
	for c in "${CASES[@]}"; do
		[[ $(case_load "$c") == max && $(case_flows "$c") == 1000 ]] || continue
		x=$(med_vs "$c" fm empty pps ratio)
		figs+=("$(shape_name "$(case_shape "$c")" | cut -d' ' -f1) $(fmt %.3f "$x") ($(fmt %.0f "$(med "$c" fm pps)") / $(fmt %.0f "$(med "$c" empty pps)") pkt/s)")
		[[ -n $x ]] && ! is_lt "$x" 0.95 || ok=0
	done
	((${#figs[@]})) && targets+=("**Target** flowmaster packets/s >= 0.95 x the empty XDP program's at 1k flows, max load: $(IFS=';'; x="${figs[*]}"; echo "${x//;/, }"): $( ((ok)) && echo '**PASS**' || echo '**MISS**')")
fi

# (d) flowmaster's best stored packets/s at max load, against 400 x the
# Python collector's 2152.
if has_tool fm; then
	best="" bestc=""
	for c in "${CASES[@]}"; do
		[[ $(case_load "$c") == max ]] || continue
		x=$(med "$c" fm spps)
		[[ -n $x ]] || continue
		if [[ -z $best ]] || is_lt "$best" "$x"; then best=$x bestc=$c; fi
	done
	if [[ -n $best ]]; then
		times=$(awk -v b="$best" -v p=$PY_PPS 'BEGIN{printf "%.1f", b / p}')
		targets+=("**Target** flowmaster stores >= $PY_TIMES x the Python collector's $PY_PPS packets/s ($((PY_TIMES * PY_PPS)) pkt/s): best $(fmt %.0f "$best") stored pkt/s at max load ($(case_name "$bestc")) = ${times}x: $(awk -v t="$times" -v g=$PY_TIMES 'BEGIN{print (t >= g ? "**PASS**" : "**MISS**")}')$( [[ -n $CAL_PPS ]] && echo "; the calibration run reached $CAL_PPS pkt/s on this link with nothing attached")")
	fi
fi

# Plain text on stdout.
{
	(IFS='|'; echo "${hdr[*]}")
	printf '%s\n' "${rows[@]}"
} | column -t -s '|' -R 2,6,7,8,9,10,11,12,13,14,15,16
printf '%s\n' "${targets[@]}" | sed 's/\*\*//g'
((${#skip_lines[@]})) && printf '%s\n' "${skip_lines[@]}"
((lost)) && printf '  LOST: %s\n' "${lost_lines[@]}"
((bad_exit)) && echo "flowmaster exited non-zero in $bad_exit of $fm_runs runs"
((${#fm_lines[@]})) && printf '%s\n' "${fm_lines[@]}"
((${#race_rows[@]})) && printf 'fair race, extra CPU s/Mpkt: %s\n' "${race_rows[@]//|/; }"
((verbose)) && printf '  %s\n' "${notes[@]}"
echo "load average before $load_before, after $load_after; ${elapsed} s"

# The plot: stored share and extra CPU against offered load (UDP/IPv4),
# one panel per flow count and figure, one line per tool.
png=""
PTOOLS=()
# fm-generic, with 1000 flows only, is a note on veth, not a line.
for t in "${TOOLS[@]}"; do [[ $t == none || $t == empty || $t == fm-generic ]] || PTOOLS+=("$t"); done
if [[ $plot != none ]] && command -v gnuplot >/dev/null && ((${#plotdat[@]} && ${#PTOOLS[@]})); then
	# One data block per flow count and tool (flow count major): x (load
	# index), stored %, extra CPU s/Mpkt.
	dat=$LAB_TMP/compare.dat
	: >"$dat"
	for n in "${FLOWS[@]}"; do
		for t in "${PTOOLS[@]}"; do
			li=0
			for rate in "${RUN_RATES[@]}"; do
				li=$((li + 1))
				for line in "${plotdat[@]}"; do
					read -r pt pn pr psh pcpu <<<"$line"
					[[ $pt == "$t" && $pn == "$n" && $pr == "$rate" ]] && echo "$li $psh $pcpu"
				done
			done >>"$dat"
			printf '\n\n' >>"$dat"
		done
	done
	xt=() li=0
	for rate in "${RUN_RATES[@]}"; do li=$((li + 1)); xt+=("\"$rate\" $li"); done
	nf=${#FLOWS[@]} nt=${#PTOOLS[@]} width=$((260 + 360 * ${#FLOWS[@]}))
	# The left margin holds the y labels: 75 pixels, whatever the width.
	lm=$(awk -v w="$width" 'BEGIN{printf "%.3f", 75 / w}')
	{
		echo "set terminal pngcairo size $width,760 font ',10'"
		echo "set output '$plot'"
		echo "set multiplot layout 2,$nf title 'flowmaster, softflowd, pmacctd: 60-byte UDP/IPv4 on a veth link, $(nproc) CPUs$( ((${#SKIPPED[@]})) && echo "; not run: ${SKIPPED[*]} pps, above what the link carries")' margins $lm,0.98,0.16,0.92 spacing 0.05,0.09"
		echo "set xtics ($(IFS=,; echo "${xt[*]}"))"
		echo "set xrange [0.7:$li.3]"
		echo "set grid"
		echo "set datafile missing '-'"
		for col in 2 3; do
			for ((fi = 0; fi < nf; fi++)); do
				n=${FLOWS[fi]}
				echo "set title '${KEYS[udp4:$n]} flow$( ((n > 1)) && echo s)'"
				if ((col == 2)); then
					echo "set yrange [0:105]"
					echo "unset xlabel"
				else
					echo "set yrange [*:*]"
					echo "set xlabel 'offered load (packets/s)'"
				fi
				if ((fi == 0)); then
					((col == 2)) && echo "set ylabel 'stored / arrived packets (%)'" ||
						echo "set ylabel 'extra CPU s per Mpkt (over none)'"
				else
					echo "unset ylabel"
				fi
				# One key for the figure, under the lower row.
				if ((col == 3 && fi == 0)); then
					echo "set key at screen 0.5,0.03 center bottom horizontal maxrows 1 font ',10'"
				else
					echo "unset key"
				fi
				# Drawn last to first, so that flowmaster's line is on
				# top where lines meet at 100 %; the key in tool order.
				p=()
				for ((ti = nt - 1; ti >= 0; ti--)); do
					p+=("'$dat' index $((fi * nt + ti)) using 1:$col with linespoints lc $((ti + 1)) pt $((ti + 4)) lw 2 notitle")
				done
				for ((ti = 0; ti < nt; ti++)); do
					p+=("keyentry with linespoints lc $((ti + 1)) pt $((ti + 4)) lw 2 title '${PTOOLS[ti]}'")
				done
				echo "plot $(IFS=,; echo "${p[*]}")"
			done
		done
		echo "unset multiplot"
	} >"$LAB_TMP/compare.gp"
	if gnuplot "$LAB_TMP/compare.gp" 2>"$LAB_TMP/gnuplot.err"; then
		png=$plot
		echo "(plot: $png)"
	else
		echo "compare: gnuplot failed: $(head -n 3 "$LAB_TMP/gnuplot.err")" >&2
	fi
fi

# hl_text: what ran how often, in words.
hl_text()
{
	local h="" c
	for c in "${CASES[@]}"; do is_headline "$c" && h+="${h:+; }$(case_name "$c")"; done
	if [[ -n $h ]]; then
		echo "headline cases ($h) $runs runs of $secs s (pmacct, pmacct-tuned, fm-generic the first $((sruns < runs ? sruns : runs))), the other cases $oruns run(s) of $osecs s"
	else
		echo "$oruns run(s) of $osecs s per case and tool"
	fi
}
# shape_of_name "UDP/IPv4 60 B": udp4; flows_of_keys SHAPE KEYS: the
# --flows entry whose key count is KEYS.
shape_of_name() { if [[ $1 == TCP* ]]; then echo tcp6; else echo udp4; fi; }
flows_of_keys()
{
	local k
	for k in "${!KEYS[@]}"; do
		[[ $k == "$1:"* && ${KEYS[$k]} == "$2" ]] && { echo "${k#*:}"; return; }
	done
	echo "$2"
}

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
{
	echo "### End to end, side by side: flowmaster, softflowd, pmacctd on one veth link"
	echo
	printf '%s\n\n' "${targets[@]}"
	echo "$cpu_model, $(nproc) CPUs, kernel $(uname -r); $(softflowd -h 2>&1 | sed -n 's/.*softflowd version \([0-9.]*[0-9]\).*/softflowd \1/p' | head -n 1), $(nfdump -V 2>/dev/null | sed -n 's/.*[^0-9.]\([0-9][0-9.]*\)$/nfdump \1/p'), $(pmacctd -V 2>/dev/null | sed -n '1s/.*\(pmacctd [^ ]*\).*/\1/p'). \`tools/bench/compare.sh$( ((quick)) && echo " --quick")$( ((hl_only)) && echo " --headline-only")\`: $(hl_text), $elapsed s in all; load average $load_before before, $load_after after (other work on the machine moves the rates and CPU figures)."
	echo
	if [[ -n $CAL_PPS ]]; then
		echo "Calibration: $CAL_PPS packets/s at max load with nothing attached (1000 UDP/IPv4 flows, ${R[udp4:max:1000,none,0,secs]} s); a fixed load from $(awk -v m="$CAL_PPS" -v s="$CAL_SHARE" 'BEGIN{printf "%.0f", s * m}') packets/s on ($CAL_SHARE x that) is not run.$( ((${#skip_lines[@]})) && printf ' %s.' "${skip_lines[@]}")"
		echo
	fi
	echo "Columns with three figures show min / median / max over the runs (one figure: one run); *runs* is how many runs of how long. Headline cases are marked **bold**."
	echo
	echo "| load | flows | traffic | tool | runs | sent | arrived | stored | stored % | packets/s | / empty | CPU s/Mpkt | + vs none | tool CPU s/Mpkt | peak RSS MiB | stop s |"
	echo "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for row in "${rows[@]}"; do
		IFS='|' read -r a b c d e <<<"$row"
		if is_headline "$(shape_of_name "$c"):$a:$(flows_of_keys "$(shape_of_name "$c")" "$b")"; then
			echo "| **$a** | **$b** | **$c** | ${d} | ${e//|/ | } |"
		else
			echo "| ${row//|/ | } |"
		fi
	done
	echo
	[[ -n $png ]] && echo "![stored share and CPU cost against offered load]($(basename "$png"))" && echo
	if ((${#race_rows[@]})); then
		echo "The fair race, where the extra CPU goes (s/Mpkt over none, min / median / max over the runs): the tool's own process (user + system, its syscalls included), nfcapd's, and the rest of the machine, which is the kernel outside both processes: each packet's receive path (the XDP program, or softflowd's capture tap and ring), softirqs, and the loopback's receive side of the export datagrams. For fm-export, *native XDP on the veth* is the empty XDP program's extra CPU over none in the same run: attaching any native XDP program puts the veth receiver in NAPI mode and copies each frame into a page of its own, a cost of the veth (a physical NIC's driver does neither) that is part of fm-export's *rest*. \`tools/bench/race_profile.sh\` splits one case further, symbol by symbol, under \`perf record -a\`."
		echo
		echo "| case | tool | + vs none | tool process | nfcapd | rest (kernel) | of which native XDP on the veth |"
		echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
		printf '| %s |\n' "${race_rows[@]//|/ | }"
		echo
	fi
	((lost)) && printf -- '- LOST: %s\n' "${lost_lines[@]}" && echo
	((bad_exit)) && echo "flowmaster exited non-zero in $bad_exit of $fm_runs runs" && echo
	((${#fm_lines[@]})) && printf -- '- %s\n' "${fm_lines[@]}" && echo
	echo "- *load*: a number: that many frames per second (\`trafgen -b\`, one process, \`-P 1 --no-sock-mem\`) for the run's seconds, bounded by rate x seconds frames; max: as fast as the veth takes them, ended by a timeout after the run's seconds and bounded by $MAX_PPS x seconds frames."
	echo "- *runs*: $(hl_text). Each figure of a run is taken within that run (ratios and differences to none or empty first), then min / median / max over the runs; targets use the medians."
	echo "- *traffic*: UDP/IPv4 60 B: 60-byte UDP/IPv4 frames from tx to rx port 9; above 4096 flows the source port (up to 4096 of them) and the source address (198.18.128.0 + i) both count per frame over coprime ranges, so at 1M flows every frame of a run is a new flow: 65858 flows are 3874 ports x 17 hosts, 1003520 are 4096 ports x 245 hosts (hosts have many flows each, as on real networks). TCP/IPv6 74 B: Ethernet + IPv6 + a 20-byte TCP header with ACK set, no payload, to rx's address port 80, from 16 source addresses in the link's 2001:2:0:N::/64 and one source port per flow; rx has IPv6 off, so its stack drops them after every tool has seen them (*arrived* counts them)."
	echo "- *none*: nothing on the receiving veth end; *empty*: \`xdp_empty\` (XDP_PASS, \`bpf/bench.bpf.c\`) attached natively, at max load$(has_tool fm-export && echo ", and at fixed loads as the fair race's baseline") only; *fm*: \`flowmaster run -i IF --db DB --pin-path PIN\`${FM_ARGS:+ $FM_ARGS} (default settings); *fm-export*: \`flowmaster run -i IF --db none --ipfix 127.0.0.1:$NF_PORT --ipfix-mtu $FM_EXPORT_MTU --ipfix-rate $FM_EXPORT_RATE --pin-path PIN\`${FM_EXPORT_ARGS:+ $FM_EXPORT_ARGS} (export only; messages up to the loopback's MTU, paced at $FM_EXPORT_RATE records/s: a run is shorter than the idle timeout, so every flow is exported at the stop, which unpaced, in one burst, overran nfcapd's socket from 64k flows on (even in 64 KB messages at 1M flows), while softflowd, whose table holds 8192 flows, exports all along) to the same nfcapd as softflowd's, stored = nfdump's packet total as for softflowd: the fair race, collector against collector; *fm-generic*: \`fm\` with \`--xdp-mode generic\` (1000 UDP/IPv4 flows only: native XDP puts a veth in NAPI mode and copies each frame into a page of its own, which generic XDP on the skb does not; flowmaster keeps native as its default because a veth peer with native XDP segments TCP before sending, so packets are counted as on a wire, while generic XDP would see each GSO skb of up to 64 KB as one packet); *softflowd*: \`softflowd -i IF -n 127.0.0.1:$NF_PORT -v 9 -T full -d\`${SOFTFLOWD_ARGS:+ $SOFTFLOWD_ARGS} exporting to \`nfcapd -b 127.0.0.1 -p $NF_PORT -B 16777216\` in the same namespace, stored = the packet total of nfcapd's records (\`nfdump -R DIR -o fmt:%pkt\`); *pmacct*: \`pmacctd\` with \`plugins: sqlite3\`, \`sql_table_version: 1\` (pmacct's v1 schema), \`aggregate: src_host,dst_host,src_port,dst_port,proto\`, \`sql_refresh_time: 1\`, stored = \`sum(packets)\` of table acct; *pmacct-tuned*: the same plus \`pmacctd_pipe_size: 67108864\` (the pcap buffer), \`plugin_pipe_size: 134217728\`, \`plugin_buffer_size: 131072\`, \`sql_cache_entries: 1048573\`${PMACCT_TUNED:+ and $PMACCT_TUNED}. Every tool is started before the load; the capture tools (softflowd, pmacctd) are stopped when they have read what is still in their capture buffers (when the tool has used no CPU for 0.1 s; pmacctd not before 1 s, as the last frames of a load reach it only on a timer; at most ${SETTLE} s after the load), the others at once; by SIGTERM (softflowd: \`softflowctl shutdown\`, since SIGTERM ends it without exporting its flows); stored counts are read after the tool has exited. Flows from rx's own address (ICMP port unreachables it sends back, seen by the capture tools on the way out) are left out of *stored*; IPv6 flows all count."
	echo "- *sent*: the sender veth's tx counter; *arrived*: the receiver's rx counter; *stored %*: stored / arrived. *packets/s*: the arrival rate while packets were arriving (rx counter sampled every 20 ms; first to last change); */ empty*: over the empty program's in the same run (max load)."
	echo "- *CPU s/Mpkt*: busy time of all CPUs (\`/proc/stat\`, softirq included) less the CPU time of user processes outside the test namespaces (other work on the machine: \`/proc/PID/stat\` utime + stime + reaped children; kernel threads stay in), per million arrived packets, from the start of the load to its end (none) or to the tool's exit with its data written (the others, so the final flush counts; includes nfcapd for softflowd). trafgen's own cost is in every figure; *+ vs none* subtracts the no-tool figure of the same case and run. *tool CPU*: the tool's own user + system time from the start of the load to its exit (\`/usr/bin/time\`: the process and the children it reaped) per million arrived packets. *peak RSS*: \`/usr/bin/time\` %M. *stop s*: SIGTERM until the tool exited (pmacct: and every writer it forked; softflowd: and nfcapd, after it had read every export datagram)."
	echo "- Targets: the Python collector flowmaster replaces stored $PY_PPS packets/s; *stored pkt/s* is packets/s x stored / arrived, per run."
	if ((${#notes[@]})); then
		echo
		echo "<details><summary>Every run: what each tool reported</summary>"
		echo
		printf -- '- %s\n' "${notes[@]}"
		echo
		echo "</details>"
	fi
} >"$md"
echo "(Markdown section: $md)"
((lost == 0 && bad_exit == 0))
