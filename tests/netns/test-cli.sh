#!/usr/bin/env bash
# The operator commands around the daemon: --help and usage errors of every
# subcommand, `top` on a database a real run wrote (also while it writes),
# `status` while running, after a clean stop and after SIGKILL, and
# `detach` removing flowmaster's attachments and a crashed daemon's pins
# but never another program.
#
# Test hosts a and b (IPv6 off, so b-a carries only what the test sends),
# flowmaster in b on b-a with a pin path and database of the test's own.
# Every flowmaster command runs in b's namespace through nsenter, so it
# sees b's interfaces and the real /sys/fs/bpf.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

two_hosts()
{
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
}

# expect_rc WHAT WANT CMD...: run CMD, fail unless it exits WANT; the
# output is kept in OUT (stdout and stderr).
expect_rc()
{
	local what=$1 want=$2 rc
	shift 2
	OUT=$("$@" 2>&1)
	rc=$?
	if ((rc != want)); then
		fail "$what: exit status $rc, want $want; output:
$OUT"
	fi
	echo "ok - $what (exit $rc)"
}

# expect_out WHAT REGEX: fail unless OUT has a line matching REGEX (ERE).
expect_out()
{
	grep -qE -- "$2" <<<"$OUT" || fail "$1: no line matching /$2/ in:
$OUT"
	echo "ok - $1"
}

# fm_in HOST ARGS...: flowmaster ARGS in HOST's namespace, bounded.
fm_in()
{
	local host=$1
	shift
	lab_nsexec "$host" timeout -k 2 20 "$FM" "$@"
}

# counter NAME: the first interface column of counter NAME in OUT (status).
counter() { awk -v n="$1" '$1 == n { print $2; exit }' <<<"$OUT"; }

# flows_packets_are DB N: sum(flows.packets) in DB is N (polled while written).
flows_packets_are() { [[ $(sql "$1" "select coalesce(sum(packets), 0) from flows;" 2>/dev/null) == "$2" ]]; }
# has_metrics DB: the daemon has written a metrics row.
has_metrics() { (($(sql "$1" "select count(*) from metrics;" 2>/dev/null || echo 0) > 0)); }
not_attached() { ! lab_xdp_attached "$@"; }

xdp_prog_on() { ip -n "$(lab_ns "$1")" link show dev "$2" | grep -oE 'prog/xdp id [0-9]+ name [^ ]+'; }

# Every subcommand has --help (exit 0) and refuses bad flags (exit 2, with
# a message). No namespace needed.
test_help_and_usage_errors()
{
	need_fm
	local c
	for c in run top status detach version; do
		expect_rc "$c --help" 0 "$FM" "$c" --help
		expect_out "$c --help prints a usage line" "^usage: flowmaster $c"
	done
	expect_rc "flowmaster --help" 0 "$FM" --help
	expect_out "command list names top, status, detach" "^  detach "
	expect_rc "no command" 2 "$FM"
	expect_rc "unknown command" 2 "$FM" frobnicate
	expect_out "unknown command named" "unknown command 'frobnicate'"
	for c in run top status detach; do
		expect_rc "$c --no-such-flag" 2 "$FM" "$c" --no-such-flag
		expect_out "$c: message names the flag" "unrecognized option '--no-such-flag'"
		expect_out "$c: message points at --help" "Try 'flowmaster $c --help'"
	done
	expect_rc "top --limit 0" 2 "$FM" top --limit 0
	expect_out "top --limit message" "--limit: '0'"
	expect_rc "top --limit -3" 2 "$FM" top --limit -3
	expect_rc "top --by flows" 2 "$FM" top --by flows
	expect_out "top --by message" "--by: 'flows' is not bytes or packets"
	expect_rc "top --since 5x" 2 "$FM" top --since 5x
	expect_rc "top --since 0" 2 "$FM" top --since 0
	expect_rc "top with a stray argument" 2 "$FM" top extra
	expect_rc "status with a stray argument" 2 "$FM" status extra
	expect_rc "status --pin-path without a value" 2 "$FM" status --pin-path
	expect_rc "detach without -i or --all" 2 "$FM" detach
	expect_out "detach says what it needs" "give -i IFACE or --all"
	expect_rc "detach -i with --all" 2 "$FM" detach -i lo --all
	expect_rc "run without -i" 2 "$FM" run
	expect_rc "version with a stray argument" 2 "$FM" version extra
	expect_out "version: names the argument" "unexpected argument 'extra'"
}

