#!/usr/bin/env bash
# tools/bench/compare.sh: flowmaster side by side with softflowd and pmacctd
# (and with nothing at all) on one veth link between two test hosts
# (network namespaces made here, tools/lab.sh), the same load offered to
# each tool in the same run.
#
# For each case (offered load x flow count) trafgen on host "tx" sends
# 60-byte UDP/IPv4 frames to host "rx" for SECONDS (one trafgen process,
# bounded by a packet count and a timeout), once per tool, every tool on
# rx's veth end:
#   none          nothing attached (the baseline of the CPU figures)
#   fm            build/flowmaster run -i IF --db DB --pin-path PIN (defaults)
#   softflowd     softflowd -i IF -n 127.0.0.1:PORT -v 9 -T full -d, exporting
#                 NetFlow v9 to nfcapd on 127.0.0.1 in rx's namespace;
#                 stored = nfdump's packet total over nfcapd's files
#   pmacct        pmacctd, sqlite3 plugin, aggregate src_host,dst_host,
#                 src_port,dst_port,proto, sql_refresh_time 1, else defaults
#   pmacct-tuned  the same with larger pcap, pipe and cache buffers
# Every tool is started before the load and stopped SETTLE (1) s after it,
# by SIGTERM (softflowd: `softflowctl shutdown`, as SIGTERM makes it exit
# without exporting); "stop s" runs from there until every process of the
# tool (and for softflowd the collector, after it has read every export
# datagram) has exited with its data written. Flows sent by rx itself
# (its ICMP port unreachables, which the capture tools see on the way out)
# are not counted as stored. Each figure is the median of RUNS runs;
# differences to the baseline are taken within a run before the median.
#
# Usage: tools/bench/compare.sh [--quick] [--runs N] [--seconds S]
#          [--flows N,N,...] [--rates PPS,...,max] [--tools LIST]
#          [--markdown FILE] [--plot FILE|none] [-v]
#   --quick        1 run of 2 s per case, loads 300000,max, 1000 flows
#   --runs N       median of N runs (1)
#   --seconds S    load per case (5)
#   --flows LIST   distinct flow keys per case (1000,65536); above 4096 the
#                  key count is the nearest coprime product of source
#                  ports x source addresses >= N (printed)
#   --rates LIST   offered loads: packets/s (trafgen -b) or max (as fast as
#                  the link takes them); default 100000,300000,max
#   --tools LIST   subset and order of none,fm,softflowd,pmacct,pmacct-tuned
#   --markdown F   Markdown section ($BUILD/bench/compare.md)
#   --plot F       gnuplot PNG ($BUILD/bench/compare.png; none: no plot)
#   -v             show the tail of each tool's log after each case
# Environment: SETTLE (s between the load and the stop, 1), SOFTFLOWD_ARGS (extra softflowd options), FM_ARGS (extra
# flowmaster run options), PMACCT_TUNED (extra lines for the tuned config).
# Needs root, iproute2, trafgen, sqlite3, /usr/bin/time, and for the other
# tools softflowd, nfcapd + nfdump (package nfdump), pmacctd (pmacct);
# gnuplot for the plot. Exit 0 when every case ran (a tool losing packets
# is a result, not an error), 1 on a runtime error, 2 on a usage error.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FM=${FM:-$BUILD/flowmaster}

runs=1 secs=5 flows_list=1000,65536 rates_list=100000,300000,max
tools_list=none,fm,softflowd,pmacct,pmacct-tuned
md=$BUILD/bench/compare.md plot=$BUILD/bench/compare.png verbose=0 quick=0
# Upper bound on packets per case at max load: far above what the link
# carries, so the timeout ends the case; both bound it.
MAX_PPS=2000000
NF_PORT=9995
SETTLE=${SETTLE:-1}

usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//p}' "$0"; }
die() { echo "compare: $*" >&2; exit 1; }
uerr() { echo "compare: $* (try --help)" >&2; exit 2; }
say() { echo "  # $*" >&2; }

