#!/usr/bin/env bash
# tools/demo.sh (`make demo`): flowmaster end to end in about 12 seconds.
#
# Makes two throw-away test hosts, a and b (network namespaces joined by a
# veth pair; 198.18.0.1/.2 and 2001:2::1/::2), runs `flowmaster run` on b's
# end (b-a), sends about 10 s of bounded traffic from a to b (ping, ping -6,
# a TCP transfer with socat, a UDP stream with trafgen), stops the daemon
# with SIGTERM, prints `flowmaster top`, a sample sqlite3 query and the
# reconciliation (frames b-a received == packets in the database), removes
# the hosts and leaves the database for you.
#
# usage: sudo make demo          (or: sudo tools/demo.sh)
#   DEMO_DB=PATH   where the database goes (default demo.db in the repo
#                  root); an older demo database there is replaced
#   BUILD=DIR      build directory holding flowmaster (default build)
#   V=1            show what the lab does
#
# Traffic only flows between the two namespaces created here (both veth
# ends live in them; no real interface is touched), every load is bounded
# in count and time, and everything created (namespaces, links, pins,
# processes) is removed at exit, also on failure or ^C. Exit status: 0 when
# everything worked and the counts reconcile, 1 otherwise.
set -u
set -o pipefail

ORIG_PWD=$PWD
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FM=${FM:-$BUILD/flowmaster}
DB=${DEMO_DB:-$ROOT/demo.db}
[[ $DB == /* ]] || DB=$ORIG_PWD/$DB

# Bounds of every load (count and time).
PING_COUNT=30 PING6_COUNT=20 PING_GAP=0.1
TCP_BYTES=8000000 TCP_PORT=5001
UDP_FRAMES=60000 UDP_FLOWS=8 UDP_PPS=20000 UDP_SIZE=128

T0=$(date +%s%N)
say() { printf '[%5s] %s\n' "$(elapsed)" "$*"; }
elapsed()
{
	local ms=$((($(date +%s%N) - T0) / 1000000))
	printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
}
die()
{
	echo "demo: $*" >&2
	if [[ -n ${FM_LOG:-} && -s ${FM_LOG:-} ]]; then
		echo "demo: flowmaster's log, last 20 lines:" >&2
		tail -n 20 "$FM_LOG" | sed 's/^/  /' >&2
	fi
	exit 1
}
# shown: the database path as the user would type it
shown()
{
	case $1 in
	"$ORIG_PWD"/*) echo "${1#"$ORIG_PWD"/}" ;;
	*) echo "$1" ;;
	esac
}

# --- preconditions --------------------------------------------------------

if ((EUID != 0)); then
	echo "make demo needs root: sudo make demo" >&2
	exit 1
fi
[[ -x $FM ]] || { echo "demo: $FM is missing: run make first (or make demo, which builds it)" >&2; exit 1; }
for c in ip nsenter ping socat ss sqlite3 timeout trafgen; do
	command -v "$c" >/dev/null ||
		{ echo "demo: $c is not installed: run tools/install-deps.sh demo as root" >&2; exit 1; }
done
if [[ -s $DB ]]; then
	# Replace an older demo database, never anything else.
	if [[ $(sqlite3 -batch "file:$DB?mode=ro" "select count(*) from sqlite_master where name = 'flows';" 2>/dev/null) != 1 ]]; then
		echo "demo: $DB exists and is not a flowmaster database: move it away or set DEMO_DB" >&2
		exit 1
	fi
fi
[[ -d $(dirname "$DB") ]] || { echo "demo: $(dirname "$DB"): no such directory (DEMO_DB)" >&2; exit 1; }
IPV6=1
[[ -d /proc/sys/net/ipv6 ]] || IPV6=0

# --- ^C -------------------------------------------------------------------

# A script cannot count on its INT trap: bash lets a SIGINT pass when the
# command it waits for survives it (as `ip netns exec` and commands under
# timeout do). So the work runs in a child, where SIGINT is ignored, and
# this parent only waits: on ^C (or SIGTERM, SIGHUP) it sends the child
# SIGTERM, which the child obeys after its current command (each one is
# bounded) by tearing everything down. The daemon stops on ^C by itself.
if [[ -z ${FM_DEMO_CHILD:-} ]]; then
	FM_DEMO_CHILD=1 DEMO_DB=$DB FM=$FM BUILD=$BUILD "$BASH" "$ROOT/tools/demo.sh" &
	child=$! signalled=0
	trap 'signalled=130; kill -TERM "$child" 2>/dev/null' INT
	trap 'signalled=143; kill -TERM "$child" 2>/dev/null' TERM
	trap 'signalled=129; kill -TERM "$child" 2>/dev/null' HUP
	while :; do
		wait "$child"
		rc=$?
		kill -0 "$child" 2>/dev/null || break
	done
	((signalled)) && rc=$signalled
	((rc == 130)) && echo "demo: interrupted" >&2
	exit "$rc"
fi

# --- the lab --------------------------------------------------------------

# shellcheck source=tools/lab.sh
source "$ROOT/tools/lab.sh"
LAB_ID=fm-demo-$$
FM_LOG=""
teardown()
{
	((${#LAB_NETNS[@]})) && echo "tearing down the test hosts ($(lab_ns a), $(lab_ns b)), their link and pins"
	lab_cleanup
}
# shellcheck disable=SC2317 # called by the EXIT trap
demo_exit()
{
	local rc=$?
	trap - EXIT INT TERM HUP
	teardown
	if ((rc != 0 && rc != 129 && rc != 130 && rc != 143)); then
		echo "demo: FAILED (status $rc)" >&2
	fi
	exit "$rc"
}
lab_init || die "cannot create a temporary directory"
trap demo_exit EXIT
trap 'exit 143' TERM
trap 'exit 129' HUP

echo "flowmaster demo: two test hosts in network namespaces, real traffic, flows in $(shown "$DB")"
if ((IPV6)); then
	if ! lab_host a || ! lab_host b; then
		die "cannot create the test hosts"
	fi
	# MLD reports (joins of the new addresses' groups) go out at once
	# and end quickly, so the link is silent before flowmaster starts.
	for h in a b; do
		ip netns exec "$(lab_ns $h)" sysctl -qw \
			net.ipv6.conf.default.mldv2_unsolicited_report_interval=10 \
			net.ipv6.conf.default.mldv1_unsolicited_report_interval=10 ||
			die "cannot configure $(lab_ns $h)"
	done
else
	echo "note: IPv6 is disabled in this kernel: no ping -6"
	if ! lab_host a --no-ipv6 || ! lab_host b --no-ipv6; then
		die "cannot create the test hosts"
	fi
fi
lab_link a b || die "cannot link the test hosts"
A4=$(lab_ip4 a a-b) B4=$(lab_ip4 b b-a)
if ((IPV6)); then
	A6=$(lab_ip6 a a-b) B6=$(lab_ip6 b b-a)
	say "hosts: a ($A4, $A6) <-> b ($B4, $B6), veth a-b <-> b-a, namespaces $(lab_ns a), $(lab_ns b)"
else
	say "hosts: a ($A4) <-> b ($B4), veth a-b <-> b-a, namespaces $(lab_ns a), $(lab_ns b)"
fi

# wait_quiet: b-a has received and sent nothing for 0.5 s (bounded: 5 s).
link_frames() { echo $(($(lab_rx_packets b b-a) + $(lab_tx_packets b b-a))); }
wait_quiet()
{
	local last now i same=0
	last=$(link_frames)
	for ((i = 0; i < 50; i++)); do
		sleep 0.1
		now=$(link_frames)
		if ((now == last)); then
			same=$((same + 1))
			((same >= 5)) && return 0
		else
			same=0 last=$now
		fi
	done
	return 1
}
# IPv6 brings the link-local addresses (and their MLD reports) up only
# when linkwatch reports the carrier, up to a second after the link: wait
# for them, or the quiet link above is only not yet talking.
linklocal_up()
{
	[[ -n $(ip -n "$(lab_ns a)" -6 addr show dev a-b scope link 2>/dev/null) ]] &&
		[[ -n $(ip -n "$(lab_ns b)" -6 addr show dev b-a scope link 2>/dev/null) ]]
}
if ((IPV6)); then
	for ((i = 0; i < 50; i++)); do
		linklocal_up && break
		sleep 0.1
	done
fi
wait_quiet || die "the test link does not fall silent"
RX0=$(lab_rx_packets b b-a) TX0=$(lab_tx_packets b b-a)

# --- the daemon -----------------------------------------------------------

if [[ -e $DB ]]; then
	rm -f -- "$DB" "$DB-wal" "$DB-shm" || die "cannot replace $DB"
	echo "(replaced the previous $(shown "$DB"))"
fi
PIN=$(lab_pin_dir) || die "cannot mount bpffs on /sys/fs/bpf"
FM_LOG=$LAB_TMP/flowmaster.log
RUN_ARGS=(-i b-a --db "$DB" --pin-path "$PIN" --poll-interval 200 --idle-timeout 2
	  --metrics-interval 1 --max-flows 16384 --direction both)
say "starting in b: flowmaster run ${RUN_ARGS[*]}"
lab_bg b "$FM_LOG" "$FM" run "${RUN_ARGS[@]}"
FM_PID=$LAB_PID
for ((i = 0; i < 200; i++)); do
	kill -0 "$FM_PID" 2>/dev/null || { wait "$FM_PID"; die "flowmaster exited with status $? before attaching"; }
	lab_xdp_attached b b-a 2>/dev/null && break
	sleep 0.1
done
lab_xdp_attached b b-a 2>/dev/null || die "flowmaster did not attach to b-a within 20 s"
# log_msgs: the daemon's log lines without their timestamp and level.
log_msgs() { sed -E 's/^[0-9]{4}-[0-9T:.-]+Z [a-z]+: //' "$FM_LOG"; }
for ((i = 0; i < 20; i++)); do
	log_msgs | grep -q '^b-a: egress attached' && break
	sleep 0.1
done
say "flowmaster: $(log_msgs | grep -m1 '^b-a: attached' || echo 'b-a: attached')"
say "flowmaster: $(log_msgs | grep -m1 '^b-a: egress attached' || echo 'b-a: egress attached')"

# daemon_line: the daemon's next status line (one per metrics interval,
# so at most 1.5 s away), or its latest.
status_lines() { log_msgs | grep -cE '^[0-9]+ pps, '; }
daemon_line()
{
	local n i l
	n=$(status_lines)
	for ((i = 0; i < 15; i++)); do
		(($(status_lines) > n)) && break
		sleep 0.1
	done
	l=$(log_msgs | grep -E '^[0-9]+ pps, ' | tail -n 1)
	echo "          flowmaster: ${l:-(no status line yet)}"
}
# running: the daemon still runs. It stops by itself on ^C (which the
# parent reports).
running()
{
	kill -0 "$FM_PID" 2>/dev/null && return 0
	log_msgs | grep -q '^Interrupt: stopping' && exit 130
	die "flowmaster stopped unexpectedly"
}

# --- traffic, a -> b ------------------------------------------------------

ping_phase()
{
	local what=$1 n=$2 dst=$3 out got
	shift 3
	out=$(lab_nsexec a timeout 20 ping "$@" -n -q -c "$n" -i "$PING_GAP" -W 2 "$dst" 2>&1) ||
		die "$what to $dst failed: $out"
	got=$(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) (packets )?received.*/\1 sent, \2 replies/p' <<<"$out")
	say "$(printf '%-8s' "$what") $n echo requests a -> $dst: ${got:-done}"
	running
	daemon_line
}

ping_phase "ping" "$PING_COUNT" "$B4"
((IPV6)) && ping_phase "ping -6" "$PING6_COUNT" "$B6" -6

listening() { lab_nsexec b ss -Hltn "sport = :$TCP_PORT" | grep -q .; }
lab_bg b "$LAB_TMP/socat-server.log" timeout 20 socat -u \
	"TCP-LISTEN:$TCP_PORT,bind=$B4,reuseaddr" OPEN:/dev/null
SERVER_PID=$LAB_PID
for ((i = 0; i < 50; i++)); do
	listening && break
	sleep 0.1
done
listening || die "socat did not listen on $B4:$TCP_PORT in b: $(cat "$LAB_TMP/socat-server.log")"
t=$(date +%s%N)
head -c "$TCP_BYTES" /dev/zero |
	lab_nsexec a timeout 20 socat -u - "TCP:$B4:$TCP_PORT,connect-timeout=5" 2>"$LAB_TMP/socat-client.log" ||
	die "TCP transfer failed: $(cat "$LAB_TMP/socat-client.log")"
lab_wait_exit "$SERVER_PID" 5 || die "socat server in b did not finish"
ms=$((($(date +%s%N) - t) / 1000000))
say "$(printf '%-8s' tcp) $((TCP_BYTES / 1000000)) MB a -> $B4:$TCP_PORT with socat in $((ms / 1000)).$((ms % 1000 / 100)) s"
running
daemon_line

lab_trafgen a a-b "$UDP_FRAMES" "$UDP_FLOWS" "$UDP_PPS" "$UDP_SIZE" || die "trafgen failed"
say "$(printf '%-8s' udp) $UDP_FRAMES frames of $UDP_SIZE bytes, $UDP_FLOWS flows a -> $B4:9 at $UDP_PPS/s with trafgen"
running
daemon_line

# --- stop, show, reconcile ------------------------------------------------

sleep 0.3	# the last frames through the veth
lab_stop "$FM_PID" 20
FM_RC=$?
say "stopped flowmaster with SIGTERM: exit status $FM_RC"
log_msgs | grep -E '^b-a( in| out)?: kernel saw' | sed 's/^/          flowmaster: /'
((FM_RC == 0)) || die "flowmaster exited with status $FM_RC"
RX=$(($(lab_rx_packets b b-a) - RX0)) TX=$(($(lab_tx_packets b b-a) - TX0))

SHOW=$(printf %q "$(shown "$DB")")
echo
echo "\$ flowmaster top --db $SHOW"
"$FM" top --db "$DB" || die "flowmaster top failed"

QUERY="select direction, protocol, src_ip, src_port, dst_ip, dst_port, icmp_type, tcp_flags, packets, bytes, end_reason from flows_readable order by bytes desc limit 12;"
echo
echo "\$ sqlite3 -header -column $SHOW '$QUERY'"
sqlite3 -batch -header -column -cmd '.timeout 5000' "$DB" "$QUERY" || die "sqlite3 query failed"

STORED=$(sqlite3 -batch -cmd '.timeout 5000' "$DB" "select coalesce(sum(packets), 0) from flows
	where interface_id in (select id from interfaces where name = 'b-a') and direction = 'ingress';") ||
	die "cannot read $DB"
STORED_OUT=$(sqlite3 -batch -cmd '.timeout 5000' "$DB" "select coalesce(sum(packets), 0) from flows
	where interface_id in (select id from interfaces where name = 'b-a') and direction = 'egress';") ||
	die "cannot read $DB"
echo
if [[ $STORED == "$RX" ]]; then
	echo "reconciliation: b-a received $RX frames (its kernel counter), $SHOW holds $STORED packets for b-a: they match"
else
	echo "reconciliation: b-a received $RX frames (its kernel counter), $SHOW holds $STORED packets for b-a: MISMATCH" >&2
	exit 1
fi
# The replies: what b sent back (echo replies, TCP ACKs, ARP), seen leaving.
if [[ $STORED_OUT == "$TX" ]]; then
	echo "reconciliation, replies: b-a sent $TX frames (its kernel counter), $SHOW holds $STORED_OUT egress packets for b-a: they match"
else
	echo "reconciliation, replies: b-a sent $TX frames (its kernel counter), $SHOW holds $STORED_OUT egress packets for b-a: MISMATCH" >&2
	exit 1
fi

# Run with sudo: hand the database to the user who asked for it.
if [[ ${SUDO_UID:-} =~ ^[0-9]+$ && ${SUDO_GID:-} =~ ^[0-9]+$ ]]; then
	chown "$SUDO_UID:$SUDO_GID" "$DB" "$DB-wal" "$DB-shm" 2>/dev/null
fi
echo
teardown
echo
echo "demo done in $(elapsed). The flows are in $SHOW; open it with:"
echo "  sqlite3 $SHOW 'select * from top_talkers'"
echo "  sqlite3 -header -column $SHOW 'select * from flows_readable'"
echo "  flowmaster top --db $SHOW     (build/flowmaster; 'man -l flowmaster.8' documents it all)"
exit 0