# Each command's options come from one table: --list-options prints it
# (tab-separated), --help is made from it, and tools/check-man.sh checks
# the man page against it.
test_option_tables()
{
	need_fm
	local c
	for c in run top status detach version; do
		expect_rc "$c --list-options" 0 "$FM" "$c" --list-options
		check_eq "$c: every line has 6 fields" \
			"$(awk -F'\t' 'NF != 6' <<<"$OUT" | wc -l)" 0
		expect_out "$c: --help is listed" "^--help	-h	-	flag	-	this help$"
	done
	expect_rc "run --list-options" 0 "$FM" run --list-options
	expect_out "run: --idle-timeout with its default" "^--idle-timeout	-	S	duration	15	"
	expect_out "run: --memory-limit from memory" "^--memory-limit	-	MB	u64	from memory: [0-9]+	"
	expect_out "run: -i is a list" "^--interface	-i	IFACE	list	-	"
	expect_rc "the man page agrees with the tables" 0 bash "$ROOT/tools/check-man.sh" "$FM"
}

# top: missing database and a database that is not flowmaster's are
# runtime errors (1) with a message that says so.
test_top_bad_databases()
{
	need_fm
	need_cmd sqlite3
	local d
	d=$(lab_tmpdir)
	expect_rc "top on a missing database" 1 "$FM" top --db "$d/none.db"
	expect_out "missing database named" "$d/none.db: no such database"
	sqlite3 "$d/other.db" "create table t(x);"
	expect_rc "top on a database without flows" 1 "$FM" top --db "$d/other.db"
	expect_out "says it is not flowmaster's" "no flows table"
	echo "not a database" >"$d/text.db"
	expect_rc "top on a text file" 1 "$FM" top --db "$d/text.db"
}

# ro_cleanup: unmount what test_top_read_only_media mounted (lazily: a
# reader may still hold a file there), then the lab's cleanup.
RO_MOUNT=
ro_cleanup()
{
	[[ -n $RO_MOUNT ]] && umount -l "$RO_MOUNT" 2>/dev/null
	lab_cleanup
}

# top on a directory says it is one (not "disk I/O error"); a database on
# read-only media, where the -shm a WAL reader needs cannot be made, is
# read as a snapshot of the file, and top says so.
test_top_read_only_media()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local d mnt db rx0
	d=$(lab_tmpdir)
	expect_rc "top on a directory" 1 "$FM" top --db "$d"
	expect_out "says it is a directory" "^error: $d is a directory, not a database; give --db the database file"
	mnt=$(lab_tmpdir)
	mount -t tmpfs -o size=16M fm-cli-ro "$mnt" || skip "cannot mount a tmpfs"
	RO_MOUNT=$mnt
	trap ro_cleanup EXIT
	db=$mnt/flows.db
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --idle-timeout 1 --poll-interval 200
	check "trafgen 3000 frames over 3 flows" lab_trafgen a a-b 3000 3 20000
	wait_for 5 "3000 frames at b-a" rx_at_least b b-a $((rx0 + 3000))
	fm_stop TERM
	check_eq "daemon exit status" "$FM_RC" 0
	[[ -e $db-shm ]] && fail "a -shm left after a clean stop"
	check "remount read-only" mount -o remount,ro "$mnt"
	touch "$mnt/x" 2>/dev/null && fail "the tmpfs is still writable"
	expect_rc "top on read-only media" 0 "$FM" top --db "$db"
	expect_out "says it reads a snapshot, and why" \
		"^$db: reading a snapshot, the file as it is: its -shm is missing and cannot be made \(a read-only file system\)$"
	expect_out "the talker, every packet" "^  198\.18\.0\.1 +3\.0k +[0-9.]+ KiB +3 +100\.0%$"
	expect_rc "status --db on read-only media" 0 "$FM" status --db "$db" --pin-path "$(lab_pin_dir)"
	expect_out "status reads the metrics" "^last metrics in $db"
}

