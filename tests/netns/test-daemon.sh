#!/usr/bin/env bash
# flowmaster run, counting: every frame that reaches a monitored interface
# ends up in SQLite, exactly, across full-speed traffic, several interfaces,
# SIGTERM during traffic, --duration, and SIGKILL followed by a restart.
#
# Two test hosts a and b (IPv6 off so the link carries only what the test
# sends), flowmaster in b on its end b-a, trafgen in a; the database is
# read with sqlite3 after the daemon has stopped.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

two_hosts()
{
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
}

# check_detached HOST IFACE: no XDP program is left on the interface.
check_detached()
{
	lab_xdp_attached "$1" "$2" && fail "an XDP program is still attached to $2: $(ip -n "$(lab_ns "$1")" link show dev "$2" | grep prog)"
	echo "ok - nothing attached to $2"
}

# 200,000 frames over 1,000 flows as fast as trafgen sends them.
test_exact_count_full_speed()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db n=200000 flows=1000 len=60 rx0 by0 rx
	rx0=$(lab_rx_packets b b-a) by0=$(lab_rx_bytes b b-a)
	fm_start b -i b-a --db "$db"
	check "trafgen sent $n frames" lab_trafgen a a-b $n $flows 0 $len
	wait_for 5 "$n frames at b-a" rx_at_least b b-a $((rx0 + n))
	sleep 0.2
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	rx=$(($(lab_rx_packets b b-a) - rx0))
	check_eq "frames received by b-a" "$rx" $n
	# veth counts rx bytes after the Ethernet header is pulled when XDP
	# runs natively, before otherwise; hence stored bytes are checked
	# against the frames trafgen built rather than against rx_bytes.
	info "rx bytes delta $(($(lab_rx_bytes b b-a) - by0)) (veth with native XDP counts no Ethernet header)"
	check_eq "sum(packets) for b-a" "$(iface_sum "$db" b-a packets)" "$rx"
	check_eq "sum(bytes) for b-a (frames of $len bytes)" "$(iface_sum "$db" b-a bytes)" $((n * len))
	# Every flow by its 5-tuple: 1000 of them, 200 packets each.
	check_eq "flows | min packets | max packets" "$(sql "$db" "
		select count(*), min(p), max(p) from (
			select sum(packets) p from flows where $(on_iface b-a)
			group by src_ip, dst_ip, src_port, dst_port, protocol);")" \
		"$flows|$((n / flows))|$((n / flows))"
	check_eq "flow keys" "$(sql "$db" "
		select count(distinct src_port), min(src_port), max(src_port),
		       group_concat(distinct src_ip), group_concat(distinct dst_ip),
		       group_concat(distinct dst_port), group_concat(distinct protocol),
		       group_concat(distinct direction)
		from flows where $(on_iface b-a);")" \
		"$flows|10000|$((10000 + flows - 1))|198.18.0.1|198.18.0.2|9|17|ingress"
	check_eq "end reasons (all open at SIGTERM)" \
		"$(sql "$db" "select group_concat(distinct end_reason) from flows where $(on_iface b-a);")" shutdown
	check_eq "interfaces row: name|ifindex|mac|detached" "$(sql "$db" "
		select name, ifindex, mac, detached_ms is not null and detached_ms >= attached_ms,
		       xdp_mode in ('native', 'generic')
		from interfaces;")" \
		"b-a|$(lab_ifindex b b-a)|$(lab_mac b b-a)|1|1"
	check_detached b b-a
}