while (($#)); do
	case $1 in
	--quick) quick=1 runs=1 secs=2 rates_list=300000,max flows_list=1000 ;;
	--runs) runs=${2:-}; shift ;;
	--runs=*) runs=${1#*=} ;;
	--seconds) secs=${2:-}; shift ;;
	--seconds=*) secs=${1#*=} ;;
	--flows) flows_list=${2:-}; shift ;;
	--flows=*) flows_list=${1#*=} ;;
	--rates) rates_list=${2:-}; shift ;;
	--rates=*) rates_list=${1#*=} ;;
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
IFS=, read -ra FLOWS <<<"$flows_list"
IFS=, read -ra TOOLS <<<"$tools_list"
IFS=, read -ra RATES <<<"$rates_list"
for x in "${RATES[@]}"; do
	[[ $x == max ]] || { [[ $x =~ ^[1-9][0-9]*$ ]] && ((x <= MAX_PPS)); } ||
		uerr "--rates: '$x' is not max or 1..$MAX_PPS packets/s"
done
for f in "${FLOWS[@]}"; do
	if ! [[ $f =~ ^[1-9][0-9]*$ ]] || ((f > 2000000)); then
		uerr "--flows: '$f' is not 1..2000000"
	fi
done
for t in "${TOOLS[@]}"; do
	case $t in
	none | fm | softflowd | pmacct | pmacct-tuned) ;;
	*) uerr "--tools: '$t' is not none, fm, softflowd, pmacct or pmacct-tuned" ;;
	esac
done
has_tool() { [[ ",$tools_list," == *",$1,"* ]]; }

((EUID == 0)) || die "needs root (namespaces, XDP, packet capture); try: sudo $0"
need=(ip trafgen sqlite3 nsenter timeout pgrep ss /usr/bin/time)
has_tool softflowd && need+=(softflowd nfcapd nfdump)
{ has_tool pmacct || has_tool pmacct-tuned; } && need+=(pmacctd)
for c in "${need[@]}"; do
	command -v "$c" >/dev/null ||
		die "$c is not installed (apt-get install softflowd nfdump pmacct netsniff-ng sqlite3 time)"
done
if has_tool fm; then
	[[ -x $FM ]] || die "$FM not built (run make)"
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

if ! { lab_host $TX --no-ipv6 && lab_host $RX --no-ipv6 && lab_link $TX $RX; }; then
	die "cannot build the test hosts"
fi
RXNS=$(lab_ns $RX) TXNS=$(lab_ns $TX)

BENCH_NAME=compare
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
udp_rcvbuf_errors() { lab_nsexec $RX awk '/^Udp:/{n++; if (n == 1) for (i = 1; i <= NF; i++) c[$i] = i; else print $c["RcvbufErrors"]}' /proc/net/snmp; }
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
# mode (softflowd and pmacctd both ask for it), then a little more.
wait_promisc()
{
	local i
	for ((i = 0; i < 250; i++)); do
		kill -0 "$P_WRAP" 2>/dev/null || { tail -n 20 "$P_LOG" >&2; die "$1 exited before capturing"; }
		if ip -d -n "$RXNS" link show dev $RXIF | grep -q 'promiscuity [1-9]'; then
			sleep 0.5
			return 0
		fi
		sleep 0.02
	done
	tail -n 20 "$P_LOG" >&2
	die "$1 did not open $RXIF within 5 s"
}

# --- the tools ----------------------------------------------------------------
# tool_NAME_start KEY (before the load; sets TOOL_PID, whose CPU counts from
# the start of the load) and tool_NAME_stop KEY (after it: stop, fill
# R[KEY,stored] and the rest). The whole-machine CPU window of every tool
# but none ends when the tool has exited, so its final flush counts.

tool_none_start() { :; }
tool_none_stop() { :; }