# top lists the sender as the top talker, read while the daemon writes
# (WAL) and after it stopped, with exact flow and packet counts.
test_top_on_real_run()
{
	need_fm
	need_cmd trafgen sqlite3 ping
	two_hosts
	local db=$LAB_TMP/flows.db rx0
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --idle-timeout 1 --poll-interval 200
	check "ping a -> b" lab_nsexec a ping -q -c 3 -i 0.2 -W 2 198.18.0.2
	check "trafgen 5000 frames over 10 flows" lab_trafgen a a-b 5000 10 20000
	wait_for 5 "5003 frames at b-a" rx_at_least b b-a $((rx0 + 5003))
	# Idle flows are exported after 1 s and written within the writer's
	# maximum delay (5 s): wait for them, then read during the run.
	wait_for 20 "rows written while running" flows_packets_are "$db" 5003
	fm_running || fail "daemon stopped early"
	expect_rc "top while the daemon runs" 0 fm_in b top --db "$db"
	expect_out "top talker while running" "^  198\.18\.0\.1 +5\.0k +[0-9.]+ KiB +11 +100\.0%$"
	fm_stop TERM
	check_eq "daemon exit status" "$FM_RC" 0

	expect_rc "top after the run" 0 "$FM" top --db "$db" --by packets --limit 3
	expect_out "header counts the packets" "^total 5\.0k packets"
	expect_out "talker: 11 flows (10 UDP, 1 ICMP), all the traffic" \
		"^  198\.18\.0\.1 +5\.0k +[0-9.]+ KiB +11 +100\.0%$"
	expect_out "a UDP flow: ports, 500 packets of 60 bytes" \
		"^  b-a +198\.18\.0\.1:100[0-9][0-9] +198\.18\.0\.2:9 +udp +500 +29\.3 KiB "
	check_eq "--limit 3: flow lines" "$(grep -cE '^  b-a ' <<<"$OUT")" 3
	expect_rc "top --since 1h" 0 "$FM" top --db "$db" --since 1h --limit 20
	expect_out "ICMP flow with type/code" "^  b-a +198\.18\.0\.1 +198\.18\.0\.2 +icmp 8/0 +3 "
	check_eq "--since 1h: every flow" "$(grep -cE '^  b-a ' <<<"$OUT")" 11
}

# status while running: the daemon's pid, b-a attached, live counters; in
# another namespace it says the interface is not attached there; after a
# clean stop it says nothing runs (and exits 0).
test_status_running_and_stopped()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db pin rx0 rx
	pin=$(lab_pin_dir)
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --pin-path "$pin" --metrics-interval 1
	check "trafgen 3000 frames" lab_trafgen a a-b 3000 30 20000
	wait_for 5 "3000 frames at b-a" rx_at_least b b-a $((rx0 + 3000))
	rx=$(($(lab_rx_packets b b-a) - rx0))
	wait_for 10 "a metrics row" has_metrics "$db"

	expect_rc "status while running" 0 fm_in b status --pin-path "$pin" --db "$db"
	check_eq "first line" "$(head -n 1 <<<"$OUT")" "flowmaster is running (pid $FM_PID), pins in $pin"
	expect_out "program line" "^program fm_xdp, id [0-9]+, on 1 interface:$"
	expect_out "b-a attached in slot 1" \
		"^ +1 +b-a +$(ip -n "$(lab_ns b)" -j link show dev b-a | jq '.[0].ifindex') +(native|generic) +attached$"
	expect_out "counter columns named by interface" "^  COUNTER +b-a +MEANING$"
	check_eq "packets counted by the kernel" "$(counter packets)" "$rx"
	check_eq "bytes counted by the kernel" "$(counter bytes)" $((rx * 60))
	check_eq "parse errors: IPv4" "$(counter err_ipv4)" 0
	check_eq "ring buffer drops" "$(counter ringbuf_drops)" 0
	expect_out "map fill line" "^map fill: [0-9]+ of [0-9]+ flows in the active generation"
	expect_out "ring buffer line" "^ring buffer: [0-9.]+ [KMG]iB, [0-9.]+ [KMG]?i?B waiting"
	expect_out "last metrics" "^last metrics in $db, at "
	expect_out "a metric row" "^  packets_processed +[0-9]+$"

	expect_out "reconciliation of b-a" "^  b-a +$rx +[0-9]+ +0 +[0-9]+$"

	# From the root namespace, which has no b-a: the daemon's own names,
	# and a note that they are the daemon's namespace's.
	expect_rc "status from another namespace" 0 "$FM" status --pin-path "$pin"
	expect_out "the daemon's name for slot 1" "^ +1 +b-a +[0-9]+ +(native|generic) +attached$"
	expect_out "said to be the daemon's view" "^  \\(interfaces as the daemon sees them in its own network namespace\\)$"
	expect_out "counters by the daemon's name" "^  COUNTER +b-a +MEANING$"

	fm_stop TERM
	check_eq "daemon exit status" "$FM_RC" 0
	expect_rc "status after the stop" 0 fm_in b status --pin-path "$pin"
	check_eq "first line after the stop" "$(head -n 1 <<<"$OUT")" \
		"flowmaster is not running (no pins in $pin)"
	expect_rc "status --db after the stop" 0 fm_in b status --pin-path "$pin" --db "$db"
	expect_out "metrics still shown" "^last metrics in $db"
}

