# shellcheck shell=bash
# tests/netns/lib.sh: runner for the network-namespace suites, in the
# manner of xdp-tools' test_runner.sh. A suite file defines test_*
# functions, sources this file and ends with `run_tests "$@"`.
#
#   bash tests/netns/test-lab.sh                 # every test of the suite
#   bash tests/netns/test-lab.sh test_quiet_link # only the tests named
#   V=1 bash tests/netns/test-lab.sh             # show every test's output
#
# Each test runs in its own subshell with its own lab (tools/lab.sh):
# namespaces fm-PID-N-*, pins and temp dir, all removed by the lab's EXIT
# trap whether the test passes, fails, is skipped or is killed for running
# longer than TEST_TIMEOUT seconds. Output is hidden unless the test fails
# or V=1. A test passes by returning 0, is skipped by `skip WHY` (status
# 249) and fails with `fail WHY` or any other status. The last line is
# "netns-NAME: P passed, F failed, S skipped", which tools/run-tests.sh adds
# up; the exit status is 1 if a test failed.
set -u

NETNS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$NETNS_DIR/../.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FM=${FM:-$BUILD/flowmaster}
TEST_TIMEOUT=${TEST_TIMEOUT:-120}
SKIPPED_TEST=249
SUITE_FILE=$(realpath "$0")
SUITE=netns-$(basename "$0" .sh)
SUITE=${SUITE/netns-test-/netns-}

# shellcheck source=tools/lab.sh
source "$ROOT/tools/lab.sh"

# --- helpers for tests ----------------------------------------------------

info() { echo "# $*"; }

# fail WHY: end the test as failed (the lab's EXIT trap cleans up).
fail()
{
	echo "FAIL: $*" >&2
	if [[ -n ${FM_LOG:-} && -s ${FM_LOG:-} ]]; then
		echo "--- flowmaster log ($FM_LOG), last 40 lines:" >&2
		tail -n 40 "$FM_LOG" >&2
	fi
	exit 1
}

# skip WHY: end the test as skipped.
skip()
{
	echo "SKIP: $*"
	exit $SKIPPED_TEST
}

# check_eq WHAT GOT WANT: fail unless GOT == WANT (as strings).
check_eq()
{
	if [[ "$2" != "$3" ]]; then
		fail "$1: got '$2', want '$3'"
	fi
	echo "ok - $1 = $2"
}

# check WHAT CMD...: fail unless CMD succeeds.
check()
{
	local what=$1
	shift
	"$@" || fail "$what"
	echo "ok - $what"
}