# flowmaster, default settings.
FM_DB=""
tool_fm_start()
{
	local pin i
	FM_DB=$LAB_TMP/fm-$((P_N + 1)).db
	pin=$(lab_pin_dir) || die "no bpffs for pins"
	# shellcheck disable=SC2086 # FM_ARGS is a list of options
	proc_start fm "$FM" run -i $RXIF --db "$FM_DB" --pin-path "$pin" ${FM_ARGS:-}
	for ((i = 0; i < 600; i++)); do
		kill -0 "$P_WRAP" 2>/dev/null || { tail -n 20 "$P_LOG" >&2; die "flowmaster exited before attaching"; }
		if lab_xdp_attached $RX $RXIF; then
			TOOL_PID=$P_PID
			return 0
		fi
		sleep 0.05
	done
	die "flowmaster did not attach to $RXIF within 30 s"
}
tool_fm_stop()
{
	local k=$1 q
	proc_stop "$k"
	q=(sqlite3 -batch -noheader "$FM_DB")
	R[$k,stored]=$("${q[@]}" "select coalesce(sum(packets), 0) from flows where interface_id in (select id from interfaces where name = '$RXIF');")
	R[$k,rows]=$("${q[@]}" "select count(*) from flows;")
	R[$k,note]="flow rows ${R[$k,rows]}"
	((R[$k,rc] == 0)) || { echo "compare: flowmaster exited with status ${R[$k,rc]} in case $k" >&2; tail -n 10 "$P_LOG" >&2; }
	rm -f "$FM_DB" "$FM_DB-wal" "$FM_DB-shm"
}

# softflowd exporting NetFlow v9 to nfcapd, both in rx's namespace.
NF_DIR="" NF_WRAP="" NF_PID="" NF_LOG="" SF_ERR0=0
tool_softflowd_start()
{
	local i
	NF_DIR=$(lab_tmpdir) || die "no temp dir"
	NF_LOG=$LAB_TMP/nfcapd-$((P_N + 1)).log
	# The collector: not measured as the tool, but its CPU is in the
	# whole-machine figure. A large socket buffer so that it keeps up.
	lab_bg $RX "$NF_LOG" nfcapd -b 127.0.0.1 -p $NF_PORT -w "$NF_DIR" -B 16777216 -P "$NF_DIR/nfcapd.pid"
	NF_WRAP=$LAB_PID NF_PID=$LAB_PID
	for ((i = 0; i < 250; i++)); do
		kill -0 "$NF_PID" 2>/dev/null || { cat "$NF_LOG" >&2; die "nfcapd exited at start"; }
		lab_nsexec $RX ss -Hlun "sport = :$NF_PORT" | grep -q . && break
		sleep 0.02
	done
	SF_ERR0=$(udp_rcvbuf_errors)
	# shellcheck disable=SC2086 # SOFTFLOWD_ARGS is a list of options
	proc_start softflowd softflowd -i $RXIF -n 127.0.0.1:$NF_PORT -v 9 -T full -d \
		-p "$NF_DIR/softflowd.pid" -c "$NF_DIR/softflowd.ctl" ${SOFTFLOWD_ARGS:-}
	wait_promisc softflowd
	TOOL_PID=$P_PID
}
tool_softflowd_stop()
{
	local k=$1 i q t0
	# softflowctl shutdown: softflowd exports every flow, then exits
	# (SIGTERM would end it without exporting anything).
	lab_nsexec $RX softflowctl -c "$NF_DIR/softflowd.ctl" statistics >"$LAB_TMP/sfstat" 2>&1
	((verbose)) && sed "s/^/  #   softflowctl: /" "$LAB_TMP/sfstat" >&2
	proc_stop "$k" "ctl:lab_nsexec $RX softflowctl -c $NF_DIR/softflowd.ctl shutdown"
	t0=$P_T0
	# The collector reads what is queued on its socket, then stops and
	# closes its file.
	for ((i = 0; i < 500; i++)); do
		q=$(lab_nsexec $RX ss -Hun "sport = :$NF_PORT" | awk '{s += $2} END {print s + 0}')
		((q == 0)) && break
		sleep 0.02
	done
	sleep 0.1
	kill -TERM "$NF_PID" 2>/dev/null
	lab_wait_exit "$NF_WRAP" 30 || { lab_stop "$NF_WRAP" 1; echo "compare: nfcapd did not stop in case $k" >&2; }
	R[$k,stop]=$(secs_between "$t0" "$(now_ns)")
	# Flows from rx itself (its ICMP port unreachables, captured on the
	# way out) are not among the packets that arrived.
	nfdump -R "$NF_DIR" -q -N -o 'fmt:%pkt' "not src ip $(lab_ip4 $RX $RXIF)" >"$LAB_TMP/nfdump.out" 2>&1 ||
		{ echo "compare: nfdump failed in case $k: $(head -n 3 "$LAB_TMP/nfdump.out")" >&2; }
	R[$k,stored]=$(awk '$1 ~ /^[0-9]+$/ {s += $1} END {printf "%.0f", s}' "$LAB_TMP/nfdump.out")
	R[$k,rows]=$(awk '$1 ~ /^[0-9]+$/' "$LAB_TMP/nfdump.out" | wc -l)
	R[$k,note]="NetFlow records ${R[$k,rows]}; just before the stop: $(sed -n 's/^Packets dropped by libpcap: \([0-9]*\).*/\1 dropped by libpcap/p; s/^Flows expired: [0-9]* (\([0-9]*\) forced).*/\1 flows expired early (table full)/p; s/^Packets received by libpcap: \([0-9]*\).*/\1 received by libpcap/p; s/^Packets processed: \([0-9]*\).*/\1 processed/p' "$LAB_TMP/sfstat" | paste -sd, | sed 's/,/, /g'); export datagrams dropped $(($(udp_rcvbuf_errors) - SF_ERR0))"
	((verbose)) && tail -n 3 "$NF_LOG" | sed 's/^/  #   nfcapd: /' >&2
	rm -rf "$NF_DIR"
}

