#!/usr/bin/env bash
# flowmaster run, flow records: real TCP connections end with 'tcp_end',
# long flows are cut by the active timeout into rows that add up, idle
# flows are written while the daemon runs, and IPv6 TCP, UDP and ICMPv6
# are keyed and typed right. Daemon in b on b-a, traffic from a.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# listening HOST PORT: a TCP socket listens on PORT in HOST.
listening()
{
	lab_nsexec "$1" ss -Hltn "sport = :$2" | grep -q .
}

# A socat connection moving 4 MB a -> b: one flow with SYN and FIN seen,
# written as 'tcp_end' after the linger while the daemon keeps running.
test_tcp_end()
{
	need_fm
	need_cmd socat sqlite3 ss
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/flows.db rx0 by0 dst
	dst=$(lab_ip4 b b-a)
	rx0=$(lab_rx_packets b b-a) by0=$(lab_rx_bytes b b-a)
	fm_start b -i b-a --db "$db" --poll-interval 200
	lab_bg b "$LAB_TMP/server.log" timeout 30 socat -u "TCP-LISTEN:5001,bind=$dst,reuseaddr" OPEN:/dev/null
	wait_for 5 "socat listening in b" listening b 5001
	head -c 4000000 /dev/zero | lab_nsexec a timeout 20 socat -u - "TCP:$dst:5001" ||
		fail "socat client failed"
	wait_for 15 "a 'tcp_end' row" sql_at_least "$db" \
		"select count(*) from flows where protocol = 6 and dst_port = 5001 and end_reason = 'tcp_end';" 1
	check "daemon still running after writing tcp_end" fm_running
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	check_eq "tcp_end rows | SYN and FIN seen | src | packets >= 4 MB / 1448" "$(sql "$db" "
		select count(*), min(tcp_flags & 3), src_ip, min(packets) >= 4000000 / 1448
		from flows where protocol = 6 and dst_port = 5001 and end_reason = 'tcp_end';")" \
		"1|3|$(lab_ip4 a a-b)|1"
	check_eq "sum(packets) for b-a == frames received" \
		"$(iface_sum "$db" b-a packets)" "$(($(lab_rx_packets b b-a) - rx0))"
	check_eq "sum(bytes) for b-a == bytes of the frames received" \
		"$(iface_sum "$db" b-a bytes)" \
		"$(frame_bytes "$db" b-a $(($(lab_rx_packets b b-a) - rx0)) $(($(lab_rx_bytes b b-a) - by0)))"
}

# flow_of ALIAS: the trafgen flow (one flow: source port 10000) on b-a.
flow_of()
{
	echo "$1.interface_id in (select id from interfaces where name = 'b-a')
	      and $1.protocol = 17 and $1.src_port = 10000 and $1.dst_port = 9"
}

# One flow of 6.5 s at 1000 frames/s with --active-timeout 2: at least two
# 'active' rows, then the rest at shutdown, adding up to what was sent.
test_active_timeout()
{
	need_fm
	need_cmd trafgen sqlite3
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/flows.db rx0 n=6500 flow
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --active-timeout 2 --poll-interval 200
	check "trafgen: $n frames, one flow, 1000/s" lab_trafgen a a-b $n 1 1000
	wait_for 5 "$n frames at b-a" rx_at_least b b-a $((rx0 + n))
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	check_eq "frames received" "$(($(lab_rx_packets b b-a) - rx0))" $n
	flow=$(flow_of flows)
	info "rows (reason:packets:ms from first to last packet): $(sql "$db" "
		select end_reason || ':' || packets || ':' || (last_seen_ms - first_seen_ms)
		from flows where $flow order by first_seen_ms;" | tr '\n' ' ')"
	check_eq "'active' rows >= 2" "$(sql "$db" "select count(*) >= 2 from flows where $flow and end_reason = 'active';")" 1
	check_eq "other rows: at most the final one, at shutdown" \
		"$(sql "$db" "select count(*) <= 1 and coalesce(group_concat(end_reason), 'shutdown') = 'shutdown' from flows where $flow and end_reason != 'active';")" 1
	check_eq "sum(packets) over the flow's rows" "$(sql "$db" "select sum(packets) from flows where $flow;")" $n
	check_eq "sum(bytes) over the flow's rows" "$(sql "$db" "select sum(bytes) from flows where $flow;")" $((n * 60))
	check_eq "rows that overlap in time" "$(sql "$db" "
		select count(*) from flows f1 join flows f2 on f1.id != f2.id
		where $(flow_of f1) and $(flow_of f2)
		  and f2.first_seen_ms > f1.first_seen_ms and f2.first_seen_ms < f1.last_seen_ms;")" 0
	check_eq "empty rows" "$(sql "$db" "select count(*) from flows where packets = 0;")" 0
}

