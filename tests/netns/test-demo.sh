#!/usr/bin/env bash
# `make demo` end to end (tools/demo.sh with DEMO_DB in a temp dir): it
# exits 0, its database holds ICMP, ICMPv6, TCP (with flags) and UDP
# flows, the reconciliation it prints matches the database, and it leaves
# no namespace, pin or process behind, also when interrupted. Plus the man
# page: it renders, and it documents every option each subcommand's --help
# lists (tools/check-man.sh) and every view the schema creates.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEMO=$ROOT/tools/demo.sh
MAN=$ROOT/flowmaster.8

# run_demo DB: run the demo writing DB; sets DEMO_RC and DEMO_OUT (a file
# holding stdout and stderr). Bounded: the demo takes about 15 s.
run_demo()
{
	DEMO_OUT=$LAB_TMP/demo.out
	info "DEMO_DB=$1 tools/demo.sh"
	DEMO_DB=$1 BUILD=$BUILD timeout -k 5 90 bash "$DEMO" >"$DEMO_OUT" 2>&1
	DEMO_RC=$?
	sed 's/^/#   /' "$DEMO_OUT"
}

# demo_ns: the namespaces the demo said it made (from its output).
demo_ns() { grep -oE 'fm-demo-[0-9]+-[ab]\b' "$DEMO_OUT" | sort -u; }
# demo_pin: the pin path it gave flowmaster.
demo_pin() { grep -oE -- '--pin-path /sys/fs/bpf/[^ ]+' "$DEMO_OUT" | head -n 1 | cut -d' ' -f2; }

# left_nothing: no namespace, pin directory or process of the demo remains.
left_nothing()
{
	local ns pin db=$1
	pin=$(demo_pin)
	[[ -n $pin ]] || fail "the demo printed no --pin-path"
	check "the demo named its namespaces" test -n "$(demo_ns)"
	for ns in $(demo_ns); do
		if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
			fail "namespace $ns left behind"
		fi
	done
	echo "ok - namespaces $(demo_ns | tr '\n' ' ')removed"
	check "pin directory $pin removed" test ! -e "$pin"
	check "no pins of the demo under /sys/fs/bpf" \
		test -z "$(find /sys/fs/bpf -maxdepth 1 -name "${pin%-pin-*}"'-*' -print -quit)"
	check "no process left using $db" test -z "$(pgrep -f -- "$db")"
}

test_demo()
{
	need_fm
	need_cmd socat sqlite3 trafgen ping ss
	local d db line rx stored
	d=$(lab_tmpdir)
	db=$d/demo.db
	run_demo "$db"
	check_eq "demo exit status" "$DEMO_RC" 0
	check "demo.db left for the user" test -s "$db"
	check_eq "protocols with rows (ICMP, TCP, UDP, ICMPv6)" \
		"$(sql "$db" "select group_concat(protocol) from (select distinct protocol from flows where protocol in (1, 6, 17, 58) order by protocol);")" \
		"1,6,17,58"
	check_eq "a TCP flow with SYN, ACK and FIN seen, ended by tcp_end" \
		"$(sql "$db" "select count(*) > 0 from flows where protocol = 6 and tcp_flags & 19 = 19 and end_reason = 'tcp_end';")" 1
	check_eq "ping's flows (requests in, replies out) expired idle while the daemon ran" \
		"$(sql "$db" "select count(*) from flows where protocol in (1, 58) and icmp_type in (0, 8, 128, 129) and end_reason = 'idle';")" 4
	check_eq "ICMPv6 echo requests from 2001:2::1" \
		"$(sql "$db" "select sum(packets) from flows where protocol = 58 and src_ip = '2001:2::1' and icmp_type = 128;")" 20
	check_eq "UDP frames from trafgen" \
		"$(sql "$db" "select sum(packets) from flows where protocol = 17 and dst_port = 9;")" 60000
	line=$(grep -E '^reconciliation: ' "$DEMO_OUT") || fail "no reconciliation line"
	[[ $line =~ received\ ([0-9]+)\ frames.*holds\ ([0-9]+)\ packets.*:\ they\ match$ ]] ||
		fail "reconciliation line does not say they match: $line"
	rx=${BASH_REMATCH[1]} stored=${BASH_REMATCH[2]}
	check_eq "printed frames received == printed packets stored" "$rx" "$stored"
	check_eq "printed packets stored == sum(packets) arriving on b-a in demo.db" "$stored" \
		"$(sql "$db" "select sum(packets) from flows where $(on_iface b-a) and direction = 'ingress';")"
	line=$(grep -E '^reconciliation, replies: ' "$DEMO_OUT") || fail "no reconciliation line for the replies"
	[[ $line =~ sent\ ([0-9]+)\ frames.*holds\ ([0-9]+)\ egress\ packets.*:\ they\ match$ ]] ||
		fail "reconciliation line for the replies does not say they match: $line"
	check_eq "printed frames sent == printed egress packets stored" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	check_eq "echo replies from b stored (egress)" \
		"$(sql "$db" "select sum(packets) from flows where direction = 'egress' and protocol = 1 and icmp_type = 0;")" \
		"$(sql "$db" "select sum(packets) from flows where direction = 'ingress' and protocol = 1 and icmp_type = 8;")"
	check_eq "all packets in demo.db are b-a's" "$(sql "$db" "select sum(packets) from flows;")" \
		"$((stored + BASH_REMATCH[2]))"
	check "demo printed flowmaster top" grep -q '^top talkers by bytes' "$DEMO_OUT"
	check "demo printed the sample query's header" grep -qE '^direction +protocol +src_ip' "$DEMO_OUT"
	check "demo says how to open demo.db" grep -qF "sqlite3 $db 'select * from top_talkers'" "$DEMO_OUT"
	left_nothing "$db"
}