# pmacctd with the sqlite3 plugin, default or tuned buffers.
PM_DB=""
pmacct_start()
{
	local k=$1 tuned=$2 conf
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
	TOOL_PID=$P_PID
}
pmacct_stop()
{
	local k=$1 i t0 locked
	# SIGTERM: the core stops its plugins, the sqlite3 plugin writes its
	# cache; writers it forked may still run after the core has gone.
	proc_stop "$k"
	t0=$P_T0
	for ((i = 0; i < 120 * 50; i++)); do
		[[ -z $(rx_ns_pids) ]] && break
		sleep 0.02
	done
	[[ -n $(rx_ns_pids) ]] && echo "compare: pmacct writers still running 120 s after SIGTERM in case $k" >&2
	R[$k,stop]=$(secs_between "$t0" "$(now_ns)")
	# Without rows from rx itself (its ICMP port unreachables, captured on
	# the way out), which are not among the packets that arrived.
	R[$k,stored]=$(sqlite3 -batch -noheader "$PM_DB" "select coalesce(sum(packets), 0) from acct where ip_src != '$(lab_ip4 $RX $RXIF)';" 2>/dev/null)
	R[$k,rows]=$(sqlite3 -batch -noheader "$PM_DB" 'select count(*) from acct;' 2>/dev/null)
	locked=$(grep -c 'database is locked' "$P_LOG")
	R[$k,note]="rows ${R[$k,rows]}, 'database is locked' $locked, $(sed -n 's/.*dropped_packets=\([0-9]*\).*/\1/p' "$P_LOG" | tail -n 1) dropped by libpcap, $(grep -c 'missing data' "$P_LOG") 'missing data' warnings"
	rm -f "$PM_DB"
}
tool_pmacct_start() { pmacct_start "$1" 0; }
tool_pmacct_stop() { pmacct_stop "$1"; }
tool_pmacct-tuned_start() { pmacct_start "$1" 1; }
tool_pmacct-tuned_stop() { pmacct_stop "$1"; }

# --- one case -------------------------------------------------------------------