# --idle-timeout 1: ten short flows are written as 'idle' while the daemon
# keeps running, and not again at shutdown.
test_idle_timeout()
{
	need_fm
	need_cmd trafgen sqlite3
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/flows.db rx0
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --idle-timeout 1 --poll-interval 200
	check "trafgen: 100 frames, 10 flows" lab_trafgen a a-b 100 10 1000
	# Idle after 1 s, then at most the writer's maximum delay (5 s).
	wait_for 15 "10 'idle' rows" sql_at_least "$db" \
		"select count(*) from flows where end_reason = 'idle';" 10
	check "daemon still running after writing idle rows" fm_running
	check_eq "packets in idle rows" "$(sql "$db" "select sum(packets) from flows where end_reason = 'idle';")" 100
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	check_eq "frames received" "$(($(lab_rx_packets b b-a) - rx0))" 100
	check_eq "rows | packets | end reasons" \
		"$(sql "$db" "select count(*), sum(packets), group_concat(distinct end_reason) from flows where $(on_iface b-a);")" \
		"10|100|idle"
}

# IPv6 between 2001:2::1 and 2001:2::2: TCP, UDP and ICMPv6 flows keyed by
# the benchmarking addresses, with protocol, ports and ICMP type right.
test_ipv6()
{
	need_fm
	need_cmd socat sqlite3 ss ping
	lab_host a
	lab_host b
	lab_link a b
	local db=$LAB_TMP/flows.db a6 b6 i out sent
	a6=$(lab_ip6 a a-b) b6=$(lab_ip6 b b-a)
	fm_start b -i b-a --db "$db" --poll-interval 200
	lab_bg b "$LAB_TMP/server.log" timeout 30 socat -u "TCP6-LISTEN:5002,bind=[$b6],reuseaddr" OPEN:/dev/null
	wait_for 5 "socat listening in b" listening b 5002
	head -c 200000 /dev/zero | lab_nsexec a timeout 10 socat -u - "TCP6:[$b6]:5002" ||
		fail "TCP over IPv6 failed"
	for ((i = 1; i <= 10; i++)); do
		echo "datagram $i" | lab_nsexec a timeout 5 socat -u - "UDP6-SENDTO:[$b6]:5003,sourceport=40000,reuseaddr" ||
			fail "UDP datagram $i over IPv6 failed"
	done
	out=$(lab_nsexec a ping -6 -c 5 -i 0.2 -W 2 "$b6") || fail "ping -6 failed: $out"
	sent=$(sed -nE 's/^([0-9]+) packets transmitted.*/\1/p' <<<"$out")
	check_eq "pings sent" "$sent" 5
	sleep 0.5
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	local pair
	pair="$(on_iface b-a) and src_ip = '$a6' and dst_ip = '$b6'"
	check_eq "TCP: rows with SYN | ethertype | ICMP type" "$(sql "$db" "
		select count(*) > 0, group_concat(distinct eth_type), coalesce(max(icmp_type), 'null')
		from flows where $pair and protocol = 6 and dst_port = 5002 and tcp_flags & 2;")" \
		"1|34525|null"
	check_eq "UDP: packets from port 40000 to 5003" "$(sql "$db" "
		select sum(packets) from flows
		where $pair and protocol = 17 and src_port = 40000 and dst_port = 5003;")" 10
	check_eq "ICMPv6 echo requests (type 128 code 0) | ports" "$(sql "$db" "
		select sum(packets), max(src_port) || ',' || max(dst_port) from flows
		where $pair and protocol = 58 and icmp_type = 128 and icmp_code = 0;")" "$sent|0,0"
	check_eq "IPv4 rows" "$(sql "$db" "select count(*) from flows where $(on_iface b-a) and src_ip like '%.%';")" 0
}

run_tests "$@"
