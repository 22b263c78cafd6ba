#!/usr/bin/env bash
# Both directions: the TC egress program beside XDP. What each hook
# counted equals what the peer's interface or the peer's own flowmaster
# saw, exactly, per direction and per flow: ping and UDP both ways, TCP
# with GSO super-packets (counted as the segments the wire carries), tcx
# and clsact attachment beside a foreign tc filter, and a crashed daemon's
# leftovers.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# dir_sum DB IFACE DIRECTION COLUMN: sum of a column for one direction.
dir_sum()
{
	sql "$1" "select coalesce(sum($4), 0) from flows where $(on_iface "$2") and direction = '$3';"
}

# ping and UDP both ways with --direction both on a-b: egress rows ==
# frames b-a received, ingress rows == frames b-a sent, and each equals
# the hook's own count in the reconciliation line per direction.
test_ping_udp_both_ways()
{
	need_fm
	need_cmd trafgen sqlite3 ping
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/flows.db rx0 tx0 rx tx
	rx0=$(lab_rx_packets b b-a) tx0=$(lab_tx_packets b b-a)
	fm_start a -i a-b --db "$db" --direction both --poll-interval 200
	check "ping a -> b" lab_nsexec a ping -q -c 20 -i 0.01 -W 2 "$(lab_ip4 b b-a)"
	check "ping b -> a" lab_nsexec b ping -q -c 10 -i 0.01 -W 2 "$(lab_ip4 a a-b)"
	LAB_TRAFGEN_QDISC=1 check "UDP a -> b: 20000 frames, 50 flows, full speed" \
		lab_trafgen a a-b 20000 50 0 200
	check "UDP b -> a: 5000 frames, 7 flows" lab_trafgen b b-a 5000 7 0 100
	sleep 0.3
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	rx=$(($(lab_rx_packets b b-a) - rx0)) tx=$(($(lab_tx_packets b b-a) - tx0))
	info "b-a received $rx frames, sent $tx"
	check_eq "egress packets stored == frames b-a received" "$(dir_sum "$db" a-b egress packets)" "$rx"
	check_eq "ingress packets stored == frames b-a sent" "$(dir_sum "$db" a-b ingress packets)" "$tx"
	check_log "egress reconciles with the hook's count" "a-b out: kernel saw $rx packets, $rx exported"
	check_log "ingress reconciles with the hook's count" "a-b in: kernel saw $tx packets, $tx exported"
	check_eq "UDP a -> b egress: packets | bytes | ip_bytes" "$(sql "$db" "
		select sum(packets), sum(bytes), sum(ip_bytes) from flows
		where direction = 'egress' and protocol = 17 and dst_port = 9;")" \
		"20000|4000000|$((20000 * 186))"
	check_eq "echo replies b -> a seen at ingress | requests a -> b at egress" "$(sql "$db" "
		select sum(packets) filter (where direction = 'ingress' and icmp_type = 0),
		       sum(packets) filter (where direction = 'egress' and icmp_type = 8)
		from flows where protocol = 1;")" "20|20"
	# Device totals: a's own traffic now shows as sent (egress) and received.
	local ipa
	ipa=$(lab_ip4 a a-b)
	check_eq "device a: packets sent | received == its flows as source | destination" \
		"$(sql "$db" "select sum(packets_sent), sum(packets_received) from devices where ip = '$ipa';")" \
		"$(sql "$db" "select sum(packets) filter (where src_ip = '$ipa'), sum(packets) filter (where dst_ip = '$ipa') from flows;")"
	check "a sent more than 20000 packets (its UDP out)" test "$(sql "$db" "
		select sum(packets_sent) >= 20020 from devices where ip = '$ipa';")" = 1
}

# The flow key columns both ends of a link share (not interface, direction).
KEYCOLS="src_mac, dst_mac, vlan_id, eth_type, src_ip, dst_ip, src_port, dst_port, protocol, icmp_type, icmp_code"

# flows_of DB DIRECTION: one line per flow key, with its packets and bytes.
flows_of()
{
	sql "$1" "select $KEYCOLS, sum(packets), sum(bytes), sum(ip_bytes) from flows
		  where direction = '$2' and end_reason != 'overflow'
		  group by $KEYCOLS order by $KEYCOLS;"
}