# ^C while traffic flows: the daemon drains and exits, the demo exits 130
# and removes everything.
test_demo_interrupted()
{
	need_fm
	need_cmd socat sqlite3 trafgen ping ss setsid
	local d db pid i
	d=$(lab_tmpdir)
	db=$d/demo.db
	DEMO_OUT=$LAB_TMP/demo.out
	# A process group of its own with SIGINT not ignored (as it is for
	# background jobs of a script), like a terminal's foreground job.
	DEMO_DB=$db BUILD=$BUILD setsid env --default-signal=INT \
		timeout -k 5 90 bash "$DEMO" >"$DEMO_OUT" 2>&1 &
	pid=$!
	LAB_PIDS+=("$pid")
	wait_for 30 "the demo's ping phase" grep -q 'ping .*replies' "$DEMO_OUT"
	info "SIGINT to the demo's process group"
	kill -INT -- "-$pid" || fail "cannot signal the demo"
	lab_wait_exit "$pid" 30
	DEMO_RC=$?
	sed 's/^/#   /' "$DEMO_OUT"
	check_eq "demo exit status after ^C" "$DEMO_RC" 130
	check "demo says it was interrupted" grep -q '^demo: interrupted' "$DEMO_OUT"
	check "demo tore the hosts down" grep -q '^tearing down the test hosts' "$DEMO_OUT"
	for ((i = 0; i < 20; i++)); do
		[[ -z $(pgrep -f -- "$db") ]] && break
		sleep 0.1
	done
	left_nothing "$db"
}

# The daemon failing to start: a clear error, exit 1, nothing left behind.
test_demo_daemon_fails()
{
	need_cmd socat sqlite3 trafgen ping ss
	local d fake
	d=$(lab_tmpdir)
	fake=$d/flowmaster
	printf '#!/bin/sh\necho "error: b-a: cannot attach (a test of the demo)" >&2\nexit 1\n' >"$fake"
	chmod +x "$fake"
	DEMO_OUT=$LAB_TMP/demo.out
	DEMO_DB=$d/demo.db FM=$fake timeout -k 5 60 bash "$DEMO" >"$DEMO_OUT" 2>&1
	DEMO_RC=$?
	sed 's/^/#   /' "$DEMO_OUT"
	check_eq "demo exit status" "$DEMO_RC" 1
	check "says the daemon did not start" grep -q '^demo: flowmaster exited with status 1 before attaching' "$DEMO_OUT"
	check "shows the daemon's log" grep -q 'cannot attach (a test of the demo)' "$DEMO_OUT"
	check "says it failed" grep -q '^demo: FAILED' "$DEMO_OUT"
	left_nothing "$d/demo.db"
}

# A database that is not a flowmaster one is never overwritten.
test_demo_refuses_foreign_db()
{
	local d
	d=$(lab_tmpdir)
	echo "precious" >"$d/notes.db"
	DEMO_DB=$d/notes.db BUILD=$BUILD timeout 20 bash "$DEMO" >"$LAB_TMP/out" 2>&1
	check_eq "demo exit status" "$?" 1
	check "says why" grep -q 'is not a flowmaster database' "$LAB_TMP/out"
	check_eq "file untouched" "$(cat "$d/notes.db")" "precious"
}

# Not root: one clear line, exit 1, nothing created.
test_demo_needs_root()
{
	need_cmd setpriv
	local out rc
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		env BUILD="$BUILD" bash "$DEMO" 2>&1)
	rc=$?
	if ((rc == 126 || rc == 127)) || grep -q 'Permission denied' <<<"$out"; then
		skip "nobody cannot read $DEMO: $out"
	fi
	check_eq "exit status as nobody" "$rc" 1
	check_eq "message" "$out" "make demo needs root: sudo make demo"
}

# The man page renders without warnings and names every option of every
# subcommand's --help, with its default (tools/check-man.sh).
test_man_page()
{
	need_fm
	check "flowmaster.8 exists" test -f "$MAN"
	check "tools/check-man.sh: man page and --help agree" \
		bash "$ROOT/tools/check-man.sh" "$FM" "$MAN"
	if command -v groff >/dev/null; then
		local warn
		warn=$(groff -man -Tutf8 -ww -z "$MAN" 2>&1)
		check_eq "groff -ww warnings" "$warn" ""
	else
		info "groff not installed: rendering not checked"
	fi
	if ! command -v man >/dev/null; then
		info "man (man-db) not installed: man -l not checked"
	else
		local out
		out=$(MANWIDTH=80 man -l "$MAN" 2>&1)
		check "man -l renders NAME" grep -q '^NAME' <<<"$out"
		check "man -l renders the run synopsis" grep -qE 'flowmaster run +-i' <<<"$out"
	fi
}

# Every view the schema creates is described in the man page.
test_man_views()
{
	need_fm
	need_cmd sqlite3
	local d v views
	d=$(lab_tmpdir)
	lab_host b --no-ipv6
	lab_host a --no-ipv6
	lab_link a b
	fm_start b -i b-a --db "$d/v.db"
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	views=$(sql "$d/v.db" "select name from sqlite_master where type = 'view' order by name;")
	check "the schema has views" test -n "$views"
	for v in $views; do
		check "view $v in flowmaster.8" grep -qx "\.B $v" "$MAN"
	done
	for v in interfaces devices flows metrics; do
		check "table $v in flowmaster.8" grep -q "^\.B $v\$" "$MAN"
	done
}

run_tests "$@"
