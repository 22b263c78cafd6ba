#!/usr/bin/env bash
# flowmaster run, refusals: usage errors exit 2, runtime errors exit 1, each
# with a message that names the problem, and none of them leaves anything
# attached. Every run happens in a test host, on a test interface.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

one_link()
{
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	DB=$LAB_TMP/flows.db
	PIN=$(lab_pin_dir)
}

# expect HOST STATUS PATTERN WHAT ARGS...: `flowmaster run ARGS` in HOST
# exits with STATUS and says something matching PATTERN (grep -Ei).
expect()
{
	local host=$1 status=$2 pat=$3 what=$4
	shift 4
	fm_run "$host" run "$@"
	[[ $FM_RC == "$status" ]] || fail "$what: exit status $FM_RC, want $status; output: $FM_OUT"
	grep -Eiq -- "$pat" <<<"$FM_OUT" || fail "$what: message does not match /$pat/: $FM_OUT"
	echo "ok - $what: status $status, says /$pat/"
}

check_nothing_attached()
{
	lab_xdp_attached b b-a && fail "XDP left attached to b-a"
	echo "ok - nothing attached"
}

test_help()
{
	need_fm
	one_link
	expect b 0 'idle-timeout' "--help" --help
	expect b 0 '--duration SECONDS +stop after this long .*0: run' "--help says what --duration 0 does" --help
	expect b 0 '--memory-limit MB +the daemon.s memory budget in MiB' "--help: --memory-limit is a budget" --help
}

test_usage_errors()
{
	need_fm
	one_link
	expect b 2 'bogus' "unknown flag" -i b-a --db "$DB" --pin-path "$PIN" --bogus
	expect b 2 'idle-timeout' "--idle-timeout -5" -i b-a --db "$DB" --pin-path "$PIN" --idle-timeout -5
	expect b 2 'active-timeout' "--active-timeout -1" -i b-a --db "$DB" --pin-path "$PIN" --active-timeout -1
	expect b 2 'poll-interval' "--poll-interval abc" -i b-a --db "$DB" --pin-path "$PIN" --poll-interval abc
	expect b 2 'xdp-mode' "--xdp-mode fast" -i b-a --db "$DB" --pin-path "$PIN" --xdp-mode fast
	expect b 2 'duration' "--duration 1x" -i b-a --db "$DB" --pin-path "$PIN" --duration 1x
	expect b 2 'interface|-i' "no -i" --db "$DB" --pin-path "$PIN"
	expect b 2 '.' "stray argument" -i b-a --db "$DB" --pin-path "$PIN" extra
	expect b 2 '^flowmaster: run: -q \(--quiet\) and -v \(--verbose\) cannot be given together$' \
		"-q with -v" -i b-a --db "$DB" --pin-path "$PIN" -q -v
	expect b 2 "^flowmaster: --idle-timeout: '99999m' is more than 1d \(86400 s\)$" \
		"--idle-timeout 99999m: over the maximum, after the unit" -i b-a --db "$DB" --pin-path "$PIN" --idle-timeout 99999m
	expect b 2 "^flowmaster: --idle-timeout: must be at least 1 s$" "--idle-timeout 0" \
		-i b-a --db "$DB" --pin-path "$PIN" --idle-timeout 0
	[[ -e $DB ]] && fail "a usage error created the database"
	check_nothing_attached
}

test_no_such_interface()
{
	need_fm
	one_link
	expect b 1 'nosuch0.*no such interface|no such interface.*nosuch0' "-i nosuch0" \
		-i nosuch0 --db "$DB" --pin-path "$PIN"
	# One good interface with a bad one: refused as a whole, nothing left on the good one.
	expect b 1 'no such interface' "-i b-a -i nosuch0" \
		-i b-a -i nosuch0 --db "$DB" --pin-path "$PIN"
	check_nothing_attached
}

test_db_in_missing_dir()
{
	need_fm
	one_link
	expect b 1 'no-such-dir' "--db in a missing directory" \
		-i b-a --db "$LAB_TMP/no-such-dir/flows.db" --pin-path "$PIN"
	check_nothing_attached
}

test_db_newer_version()
{
	need_fm
	need_cmd sqlite3
	one_link
	sql "$DB" "PRAGMA user_version = 99;"
	expect b 1 '99' "database with user_version 99" -i b-a --db "$DB" --pin-path "$PIN"
	check_eq "user_version untouched" "$(sql "$DB" "PRAGMA user_version;")" 99
	check_nothing_attached
}

# A second daemon on an interface that already has XDP (from a first
# daemon) is refused and does not disturb the first.
test_xdp_already_attached()
{
	need_fm
	need_cmd trafgen sqlite3
	one_link
	local rx0
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$DB" --pin-path "$PIN"
	local first=$FM_PID
	expect b 1 'b-a' "second daemon on b-a" -i b-a --db "$LAB_TMP/second.db" --pin-path "$(lab_pin_dir)"
	grep -Eiq 'attached|in use|busy|exist' <<<"$FM_OUT" ||
		fail "the message does not say a program is attached: $FM_OUT"
	check "first daemon still running" kill -0 "$first"
	check "first daemon still attached" lab_xdp_attached b b-a
	check "trafgen" lab_trafgen a a-b 10000 10 0
	wait_for 5 "10000 frames at b-a" rx_at_least b b-a $((rx0 + 10000))
	fm_stop TERM "$first"
	check_eq "first daemon's exit status" "$FM_RC" 0
	check_eq "first daemon counted everything" "$(iface_sum "$DB" b-a packets)" 10000
	check_nothing_attached
}