# Two links into one host, one daemon on both: each interface's sums are
# exact, frames of different sizes so that a mix-up shows in the bytes.
test_two_interfaces()
{
	need_fm
	need_cmd trafgen sqlite3
	lab_host m --no-ipv6
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a m
	lab_link b m
	local db=$LAB_TMP/flows.db ra0 rb0 pa pb
	ra0=$(lab_rx_packets m m-a) rb0=$(lab_rx_packets m m-b)
	fm_start m -i m-a -i m-b --db "$db"
	LAB_TRAFGEN_BG=1 lab_trafgen a a-m 60000 100 0 60
	pa=$LAB_PID
	LAB_TRAFGEN_BG=1 lab_trafgen b b-m 40000 70 0 300
	pb=$LAB_PID
	lab_wait_exit "$pa" 30 || fail "trafgen in a failed"
	lab_wait_exit "$pb" 30 || fail "trafgen in b failed"
	wait_for 5 "all frames at m-a" rx_at_least m m-a $((ra0 + 60000))
	wait_for 5 "all frames at m-b" rx_at_least m m-b $((rb0 + 40000))
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	check_eq "frames received by m-a" "$(($(lab_rx_packets m m-a) - ra0))" 60000
	check_eq "frames received by m-b" "$(($(lab_rx_packets m m-b) - rb0))" 40000
	check_eq "sum(packets) for m-a" "$(iface_sum "$db" m-a packets)" 60000
	check_eq "sum(bytes) for m-a" "$(iface_sum "$db" m-a bytes)" $((60000 * 60))
	check_eq "sum(packets) for m-b" "$(iface_sum "$db" m-b packets)" 40000
	check_eq "sum(bytes) for m-b" "$(iface_sum "$db" m-b bytes)" $((40000 * 300))
	check_eq "flows on m-a | on m-b" "$(sql "$db" "
		select (select count(distinct src_port) from flows where $(on_iface m-a)),
		       (select count(distinct src_port) from flows where $(on_iface m-b));")" "100|70"
	check_eq "sources seen on m-b" \
		"$(sql "$db" "select group_concat(distinct src_ip) from flows where $(on_iface m-b);")" \
		"$(lab_ip4 b b-m)"
	check_eq "interfaces rows" "$(sql "$db" "select group_concat(name, ',') from (select name from interfaces order by name);")" "m-a,m-b"
	check_detached m m-a
	check_detached m m-b
}

# SIGTERM while trafgen is still sending: the daemon exits 0, detaches, and
# has stored every frame that had arrived when it was told to stop (and no
# more than arrived until it exited).
test_sigterm_during_traffic()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db rx0 rx_term rx_exit tg stored
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db"
	# 1.5 M frames at 150 kpps: 10 s, far longer than the test needs.
	LAB_TRAFGEN_BG=1 lab_trafgen a a-b 1500000 500 150000
	tg=$LAB_PID
	wait_for 5 "traffic flowing" rx_at_least b b-a $((rx0 + 150000))
	rx_term=$(lab_rx_packets b b-a)
	fm_stop TERM
	rx_exit=$(lab_rx_packets b b-a)
	fm_running && fail "still running"
	kill -0 "$tg" 2>/dev/null || fail "trafgen ended before the daemon was stopped; the test proves nothing"
	lab_stop "$tg"
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	check_detached b b-a
	stored=$(iface_sum "$db" b-a packets)
	info "arrived before SIGTERM $((rx_term - rx0)), stored $stored, arrived until exit $((rx_exit - rx0))"
	((stored >= rx_term - rx0)) || fail "stored $stored < $((rx_term - rx0)) frames that arrived before SIGTERM"
	((stored <= rx_exit - rx0)) || fail "stored $stored > $((rx_exit - rx0)) frames that arrived at all"
	echo "ok - every frame that arrived before SIGTERM is stored"
}

