# shellcheck shell=bash
# Helpers of the IPFIX suites (test-ipfix.sh, test-ipfix-interop.sh):
# nfcapd and flowmaster collect in a lab host, and what nfdump read.

# udp_listening HOST PORT: a UDP socket is bound to PORT in HOST.
udp_listening()
{
	lab_nsexec "$1" ss -Hlun "sport = :$2" | grep -q .
}

# nfcapd_start HOST DIR PORT [BUFLEN]: nfcapd on HOST's loopback, files in
# DIR, a socket receive buffer of BUFLEN bytes (8 MiB asked for: the
# kernel caps it at net.core.rmem_max).
nfcapd_start()
{
	lab_bg "$1" "$LAB_TMP/nfcapd.log" nfcapd -w "$2" -p "$3" -b 127.0.0.1 -t 3600 \
		-B "${4:-8388608}"
	# shellcheck disable=SC2034 # read by the suites
	NFCAPD_PID=$LAB_PID
	wait_for 5 "nfcapd listening" udp_listening "$1" "$3"
}

# nfdump_totals DIR: "flows|packets|bytes" of every file nfcapd wrote.
nfdump_totals()
{
	nfdump -R "$1" -q -N -o 'fmt:%pkt %byt' 2>/dev/null |
		awk '{ f++; p += $1; b += $2 } END { printf "%d|%d|%d\n", f, p, b }'
}

# collect_start HOST LOG ARGS...: flowmaster collect ARGS in HOST; waits
# until its socket is bound to the port of --listen. Sets COLLECT_PID.
collect_start()
{
	local host=$1 log=$2 port
	shift 2
	port=$(sed -n 's/.*--listen [^ ]*:\([0-9]*\).*/\1/p' <<<"$*")
	lab_bg "$host" "$log" "$FM" collect "$@"
	# shellcheck disable=SC2034 # read by collect_stop and the suites
	COLLECT_PID=$LAB_PID
	wait_for 10 "flowmaster collect listening on $port" udp_listening "$host" "$port"
}

# collect_stop: SIGTERM; the collector must exit 0.
collect_stop()
{
	kill -TERM "$COLLECT_PID"
	lab_wait_exit "$COLLECT_PID" 15
	local rc=$?
	check_eq "collect's exit status" "$rc" 0
}