declare -A R=() KEYS=() CFG=()
run_case()
{
	local rate=$1 n=$2 tool=$3 r=$4 k="$1,$2,$3,$4"
	local tx0 rx0 tx1 rx1 c0 c1 f0 f1 t0 t1 rc limit count bargs=()
	TOOL_PID="" TOOL_TICKS0=0
	lab_xdp_attached $RX $RXIF && die "$RXIF has an XDP program attached before case $k"
	[[ -z $(rx_ns_pids) ]] || die "processes left in $RXNS before case $k: $(rx_ns_pids | tr '\n' ' ')"
	"tool_${tool}_start" "$k"
	[[ -n $TOOL_PID ]] && TOOL_TICKS0=$(proc_ticks "$TOOL_PID")
	if [[ $rate == max ]]; then
		count=$((MAX_PPS * secs)) limit=$secs
	else
		count=$((rate * secs)) limit=$((secs + 5)) bargs=(-b "${rate}pps")
	fi
	sleep 0.3
	tx0=$(stat_of $TX $TXIF tx_packets) rx0=$(stat_of $RX $RXIF rx_packets)
	sampler >"$LAB_TMP/samples" &
	SAMPLER=$!
	LAB_PIDS+=("$SAMPLER")
	f0=$(foreign_ticks) c0=$(cpu_ticks) t0=$(now_ns)
	lab_nsexec $TX timeout -s INT -k 2 "$limit" trafgen -i "${CFG[$n]}" -o $TXIF -P 1 \
		--no-sock-mem -Q -C -n "$count" "${bargs[@]}" >"$LAB_TMP/trafgen.log" 2>&1
	rc=$?
	t1=$(now_ns)
	c1=$(cpu_ticks)
	((rc == 0 || rc == 124)) || { cat "$LAB_TMP/trafgen.log" >&2; die "trafgen failed ($rc) in case $k"; }
	sleep 0.1
	kill "$SAMPLER" 2>/dev/null
	wait "$SAMPLER" 2>/dev/null
	tx1=$(stat_of $TX $TXIF tx_packets) rx1=$(stat_of $RX $RXIF rx_packets)
	R[$k,sent]=$((tx1 - tx0)) R[$k,arrived]=$((rx1 - rx0))
	R[$k,secs]=$(secs_between "$t0" "$t1")
	# Every tool gets SETTLE s after the load to catch up before it is
	# stopped; the CPU window of every tool (none too) runs on over it.
	sleep "$SETTLE"
	c1=$(cpu_ticks)
	R[$k,pps]=$(active_pps "$LAB_TMP/samples")
	[[ -n ${R[$k,pps]} ]] || R[$k,pps]=$(awk -v p="${R[$k,arrived]}" -v s="${R[$k,secs]}" 'BEGIN{printf "%.0f", p / s}')
	"tool_${tool}_stop" "$k"
	[[ $tool != none ]] && c1=$(cpu_ticks)
	f1=$(foreign_ticks)
	R[$k,foreign]=$(awk -v f="$((f1 - f0))" -v hz="$HZ" 'BEGIN{printf "%.2f", f / hz}')
	R[$k,cpu_raw]=$(awk -v c="$((c1 - c0))" -v hz="$HZ" -v n="${R[$k,arrived]}" \
		'BEGIN{printf "%.3f", n ? c / hz / (n / 1e6) : 0}')
	R[$k,cpu]=$(awk -v c="$((c1 - c0 - (f1 - f0)))" -v hz="$HZ" -v n="${R[$k,arrived]}" \
		'BEGIN{printf "%.3f", n ? c / hz / (n / 1e6) : 0}')
	if [[ -n ${R[$k,stored]:-} ]]; then
		R[$k,share]=$(awk -v s="${R[$k,stored]}" -v a="${R[$k,arrived]}" 'BEGIN{printf "%.3f", a ? 100 * s / a : 0}')
	fi
	[[ -n ${R[$k,tcpu_s]:-} ]] && R[$k,tcpu]=$(awk -v c="${R[$k,tcpu_s]}" -v n="${R[$k,arrived]}" \
		'BEGIN{printf "%.3f", n ? c / (n / 1e6) : 0}')
	say "$k: sent ${R[$k,sent]} arrived ${R[$k,arrived]} in ${R[$k,secs]} s = ${R[$k,pps]} pps, CPU ${R[$k,cpu]} s/Mpkt (all busy ${R[$k,cpu_raw]}; other processes ${R[$k,foreign]} CPU s)${R[$k,stored]+, stored ${R[$k,stored]} (${R[$k,share]}%), tool CPU ${R[$k,tcpu]:-?} s/Mpkt, RSS ${R[$k,rss]:-?} MiB, stop ${R[$k,stop]} s; ${R[$k,note]:-}}"
}