# A program attached by someone else (ip link, not flowmaster) is refused too.
test_foreign_xdp_attached()
{
	need_fm
	need_cmd clang
	one_link
	local obj=$LAB_TMP/pass.bpf.o
	printf '%s\n' '__attribute__((section("xdp"), used)) int xdp_pass(void *ctx) { return 2; }' \
		'__attribute__((section("license"), used)) char _license[] = "GPL";' |
		clang -O2 -target bpf -c -x c - -o "$obj" || skip "clang cannot build a BPF object"
	ip -n "$(lab_ns b)" link set dev b-a xdpgeneric obj "$obj" sec xdp || fail "ip link set xdp"
	expect b 1 'b-a' "daemon on an interface with a foreign XDP program" -i b-a --db "$DB" --pin-path "$PIN"
	check "the foreign program is still there" lab_xdp_attached b b-a
}

# A second daemon on a pin path in use is refused.
test_pin_path_in_use()
{
	need_fm
	one_link
	lab_host c --no-ipv6
	lab_link c b
	fm_start b -i b-a --db "$DB" --pin-path "$PIN"
	local first=$FM_PID
	expect b 1 'pin|in use|running' "second daemon on the same pin path" \
		-i b-c --db "$LAB_TMP/second.db" --pin-path "$PIN"
	lab_xdp_attached b b-c && fail "the refused daemon left XDP on b-c"
	check "first daemon still running" kill -0 "$first"
	fm_stop TERM "$first"
	check_eq "first daemon's exit status" "$FM_RC" 0
}

# A --pin-path outside bpffs says so and how to fix it (it said "Invalid
# argument"), and attaches nothing.
test_pin_path_not_bpffs()
{
	need_fm
	one_link
	local dir
	dir=$(lab_tmpdir)
	expect b 1 "pin path $dir is not on a BPF filesystem \\(bpffs\\): give --pin-path a directory under /sys/fs/bpf" \
		"--pin-path on tmpfs" -i b-a --db "$DB" --pin-path "$dir"
	lab_xdp_attached b b-a && fail "the refused daemon left XDP on b-a"
	[[ -e $DB ]] && fail "the refused daemon created $DB"
	return 0
}

# --duration 0 runs until a signal: still running after a metrics row,
# and a clean stop on SIGTERM.
test_duration_zero_runs_until_stopped()
{
	need_fm
	need_cmd sqlite3
	one_link
	fm_start b -i b-a --db "$DB" --pin-path "$PIN" --duration 0 --metrics-interval 1
	wait_for 10 "a metrics row" sql_at_least "$DB" "select count(*) from metrics;" 1
	fm_running || fail "--duration 0 stopped by itself"
	echo "ok - still running"
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
}

TS_RE='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

# lines_all_match WHAT FILE REGEX: every line of FILE matches REGEX (ERE).
lines_all_match()
{
	local bad
	bad=$(grep -cvE -- "$3" "$2")
	((bad == 0)) || fail "$1: $bad line(s) of $2 do not match /$3/: $(grep -vE -- "$3" "$2" | head -n 3)"
	echo "ok - $1: all $(wc -l <"$2") lines match"
}

# Log lines: a UTC timestamp with milliseconds and a level on every line,
# libbpf's (-vv: many, some printed in pieces) included.
test_log_lines_timestamped()
{
	need_fm
	one_link
	fm_start b -i b-a --db "$DB" --pin-path "$PIN" -vv
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	head -n 3 "$FM_LOG" | sed 's/^/# /'
	lines_all_match "timestamp and level" "$FM_LOG" "^$TS_RE (error|warning|info|debug|libbpf): "
	grep -qE "^$TS_RE info: b-a: attached \(" "$FM_LOG" || fail "no attach line"
	grep -qE "^$TS_RE info: b-a: kernel saw [0-9]+ packets, [0-9]+ exported$" "$FM_LOG" ||
		fail "no reconciliation line"
	grep -qE "^$TS_RE libbpf: " "$FM_LOG" || fail "-vv: no line from libbpf"
	grep -qE "^$TS_RE [a-z]+: libbpf: " "$FM_LOG" && fail "libbpf's tag doubled"
	echo "ok - attach, reconciliation and libbpf lines"
}

# With stderr the journal (JOURNAL_STREAM names its device and inode),
# syslog priorities instead of timestamps; --log-file takes fd 2 away
# from the journal, and its lines have timestamps again.
test_log_lines_journal()
{
	need_fm
	one_link
	local log=$LAB_TMP/journal.log file=$LAB_TMP/file.log
	: >"$log"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$log") lab_bg b "$log" "$FM" run -i b-a --db "$DB" --pin-path "$PIN" -v
	FM_PID=$LAB_PID FM_LOG=$log
	wait_for 20 "attached" grep -q 'b-a: attached' "$log"
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	lines_all_match "journal priorities" "$log" '^<[3-7]>'
	grep -qE '^<6>b-a: attached \(' "$log" || fail "no info line with priority 6"
	grep -qE '^<7>' "$log" || fail "-v: no debug line with priority 7"
	echo "ok - priorities 6 and 7"

	: >"$log"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$log") lab_bg b "$log" "$FM" run -i b-a --db "$DB" \
		--pin-path "$PIN" --log-file "$file"
	FM_PID=$LAB_PID FM_LOG=$file
	wait_for 20 "attached" grep -qs 'b-a: attached' "$file"
	fm_stop TERM
	check_eq "exit status with --log-file" "$FM_RC" 0
	check_eq "nothing on the journal's stream" "$(wc -c <"$log")" 0
	lines_all_match "--log-file: timestamps" "$file" "^$TS_RE (error|warning|info|debug): "
}

run_tests "$@"
