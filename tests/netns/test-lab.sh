#!/usr/bin/env bash
# The test-host lab itself (tools/lab.sh), without flowmaster: hosts and
# links come up usable at once, trafgen sends exactly the frames asked for
# and the receiving veth counts exactly those, cleanup removes everything.
# The flowmaster suites rely on all of this for their exact counts.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

test_hosts_and_addresses()
{
	lab_host a
	lab_host b
	lab_link a b
	check_eq "a's address" "$(lab_ip4 a a-b)" 198.18.0.1
	check_eq "b's address" "$(lab_ip4 b b-a)" 198.18.0.2
	check_eq "b's IPv6 address" "$(lab_ip6 b b-a)" 2001:2::2
	check_eq "a's peer" "$(lab_peer a a-b)" "b b-a"
	check "no lab interface in the root namespace" \
		bash -c '! ip -o link show | grep -qE " (a-b|b-a)[@:]"'
	# No DAD: IPv6 works the moment the link is up.
	check "IPv4 ping a -> b" lab_nsexec a ping -q -c 1 -W 2 198.18.0.2
	check "IPv6 ping a -> b, no DAD wait" lab_nsexec a ping -6 -q -c 1 -W 2 2001:2::2
}

# A second link gets the next subnet; a host can hold several links.
test_two_links()
{
	lab_host m
	lab_host a
	lab_host b
	lab_link a m
	lab_link b m
	check_eq "link 1 address in m" "$(lab_ip4 m m-b)" 198.18.1.2
	check "ping over link 0" lab_nsexec a ping -q -c 1 -W 2 "$(lab_ip4 m m-a)"
	check "ping over link 1" lab_nsexec b ping -q -c 1 -W 2 "$(lab_ip4 m m-b)"
	check "IPv6 ping over link 1" lab_nsexec b ping -6 -q -c 1 -W 2 "$(lab_ip6 m m-b)"
}

# Hosts without IPv6 are silent: nothing arrives that the test did not send.
test_quiet_link()
{
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local r0
	r0=$(lab_rx_packets b b-a)
	sleep 2
	check_eq "frames received on an idle link in 2 s" "$(($(lab_rx_packets b b-a) - r0))" 0
}

# exact_send SIZE COUNT FLOWS RATE: trafgen's COUNT frames all arrive.
exact_send()
{
	local size=$1 count=$2 flows=$3 rate=$4 r0 b0 t0
	r0=$(lab_rx_packets b b-a) b0=$(lab_rx_bytes b b-a) t0=$(lab_tx_packets a a-b)
	check "trafgen $count x $size B, $flows flows, rate $rate" \
		lab_trafgen a a-b "$count" "$flows" "$rate" "$size"
	wait_for 5 "$count frames received" rx_at_least b b-a $((r0 + count))
	sleep 0.2
	check_eq "frames sent by a" "$(($(lab_tx_packets a a-b) - t0))" "$count"
	check_eq "frames received by b" "$(($(lab_rx_packets b b-a) - r0))" "$count"
	check_eq "bytes received by b" "$(($(lab_rx_bytes b b-a) - b0))" "$((count * size))"
	check_eq "b's rx drops" "$(lab_rx_dropped b b-a)" 0
}

test_trafgen_exact_rate()
{
	need_cmd trafgen
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	exact_send 60 3000 10 5000		# paced frame by frame (-t)
	exact_send 60 50000 1000 100000		# per-second bursts (-b)
	exact_send 1000 20000 7 50000
}

test_trafgen_exact_full_speed()
{
	need_cmd trafgen
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	exact_send 60 200000 1000 0
	exact_send 60 100000 20000 0	# run-time port increments
	exact_send 128 100000 100000 0	# ports x addresses
}

# The generated config cycles over exactly FLOWS distinct flows.
test_trafgen_config_flows()
{
	local d f
	d=$(lab_tmpdir)
	for f in 1 1000 5000 100000; do
		lab_trafgen_cfg "$d/$f.cfg" 02:00:00:00:00:01 02:00:00:00:00:02 \
			198.18.0.1 198.18.0.2 "$f" 60 || fail "config for $f flows"
	done
	check_eq "static packets for 1000 flows" "$(grep -c '^{' "$d/1000.cfg")" 1000
	check_eq "distinct ports for 1000 flows" \
		"$(grep -o 'sp=[0-9]*' "$d/1000.cfg" | sort -u | wc -l)" 1000
	check "5000 flows by port increments" grep -q 'sp=dinc(10000, 14999)' "$d/5000.cfg"
	check "runts refused" bash -c "! (source '$ROOT/tools/lab.sh'; lab_trafgen_cfg /dev/null a b c d 1 41 2>/dev/null)"
}

# lab_cleanup removes namespaces, pins, temp dirs and processes.
test_cleanup()
{
	# shellcheck disable=SC2031 # each test has its own LAB_ID (lib.sh)
	local inner=$LAB_ID-inner outer=$LAB_TMP pid
	(
		LAB_ID=$inner LAB_TMP=""
		lab_init
		lab_host x
		lab_host y
		lab_link x y
		mkdir "$(lab_pin_dir)"
		lab_bg x /dev/null sleep 30
		echo "$LAB_PID" >"$outer/inner.pid"
		exit 3
	)
	check_eq "inner status kept" "$?" 3
	pid=$(cat "$outer/inner.pid")
	check "namespaces gone" bash -c "! ip netns list | grep -q '^$inner-'"
	check "pins gone" bash -c "! ls -d /sys/fs/bpf/$inner-pin-* 2>/dev/null"
	check "temp dirs gone" bash -c "! ls -d ${TMPDIR:-/tmp}/$inner.* 2>/dev/null"
	check "background process gone" bash -c "! kill -0 $pid 2>/dev/null"
}

run_tests "$@"