# same_both_ways H1 IF1 DB1 H2 IF2 DB2: H1's egress flows == H2's ingress
# flows per flow (packets, bytes, ip_bytes); when the veth dropped frames
# between the two hooks (its ring full under load: a real loss after the
# egress hook), the totals differ by exactly those drops instead.
same_both_ways()
{
	local drops out in
	# /proc/net/dev, per namespace: IF: rx bytes packets errs drop ... tx
	# bytes packets errs drop (fields 5 and 13 after the name).
	# shellcheck disable=SC2016 # awk's own $ fields
	drops=$(($(lab_nsexec "$1" awk -v i="$2:" '$1 == i { print $13 }' /proc/net/dev) +
		$(lab_nsexec "$4" awk -v i="$5:" '$1 == i { print $5 }' /proc/net/dev)))
	if ((drops == 0)); then
		check_eq "$1's egress flows == $4's ingress flows (packets, bytes, ip_bytes per flow)" \
			"$(flows_of "$3" egress)" "$(flows_of "$6" ingress)"
		return
	fi
	out=$(sql "$3" "select sum(packets) from flows where direction = 'egress';")
	in=$(sql "$6" "select sum(packets) from flows where direction = 'ingress';")
	check_eq "$1's egress packets - $4's ingress packets == the $drops frames the veth dropped" \
		$((out - in)) "$drops"
}