# wait_for SECONDS WHAT CMD...: poll CMD every 0.1 s until it succeeds;
# fail after SECONDS.
wait_for()
{
	local t=$1 what=$2 i
	shift 2
	for ((i = 0; i < t * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	fail "timed out after ${t}s waiting for: $what"
}

# need_cmd CMD...: skip the test unless every CMD is installed.
need_cmd()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || skip "$c is not installed (tools/install-deps.sh test)"
	done
}

# need_fm: skip unless build/flowmaster exists (run `make` first).
need_fm()
{
	[[ -x $FM ]] || skip "$FM not built (run make)"
}

# sql DB QUERY: run QUERY with the sqlite3 CLI, rows as a|b|c.
sql()
{
	sqlite3 -batch -noheader -cmd '.timeout 5000' "$1" "$2"
}

# log_has PATTERN [LOG]: the daemon's log has a line matching the ERE.
log_has() { grep -qE -- "$1" "${2:-$FM_LOG}"; }

# check_log WHAT PATTERN [LOG]: fail unless the log has a matching line.
check_log()
{
	log_has "$2" "${3:-$FM_LOG}" || fail "$1: no line matching /$2/ in the log"
	echo "ok - $1: $(grep -m1 -E -- "$2" "${3:-$FM_LOG}")"
}

# metric DB NAME: the largest value written for a metric (the counters are
# cumulative), as an integer.
metric()
{
	sql "$1" "select coalesce(cast(max(value) as integer), 0) from metrics where name = '$2';"
}

# --- the daemon -----------------------------------------------------------

# fm_start HOST ARGS...: start `flowmaster run ARGS` in HOST's namespace
# (nsenter, so its pins are visible here), adding --pin-path of the lab's
# own unless ARGS has one (and --config none unless ARGS has --config), and
# wait (20 s at most) until XDP is attached to every -i interface (egress:
# until the log says so). Without --direction in ARGS it adds --direction
# ingress: the tests written before egress count what arrives only. Sets
# FM_PID and FM_LOG (stdout+stderr). Fails the test if the daemon exits
# first.
FM_N=0
fm_start()
{
	local host=$1 a ifaces=() prev="" pin=1 conf=1 dir="" egress_only=0 need_egress=0
	shift
	for a in "$@"; do
		[[ $prev == -i || $prev == --interface ]] && ifaces+=("$a")
		[[ $a == --pin-path || $a == --pin-path=* ]] && pin=0
		[[ $a == --config || $a == --config=* ]] && conf=0
		[[ $prev == --direction ]] && dir=$a
		[[ $a == --direction=* ]] && dir=${a#--direction=}
		prev=$a
	done
	[[ $dir == egress ]] && egress_only=1
	[[ $dir == egress || $dir == both ]] && need_egress=1
	local args=("$@")
	((pin)) && args+=(--pin-path "$(lab_pin_dir)")
	# Not the host's /etc/flowmaster/flowmaster.conf, should it be installed.
	((conf)) && args+=(--config none)
	[[ -n $dir ]] || args+=(--direction ingress)
	FM_N=$((FM_N + 1))
	FM_LOG=$LAB_TMP/flowmaster-$FM_N.log
	info "start: flowmaster run ${args[*]} (in $host)"
	# SIGINT is ignored by background jobs of a script; give the daemon
	# the default back so that SIGINT can be tested like SIGTERM.
	lab_bg "$host" "$FM_LOG" env --default-signal=INT "$FM" run "${args[@]}"
	FM_PID=$LAB_PID
	local i ok
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$FM_PID" 2>/dev/null; then
			wait "$FM_PID"
			fail "flowmaster exited with status $? before attaching"
		fi
		ok=1
		for a in "${ifaces[@]}"; do
			((egress_only)) || lab_xdp_attached "$host" "$a" || ok=0
			((need_egress)) && { grep -q "$a: egress attached" "$FM_LOG" 2>/dev/null || ok=0; }
		done
		((ok)) && return 0
		sleep 0.1
	done
	fail "flowmaster did not attach to ${ifaces[*]} within 20 s"
}

# fm_stop [SIGNAL] [PID]: send SIGNAL (TERM) to the daemon and wait for it
# (FM_STOP_WAIT s, 15 by default, at most); sets FM_RC to its exit status
# (128+n if killed by n).
fm_stop()
{
	local sig=${1:-TERM} pid=${2:-$FM_PID}
	kill -"$sig" "$pid" 2>/dev/null || fail "flowmaster (pid $pid) is not running before SIG$sig"
	lab_wait_exit "$pid" "${FM_STOP_WAIT:-15}"
	FM_RC=$?
	((FM_RC == 124)) && kill -0 "$pid" 2>/dev/null &&
		fail "flowmaster did not exit within ${FM_STOP_WAIT:-15} s of SIG$sig"
	info "flowmaster exited with status $FM_RC after SIG$sig"
	return 0
}

# fm_run HOST ARGS...: run `flowmaster ARGS` in HOST's namespace in the
# foreground (20 s at most); sets FM_RC and FM_OUT (stdout+stderr).
fm_run()
{
	local host=$1
	shift
	FM_OUT=$(lab_nsexec "$host" timeout -k 2 20 "$FM" "$@" 2>&1)
	FM_RC=$?
	info "flowmaster $* -> status $FM_RC"
	head -n 20 <<<"$FM_OUT" | sed 's/^/#   /'
}

# sql_at_least DB QUERY N: true once QUERY (one number) gives N or more;
# false while the database or its tables do not exist yet.
sql_at_least()
{
	local v
	v=$(sql "$1" "$2" 2>/dev/null) || return 1
	((${v:-0} >= $3))
}

# rx_at_least HOST IFACE N: true once the interface has received N frames.
rx_at_least() { (($(lab_rx_packets "$1" "$2") >= $3)); }

# fm_running: true while the daemon started by fm_start runs.
fm_running() { kill -0 "$FM_PID" 2>/dev/null; }

# on_iface IFACE: an SQL condition on flows for the interface named IFACE
# (every interfaces row of that name: a restart may add one).
on_iface() { echo "interface_id in (select id from interfaces where name = '$1')"; }

# iface_sum DB IFACE COLUMN: sum of flows.COLUMN for the interface named
# IFACE (0 if none).
iface_sum()
{
	sql "$1" "select coalesce(sum($3), 0) from flows where $(on_iface "$2");"
}

# frame_bytes DB IFACE RX_PACKETS RX_BYTES: the bytes of the frames behind
# a veth rx counter delta. veth counts rx bytes after the 14-byte Ethernet
# header is pulled when XDP runs natively on it, and whole frames
# otherwise; the mode comes from the interfaces table.
frame_bytes()
{
	local mode
	mode=$(sql "$1" "select xdp_mode from interfaces where name = '$2' order by id desc limit 1;")
	if [[ $mode == native ]]; then
		echo $(($4 + 14 * $3))
	else
		echo "$4"
	fi
}

# --- the runner -----------------------------------------------------------

RUN_CHILD="" RUN_LOG=""
run_abort()
{
	# The test's process group: its shell cleans up, its commands end.
	[[ -n $RUN_CHILD ]] && kill -TERM -- "-$RUN_CHILD" 2>/dev/null && wait "$RUN_CHILD" 2>/dev/null
	[[ -n $RUN_LOG ]] && rm -f "$RUN_LOG"
	echo "$SUITE: interrupted"
	exit 130
}

# run_tests [TEST...]: run the named tests, or every test_* function in the
# suite file in the order written.
run_tests()
{
	local tests=() t passed=0 failed=0 skipped=0 n=0
	local log rc start elapsed ticks
	if (($#)); then
		tests=("$@")
	else
		mapfile -t tests < <(grep -oE '^test_[A-Za-z0-9_]+' "$SUITE_FILE" | awk '!seen[$0]++')
	fi
	if ((EUID != 0)); then
		for t in "${tests[@]}"; do
			echo "SKIP  $t: needs root"
		done
		echo "$SUITE: 0 passed, 0 failed, ${#tests[@]} skipped"
		return 0
	fi
	trap run_abort INT TERM HUP
	# Job control: each test runs in a process group of its own, so a
	# timeout or ^C can end whatever it is waiting for, not just its shell.
	set -m
	for t in "${tests[@]}"; do
		if ! declare -F "$t" >/dev/null; then
			echo "FAIL  $t: no such test"
			failed=$((failed + 1))
			continue
		fi
		n=$((n + 1))
		log=$(mktemp "${TMPDIR:-/tmp}/$SUITE.$t.XXXXXX")
		RUN_LOG=$log
		start=$(date +%s%N)
		(
			# shellcheck disable=SC2034 # read by tools/lab.sh
			LAB_ID=fm-$$-$n
			trap - INT TERM HUP
			lab_init || exit 1
			set -u
			"$t"
		) >>"$log" 2>&1 &
		RUN_CHILD=$!
		ticks=0
		while kill -0 "$RUN_CHILD" 2>/dev/null; do
			sleep 0.1
			ticks=$((ticks + 1))
			if ((ticks > TEST_TIMEOUT * 10)); then
				kill -TERM -- "-$RUN_CHILD" 2>/dev/null
				break
			fi
		done
		wait "$RUN_CHILD" 2>/dev/null
		rc=$?
		RUN_CHILD=""
		if ((ticks > TEST_TIMEOUT * 10)); then
			echo "FAIL: timed out after ${TEST_TIMEOUT}s (TEST_TIMEOUT)" >>"$log"
			rc=1
		fi
		elapsed=$((($(date +%s%N) - start) / 1000000))
		elapsed=$(printf '%d.%01ds' $((elapsed / 1000)) $((elapsed % 1000 / 100)))
		if ((rc == 0)); then
			passed=$((passed + 1))
			echo "PASS  $t ($elapsed)"
			[[ ${V:-0} != 0 ]] && sed 's/^/    /' "$log"
		elif ((rc == SKIPPED_TEST)); then
			skipped=$((skipped + 1))
			echo "SKIP  $t: $(grep -m1 '^SKIP: ' "$log" | sed 's/^SKIP: //')"
			[[ ${V:-0} != 0 ]] && sed 's/^/    /' "$log"
		else
			failed=$((failed + 1))
			echo "FAIL  $t (status $rc, $elapsed)"
			sed 's/^/    /' "$log"
		fi
		rm -f "$log"
		# A test must leave nothing behind; sweep and say so if it did.
		local ns
		for ns in $(ip netns list | awk -v p="fm-$$-$n-" 'index($1, p) == 1 {print $1}'); do
			echo "WARN  $t left namespace $ns behind; deleting it"
			ip netns del "$ns"
		done
	done
	set +m
	trap - INT TERM HUP
	echo "$SUITE: $passed passed, $failed failed, $skipped skipped"
	((failed == 0))
}