# SIGTERM with a poll interval's worth of counts still in the kernel maps
# (the sender paused just before): stored == arrived, exactly.
test_sigterm_undrained_exact()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db rx0 tg
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --poll-interval 5000
	LAB_TRAFGEN_BG=1 lab_trafgen a a-b 1500000 2000 150000
	tg=$LAB_PID
	wait_for 5 "traffic flowing" rx_at_least b b-a $((rx0 + 100000))
	# Pause trafgen (timeout, trafgen and its worker) and let the link drain.
	lab_signal_tree STOP "$tg"
	sleep 0.2
	local rx_paused
	rx_paused=$(lab_rx_packets b b-a)
	fm_stop TERM
	local rx=$(($(lab_rx_packets b b-a) - rx0))
	lab_signal_tree CONT "$tg"
	lab_stop "$tg"
	check_eq "frames arriving while paused" "$((rx + rx0 - rx_paused))" 0
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	check_eq "sum(packets) for b-a == frames received" "$(iface_sum "$db" b-a packets)" "$rx"
	check_eq "sum(bytes) for b-a" "$(iface_sum "$db" b-a bytes)" $((rx * 60))
	check_detached b b-a
}

# SIGINT is a stop like SIGTERM; --duration stops by itself.
test_sigint_and_duration()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db rx0
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db"
	check "trafgen" lab_trafgen a a-b 30000 10 0
	wait_for 5 "30000 frames at b-a" rx_at_least b b-a $((rx0 + 30000))
	fm_stop INT
	check_eq "exit status after SIGINT" "$FM_RC" 0
	check_eq "sum(packets) after SIGINT" "$(iface_sum "$db" b-a packets)" 30000
	check_detached b b-a

	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --duration 3
	check "trafgen" lab_trafgen a a-b 20000 10 0
	lab_wait_exit "$FM_PID" 10
	local rc=$?
	((rc == 124)) && fail "--duration 3: still running after 10 s"
	check_eq "exit status after --duration" "$rc" 0
	check_eq "frames in both runs" "$(iface_sum "$db" b-a packets)" 50000
	check_eq "interfaces row detached after each run" \
		"$(sql "$db" "select count(*) >= 1 and count(*) = count(detached_ms) from interfaces where name = 'b-a';")" 1
	check_detached b b-a
}

# SIGKILL: the bpf_link dies with the process, the database stays sound,
# and a daemon restarted on the same database and pin path works.
test_sigkill_then_restart()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db pin rx0 tg before
	pin=$(lab_pin_dir)
	fm_start b -i b-a --db "$db" --pin-path "$pin" --idle-timeout 1 --poll-interval 200
	# Some flows written (idle), then killed while more arrive.
	check "trafgen" lab_trafgen a a-b 5000 50 0
	wait_for 15 "idle rows written" sql_at_least "$db" "select count(*) from flows;" 1
	LAB_TRAFGEN_BG=1 lab_trafgen a a-b 600000 500 150000
	tg=$LAB_PID
	sleep 1
	fm_stop KILL
	check_eq "status (killed by SIGKILL)" "$FM_RC" 137
	lab_stop "$tg"
	check_detached b b-a
	check_eq "PRAGMA integrity_check" "$(sql "$db" "PRAGMA integrity_check;")" ok
	before=$(iface_sum "$db" b-a packets)
	info "rows from the killed daemon hold $before packets"

	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --pin-path "$pin"
	check "trafgen" lab_trafgen a a-b 10000 20 0
	wait_for 5 "10000 frames at b-a" rx_at_least b b-a $((rx0 + 10000))
	fm_stop TERM
	check_eq "exit status of the restarted daemon" "$FM_RC" 0
	check_eq "frames stored by the restarted daemon" "$(($(iface_sum "$db" b-a packets) - before))" 10000
	check_eq "PRAGMA integrity_check after restart" "$(sql "$db" "PRAGMA integrity_check;")" ok
	check_detached b b-a
}

# The daemon writes its metrics at shutdown at least.
test_metrics_at_shutdown()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db m
	fm_start b -i b-a --db "$db"
	check "trafgen" lab_trafgen a a-b 10000 10 0
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	for m in packets_processed flows_stored runtime_seconds; do
		check_eq "metrics rows named $m" \
			"$(sql "$db" "select count(*) > 0 from metrics where name = '$m';")" 1
	done
}

run_tests "$@"