# SIGKILL: the link dies with the process, the pins stay. status calls
# them stale and still reads the final counts; detach --all removes them.
test_status_and_detach_after_sigkill()
{
	need_fm
	need_cmd trafgen
	two_hosts
	local pin rx0 rx
	pin=$(lab_pin_dir)
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$LAB_TMP/flows.db" --pin-path "$pin"
	check "trafgen 2000 frames" lab_trafgen a a-b 2000 5 20000
	wait_for 5 "2000 frames at b-a" rx_at_least b b-a $((rx0 + 2000))
	rx=$(($(lab_rx_packets b b-a) - rx0))
	fm_stop KILL
	check_eq "killed" "$FM_RC" 137
	wait_for 5 "the link gone with the process" not_attached b b-a
	check "pins left behind" test -e "$pin/counters"

	expect_rc "status after SIGKILL" 0 fm_in b status --pin-path "$pin"
	expect_out "stale pins" "^no daemon running \(stale pins from a crash\?\) in $pin"
	expect_out "program gone" "^program: gone"
	expect_out "counters by slot" "^  COUNTER +slot 1 +MEANING$"
	check_eq "final packet count still readable" "$(counter packets)" "$rx"

	expect_rc "detach --all after SIGKILL" 0 fm_in b detach --all --pin-path "$pin"
	expect_out "nothing attached to detach" "^no flowmaster XDP program attached"
	expect_out "counters pin removed" "^removed stale pin $pin/counters$"
	expect_out "directory removed" "^removed $pin$"
	check "pin directory gone" test ! -e "$pin"
	expect_rc "status after detach --all" 0 fm_in b status --pin-path "$pin"
	expect_out "not running" "^flowmaster is not running \(no pins in $pin\)$"
	expect_rc "detach --all again: nothing to do" 0 fm_in b detach --all --pin-path "$pin"
	expect_out "says there are no pins" "^$pin: no pins$"
}

# detach -i on a running daemon's interface removes the link (the daemon
# goes on); detach --all leaves the pins of a daemon that holds them.
test_detach_running_daemon()
{
	need_fm
	two_hosts
	local pin
	pin=$(lab_pin_dir)
	fm_start b -i b-a --db "$LAB_TMP/flows.db" --pin-path "$pin"
	expect_rc "detach -i b-a" 0 fm_in b detach -i b-a
	expect_out "says what it removed" "^b-a: detached fm_xdp \(prog id [0-9]+, (native|generic) XDP, bpf_link id [0-9]+\)$"
	expect_out "names the daemon holding the link" "\(pid $FM_PID, flowmaster\) keeps running without b-a$"
	lab_xdp_attached b b-a && fail "XDP still attached to b-a"
	echo "ok - nothing attached to b-a"
	fm_running || fail "the daemon died when its link was detached"
	# The daemon tells a detach from outside from a deleted interface.
	wait_for 5 "the daemon noticed" grep -q "b-a: flowmaster's XDP program was detached from outside" "$FM_LOG"
	grep -q "interface gone" "$FM_LOG" && fail "the daemon called the detach a deleted interface"
	echo "ok - the daemon logged a detach from outside, not a deleted interface"
	expect_rc "status: b-a no longer attached" 0 fm_in b status --pin-path "$pin"
	expect_out "slot 1 keeps its name, detached" "^ +1 +b-a +[0-9]+ +- +detached from outside; not monitored$"
	expect_rc "detach --all while the daemon holds the pins" 0 fm_in b detach --all --pin-path "$pin"
	expect_out "pins left to the daemon" "^$pin: in use by a running flowmaster \(pid $FM_PID\)"
	check "pins still there" test -e "$pin/counters"
	expect_rc "detach -i b-a again" 0 fm_in b detach -i b-a
	expect_out "nothing left" "^b-a: no flowmaster XDP program attached$"
	fm_stop TERM
	check_eq "daemon exit status after losing its link" "$FM_RC" 0
	check "the daemon removed its pins" test ! -e "$pin"
}