# tcp_both_ways [ethtool features to turn off on a-b]: 20 MB each way
# between a and b, a flowmaster on each end (--direction both): per flow,
# what a's egress counted == what b's ingress counted, and the reverse.
tcp_both_ways()
{
	need_fm
	need_cmd socat sqlite3 ss
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	if (($#)); then
		need_cmd ethtool
		lab_nsexec a ethtool -K a-b "$@" || fail "ethtool -K a-b $*"
	fi
	info "a-b offloads: $(lab_nsexec a ethtool -k a-b 2>/dev/null |
		grep -E '^(tcp-segmentation-offload|generic-segmentation-offload):' | tr -s '\n' ' ')"
	local dba=$LAB_TMP/a.db dbb=$LAB_TMP/b.db pa pb la lb
	fm_start b -i b-a --db "$dbb" --direction both --poll-interval 200
	pb=$FM_PID lb=$FM_LOG
	fm_start a -i a-b --db "$dba" --direction both --poll-interval 200
	pa=$FM_PID la=$FM_LOG
	lab_bg b "$LAB_TMP/sb.log" timeout 30 socat -u "TCP-LISTEN:5001,bind=$(lab_ip4 b b-a),reuseaddr" OPEN:/dev/null
	lab_bg a "$LAB_TMP/sa.log" timeout 30 socat -u "TCP-LISTEN:5002,bind=$(lab_ip4 a a-b),reuseaddr" OPEN:/dev/null
	wait_for 5 "socat listening in b" listening b 5001
	wait_for 5 "socat listening in a" listening a 5002
	head -c 20000000 /dev/zero | lab_nsexec a timeout 20 socat -u - "TCP:$(lab_ip4 b b-a):5001" &
	local c1=$!
	head -c 20000000 /dev/zero | lab_nsexec b timeout 20 socat -u - "TCP:$(lab_ip4 a a-b):5002" ||
		fail "socat b -> a failed"
	wait "$c1" || fail "socat a -> b failed"
	sleep 0.5
	fm_run a status --pin-path "$(grep -oE 'pins in [^ ]+' "$la" | cut -d' ' -f3)"
	local gso
	gso=$(awk '$1 == "gso_skbs" { print $3 }' <<<"$FM_OUT")
	info "a-b egress: ${gso:-?} GSO skbs, each counted as its segments"
	check "the GSO path was taken (gso_skbs > 0 at a's egress)" test "${gso:-0}" -gt 0
	fm_stop TERM "$pa"
	check_eq "a's exit status" "$FM_RC" 0
	fm_stop TERM "$pb"
	check_eq "b's exit status" "$FM_RC" 0
	same_both_ways a a-b "$dba" b b-a "$dbb"
	same_both_ways b b-a "$dbb" a a-b "$dba"
	check "20 MB a -> b counted at a's egress" test "$(sql "$dba" "
		select sum(bytes) > 20000000 from flows where direction = 'egress' and dst_port = 5001;")" = 1
	check_log "a's egress reconciles" "a-b out: kernel saw [0-9]+ packets" "$la"
	check_log "b's egress reconciles" "b-a out: kernel saw [0-9]+ packets" "$lb"
}

# listening HOST PORT: a TCP socket listens on PORT in HOST.
listening()
{
	lab_nsexec "$1" ss -Hltn "sport = :$2" | grep -q .
}

test_tcp_gso_both_ways() { tcp_both_ways; }
test_tcp_gso_off_both_ways() { tcp_both_ways tso off gso off; }

# egress_filters HOST IFACE: the tc filters on IFACE's egress, one a line.
egress_filters()
{
	lab_nsexec "$1" tc filter show dev "$2" egress 2>/dev/null | grep -E '^filter' || true
}

# A foreign tc filter (added with tc filter add) on the egress survives a
# run, a SIGKILL and detach, with tcx and with clsact; tcx leaves nothing
# after a SIGKILL, clsact leaves its filter, which the next start removes
# (and so would detach).
test_attach_modes_foreign_filter()
{
	need_fm
	need_cmd tc
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	lab_nsexec a tc qdisc add dev a-b clsact || fail "tc qdisc add clsact"
	# u32 (matchall and actions are modules this kernel may lack), matching
	# nothing the lab sends, so the filters after it still run.
	lab_nsexec a tc filter add dev a-b egress prio 10 protocol all u32 match u32 0x12345678 0xffffffff at 0 ||
		fail "tc filter add u32"
	local foreign
	foreign=$(egress_filters a a-b)
	info "foreign filter: $foreign"

	fm_start a -i a-b --db "$LAB_TMP/attach.db" --direction egress --poll-interval 100
	local kv
	kv=$(uname -r | awk -F. '{print $1 * 1000 + $2}')
	if ((kv < 6006)); then
		# No tcx before 6.6 (Debian 12's 6.1, make test-kernel): auto
		# falls back to clsact; the rest is about tcx.
		check_log "auto falls back to clsact without tcx" "a-b: egress attached \(clsact"
		fm_stop KILL
		skip "kernel $(uname -r) has no tcx (6.6): checked the clsact fallback only"
	fi
	check_log "auto picks tcx on this kernel" "a-b: egress attached \(tcx"
	sleep 0.5
	check "egress only is not 'no interface left'" bash -c "! grep -q 'no interface left' '$FM_LOG'"
	fm_stop KILL
	check_eq "tcx: nothing left after SIGKILL" "$(lab_nsexec a tc filter show dev a-b egress | grep -c fm_tc)" 0
	check_eq "foreign filter intact after tcx run" "$(egress_filters a a-b)" "$foreign"

	fm_start a -i a-b --db "$LAB_TMP/attach.db" --direction egress --tc-attach clsact
	check "clsact filter at flowmaster's priority" \
		bash -c "ip netns exec $(lab_ns a) tc filter show dev a-b egress | grep -q 'pref 61710 bpf'"
	fm_stop KILL
	check "SIGKILL leaves the clsact filter" \
		bash -c "ip netns exec $(lab_ns a) tc filter show dev a-b egress | grep -q 'fm_tc'"
	fm_start a -i a-b --db "$LAB_TMP/attach.db" --direction egress --tc-attach clsact
	check_log "the next start removes the stale filter" "removed a stale flowmaster egress filter"
	check_eq "one flowmaster filter" "$(lab_nsexec a tc filter show dev a-b egress | grep -c 'fm_tc')" 1
	fm_stop KILL
	fm_run a detach -i a-b
	check_eq "detach exit status" "$FM_RC" 0
	check "detach says what it removed" grep -q "clsact egress" <<<"$FM_OUT"
	check_eq "detach removed the filter" "$(lab_nsexec a tc filter show dev a-b egress | grep -c fm_tc)" 0
	check_eq "foreign filter intact" "$(egress_filters a a-b)" "$foreign"

	fm_start a -i a-b --db "$LAB_TMP/attach.db" --direction both --poll-interval 100
	wait_for 5 "the daemon's first cycle" log_has "pins in"
	lab_nsexec a ping -q -c 3 -i 0.01 "$(lab_ip4 b b-a)" >/dev/null
	sleep 0.3
	fm_run a status --pin-path "$(grep -oE 'pins in [^ ]+' "$FM_LOG" | cut -d' ' -f3)"
	check "status has a column per direction" grep -qE "^ +COUNTER +a-b +a-b out" <<<"$FM_OUT"
	check "status reconciles per direction" grep -qE "^ +a-b out +[0-9]+" <<<"$FM_OUT"
	check "status shows the egress hook" grep -qE "a-b.*fm_tc.*tcx" <<<"$FM_OUT"
	fm_run a detach -i a-b
	check "detach takes XDP and tcx" grep -q "tcx egress" <<<"$FM_OUT"
	wait_for 5 "the daemon noticed the egress detach" log_has "egress program was detached from outside"
	check "the daemon still runs" fm_running
	fm_stop TERM
	check_eq "exit status after losing both hooks" "$FM_RC" 0
	check_eq "foreign filter intact at the end" "$(egress_filters a a-b)" "$foreign"
}

run_tests "$@"
