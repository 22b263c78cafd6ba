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

run_tests "$@"