# A program that is not fm_xdp stays, with -i and with --all.
test_detach_leaves_foreign_program()
{
	need_fm
	local obj=$BUILD/bpf/bench.bpf.o before
	[[ -f $obj ]] || skip "$obj not built: no foreign XDP program to attach"
	two_hosts
	ip -n "$(lab_ns b)" link set dev b-a xdpgeneric obj "$obj" sec xdp ||
		skip "ip cannot attach $obj (iproute2 without libbpf?)"
	before=$(xdp_prog_on b b-a)
	[[ $before == *fm_xdp* ]] && fail "the foreign program is named fm_xdp"
	info "foreign: $before"
	expect_rc "detach -i b-a with a foreign program" 0 fm_in b detach -i b-a
	expect_out "left alone, with its name" "^b-a: XDP program '[a-z_]+' \(prog id [0-9]+, generic\) is not flowmaster's; left alone$"
	check_eq "still attached after detach -i" "$(xdp_prog_on b b-a)" "$before"
	expect_rc "detach --all with a foreign program" 0 fm_in b detach --all --pin-path "$(lab_pin_dir)"
	check_eq "still attached after detach --all" "$(xdp_prog_on b b-a)" "$before"
	expect_rc "status: not running, foreign program ignored" 0 fm_in b status --pin-path "$(lab_pin_dir)"
	grep -q "note:" <<<"$OUT" && fail "status took the foreign program for flowmaster's: $OUT"
	echo "ok - status does not mention it"
	# A daemon cannot attach over it, and says how to fix that.
	local db=$LAB_TMP/flows.db
	expect_rc "run on an interface with a foreign program" 1 \
		fm_in b run -i b-a --db "$db" --pin-path "$(lab_pin_dir)" --xdp-mode generic
	expect_out "run names the remedy" "another XDP program is already attached"
	check_eq "still attached after the refused run" "$(xdp_prog_on b b-a)" "$before"
}

# fm_xdp attached without a link (by ip, as an older or hand-made setup
# would) survives any crash; detach removes it by XDP_FLAGS_REPLACE.
test_detach_legacy_attachment()
{
	need_fm
	local obj=$BUILD/bpf/flowmaster.bpf.o
	[[ -f $obj ]] || skip "$obj not built"
	two_hosts
	ip -n "$(lab_ns b)" link set dev b-a xdpgeneric obj "$obj" sec xdp ||
		skip "ip cannot attach $obj (iproute2 without libbpf?)"
	[[ $(xdp_prog_on b b-a) == *"name fm_xdp" ]] || fail "fm_xdp not attached by ip"
	expect_rc "status notes an fm_xdp with no pins" 0 fm_in b status --pin-path "$(lab_pin_dir)"
	expect_out "note names the interface" "^note: fm_xdp \(prog id [0-9]+, generic\) is attached to b-a"
	expect_rc "detach -i b-a" 0 fm_in b detach -i b-a
	expect_out "says it had no link" "^b-a: detached fm_xdp \(prog id [0-9]+, generic XDP, attached without a link\)$"
	lab_xdp_attached b b-a && fail "fm_xdp still attached"
	echo "ok - nothing attached to b-a"
}

run_tests "$@"