# --- the cases ------------------------------------------------------------------

start_s=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "compare: loads ${RATES[*]} x flows ${FLOWS[*]} x tools ${TOOLS[*]}, $runs run(s) of $secs s each; load average $load_before"
for n in "${FLOWS[@]}"; do
	CFG[$n]=$LAB_TMP/flows-$n.cfg
	make_cfg "${CFG[$n]}" "$n" || die "cannot write the trafgen config for $n flows"
	KEYS[$n]=$(keys_of "$n")
done
for ((r = 1; r <= runs; r++)); do
	for rate in "${RATES[@]}"; do
		for n in "${FLOWS[@]}"; do
			# Each run starts with the next tool, so that no tool
			# always follows the same one.
			for ((i = 0; i < ${#TOOLS[@]}; i++)); do
				run_case "$rate" "$n" "${TOOLS[(i + r - 1) % ${#TOOLS[@]}]}" "$r"
			done
		done
	done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(($(date +%s) - start_s))

# --- results --------------------------------------------------------------------

median() { sort -g | awk '{a[NR] = $1} END {if (!NR) exit; if (NR % 2) print a[(NR + 1) / 2]; else printf "%.10g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
med()
{
	local r
	for ((r = 1; r <= runs; r++)); do
		[[ -n ${R[$1,$2,$r,$3]:-} ]] && echo "${R[$1,$2,$r,$3]}"
	done | median
}
# med_diff CASE TOOL BASE FIELD: median over the runs of TOOL's FIELD minus
# BASE's in the same run.
med_diff()
{
	local r x y
	for ((r = 1; r <= runs; r++)); do
		x=${R[$1,$2,$r,$4]:-} y=${R[$1,$3,$r,$4]:-}
		[[ -n $x && -n $y ]] || continue
		awk -v x="$x" -v y="$y" 'BEGIN{printf "%.4f\n", x - y}'
	done | median
}
# shellcheck disable=SC2059 # the format is the argument
fmt() { if [[ -n ${2:-} ]]; then printf "$1" "$2"; else printf -- '-'; fi; }
load_name() { if [[ $1 == max ]]; then echo max; else echo "$1"; fi; }

hdr=(load flows tool sent arrived stored "stored %" "pkt/s" "CPU s/Mpkt" "+vs none" "tool CPU s/Mpkt" "RSS MiB" "stop s")
rows=() notes=() plotdat=()
li=0
for rate in "${RATES[@]}"; do
	li=$((li + 1))
	for n in "${FLOWS[@]}"; do
		c=$rate,$n
		for t in "${TOOLS[@]}"; do
			extra=-
			[[ $t != none ]] && has_tool none && extra=$(fmt %+.3f "$(med_diff "$c" "$t" none cpu)")
			row=("$(load_name "$rate")" "${KEYS[$n]}" "$t" "$(med "$c" "$t" sent)" "$(med "$c" "$t" arrived)"
			     "$(fmt %s "$(med "$c" "$t" stored)")" "$(fmt %.3f "$(med "$c" "$t" share)")"
			     "$(fmt %.0f "$(med "$c" "$t" pps)")" "$(fmt %.3f "$(med "$c" "$t" cpu)")" "$extra"
			     "$(fmt %.3f "$(med "$c" "$t" tcpu)")" "$(fmt %s "$(med "$c" "$t" rss)")"
			     "$(fmt %.2f "$(med "$c" "$t" stop)")")
			rows+=("$(IFS='|'; echo "${row[*]}")")
			if [[ $t != none ]]; then
				for ((r = 1; r <= runs; r++)); do
					[[ -n ${R[$c,$t,$r,note]:-} ]] && notes+=("$(load_name "$rate"), ${KEYS[$n]} flows, $t, run $r: ${R[$c,$t,$r,note]}; exit status ${R[$c,$t,$r,rc]:-?}; all CPUs busy ${R[$c,$t,$r,cpu_raw]} s/Mpkt of which other processes ${R[$c,$t,$r,foreign]} CPU s")
				done
				plotdat+=("$t ${KEYS[$n]} $li $(load_name "$rate") $(fmt %s "$(med "$c" "$t" share)") ${extra#+}")
			fi
		done
	done
done

{
	(IFS='|'; echo "${hdr[*]}")
	printf '%s\n' "${rows[@]}"
} | column -t -s '|' -R 2,4,5,6,7,8,9,10,11,12,13
printf '  %s\n' "${notes[@]}"
echo "load average before $load_before, after $load_after; ${elapsed} s"

# The plot: stored share and extra CPU against offered load, per tool and
# flow count.
png=""
if [[ $plot != none ]] && command -v gnuplot >/dev/null && ((${#plotdat[@]})); then
	# One data block per tool and flow count: x (load index), stored %,
	# extra CPU s/Mpkt.
	dat=$LAB_TMP/compare.dat
	series=() : >"$dat"
	ti=0
	for t in "${TOOLS[@]}"; do
		[[ $t == none ]] && continue
		ti=$((ti + 1)) fl=0
		for n in "${FLOWS[@]}"; do
			fl=$((fl + 1))
			series+=("$t ${KEYS[$n]} $ti $fl")
			for line in "${plotdat[@]}"; do
				read -r pt pn px _ psh pcpu <<<"$line"
				[[ $pt == "$t" && $pn == "${KEYS[$n]}" ]] && echo "$px $psh $pcpu"
			done >>"$dat"
			printf '\n\n' >>"$dat"
		done
	done
	xt=() li=0
	for rate in "${RATES[@]}"; do li=$((li + 1)); xt+=("\"$(load_name "$rate")\" $li"); done
	{
		echo "set terminal pngcairo size 1200,520 font ',10'"
		echo "set output '$plot'"
		echo "set multiplot layout 1,2 title 'flowmaster, softflowd, pmacctd: 60-byte UDP/IPv4 on a veth link, $(nproc) CPUs'"
		echo "set xtics ($(IFS=,; echo "${xt[*]}"))"
		echo "set xrange [0.7:$li.3]"
		echo "set xlabel 'offered load (packets/s)'"
		echo "set key outside bottom center horizontal font ',9'"
		echo "set grid"
		echo "set datafile missing '-'"
		for col in 2 3; do
			if ((col == 2)); then
				echo "set ylabel 'stored / arrived packets (%)'"
				echo "set yrange [0:105]"
			else
				echo "set ylabel 'extra whole-machine CPU s per Mpkt (vs none)'"
				echo "set yrange [*:*]"
			fi
			p=() i=0
			for s in "${series[@]}"; do
				read -r st sn sti sfi <<<"$s"
				p+=("'$dat' index $i using 1:$col with linespoints lc $sti dt $sfi pt $((sti + 3)) title '$st, $sn flows'")
				i=$((i + 1))
			done
			echo "plot $(IFS=,; echo "${p[*]}")"
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

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
{
	echo "### Side by side: flowmaster, softflowd, pmacctd on one veth link"
	echo
	echo "$cpu_model, $(nproc) CPUs, kernel $(uname -r); $(softflowd -h 2>&1 | sed -n 's/.*softflowd version \([0-9.]*[0-9]\).*/softflowd \1/p' | head -n 1), $(nfdump -V 2>/dev/null | sed -n 's/.*[^0-9.]\([0-9][0-9.]*\)$/nfdump \1/p'), $(pmacctd -V 2>/dev/null | sed -n '1s/.*\(pmacctd [^ ]*\).*/\1/p'). \`tools/bench/compare.sh$( ((quick)) && echo " --quick")\`: $runs run(s) of ${secs} s per case$( ((runs > 1)) && echo ", medians"); load average $load_before before, $load_after after (other work on the machine moves the rates and CPU figures)."
	echo
	echo "| load | flows | tool | sent | arrived | stored | stored % | packets/s | CPU s/Mpkt | + vs none | tool CPU s/Mpkt | peak RSS MiB | stop s |"
	echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for row in "${rows[@]}"; do
		echo "| ${row//|/ | } |"
	done
	echo
	[[ -n $png ]] && echo "![stored share and CPU cost against offered load]($(basename "$png"))" && echo
	printf -- '- %s\n' "${notes[@]}"
	echo
	echo "- *load*: a number: that many 60-byte UDP/IPv4 frames per second (\`trafgen -b\`, one process, \`-P 1 --no-sock-mem\`) for ${secs} s, bounded by rate x ${secs} frames; max: as fast as the veth takes them, ended by a timeout after ${secs} s and bounded by $((MAX_PPS * secs)) frames. Above 4096 flows the source port and the source address both count per frame over coprime ranges."
	echo "- *none*: nothing on the receiving veth end; *fm*: \`flowmaster run -i IF --db DB --pin-path PIN\`${FM_ARGS:+ $FM_ARGS} (default settings); *softflowd*: \`softflowd -i IF -n 127.0.0.1:$NF_PORT -v 9 -T full -d\`${SOFTFLOWD_ARGS:+ $SOFTFLOWD_ARGS} exporting to \`nfcapd -b 127.0.0.1 -p $NF_PORT -B 16777216\` in the same namespace, stored = the packet total of nfcapd's records (\`nfdump -R DIR -o fmt:%pkt\`); *pmacct*: \`pmacctd\` with \`plugins: sqlite3\`, \`sql_table_version: 1\` (pmacct's v1 schema), \`aggregate: src_host,dst_host,src_port,dst_port,proto\`, \`sql_refresh_time: 1\`, stored = \`sum(packets)\` of table acct; *pmacct-tuned*: the same plus \`pmacctd_pipe_size: 67108864\` (the pcap buffer), \`plugin_pipe_size: 134217728\`, \`plugin_buffer_size: 131072\`, \`sql_cache_entries: 1048573\`${PMACCT_TUNED:+ and $PMACCT_TUNED}. Every tool is started before the load and stopped ${SETTLE} s after it by SIGTERM (softflowd: \`softflowctl shutdown\`, since SIGTERM ends it without exporting its flows). Flows from rx's own address (ICMP port unreachables it sends back, seen by the capture tools on the way out) are left out of *stored*."
	echo "- *sent*: the sender veth's tx counter; *arrived*: the receiver's rx counter; *stored %*: stored / arrived. *packets/s*: the arrival rate while packets were arriving (rx counter sampled every 20 ms; first to last change)."
	echo "- *CPU s/Mpkt*: busy time of all CPUs (\`/proc/stat\`, softirq included) less the CPU time of user processes outside the test namespaces (other work on the machine: \`/proc/PID/stat\` utime + stime + reaped children; kernel threads stay in), per million arrived packets, from the start of the load to ${SETTLE} s after its end (none) or to the tool's exit with its data written (the others, so the final flush counts; includes nfcapd for softflowd). trafgen's own cost is in every figure; *+ vs none* subtracts the no-tool figure of the same case and run. *tool CPU*: the tool's own user + system time from the start of the load to its exit (\`/usr/bin/time\`: the process and the children it reaped) per million arrived packets. *peak RSS*: \`/usr/bin/time\` %M. *stop s*: SIGTERM until the tool exited (pmacct: and every writer it forked; softflowd: and nfcapd, after it had read every export datagram)."
} >"$md"
echo "(Markdown section: $md)"
exit 0
