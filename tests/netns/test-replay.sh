#!/usr/bin/env bash
# flowmaster replay: a capture taken with tcpdump while a live daemon
# counted the same frames gives the same flows (packets, bytes, IP bytes
# per flow key); pcapng too; a capture of another link type and a
# truncated or garbage file are refused with a clear error, what was read
# of a truncated one kept.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KEYCOLS="src_mac, dst_mac, vlan_id, eth_type, src_ip, dst_ip, src_port, dst_port, protocol, icmp_type, icmp_code"

# flows_of DB: one line per flow key, with its packets, bytes and IP bytes.
flows_of()
{
	sql "$1" "select $KEYCOLS, sum(packets), sum(bytes), sum(ip_bytes) from flows
		  where end_reason != 'overflow' group by $KEYCOLS order by $KEYCOLS;"
}

listening() { lab_nsexec "$1" ss -Hltn "sport = :$2" | grep -q .; }

# capture_live: a daemon on b-a (ingress) while tcpdump in a captures what
# a-b sends: UDP (300 flows), ping, a TCP transfer. Sets LIVE_DB, CAP.
capture_live()
{
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	LIVE_DB=$LAB_TMP/live.db CAP=$LAB_TMP/cap.pcap
	fm_start b -i b-a --db "$LIVE_DB" --poll-interval 200
	lab_bg a "$LAB_TMP/tcpdump.log" tcpdump -i a-b -Q out -U -B 32768 -w "$CAP"
	local tcpdump=$LAB_PID
	wait_for 10 "tcpdump listening" grep -q "listening on" "$LAB_TMP/tcpdump.log"
	# Through the qdisc (-q): tcpdump sees what is sent there only.
	LAB_TRAFGEN_QDISC=1 check "UDP: 20000 frames, 300 flows" lab_trafgen a a-b 20000 300 0 120
	check "ping" lab_nsexec a ping -q -c 10 -i 0.01 -W 2 "$(lab_ip4 b b-a)"
	lab_bg b "$LAB_TMP/socat.log" timeout 20 socat -u "TCP-LISTEN:5001,bind=$(lab_ip4 b b-a),reuseaddr" OPEN:/dev/null
	wait_for 5 "socat listening in b" listening b 5001
	head -c 3000000 /dev/zero | lab_nsexec a timeout 20 socat -u - "TCP:$(lab_ip4 b b-a):5001" ||
		fail "socat failed"
	# tcpdump may lag on a busy machine, and SIGINT leaves what it has not
	# read yet: stop it once the file has stopped growing.
	local size=-1 i
	for ((i = 0; i < 50; i++)); do
		sleep 0.3
		[[ $(stat -c %s "$CAP") == "$size" ]] && break
		size=$(stat -c %s "$CAP")
	done
	kill -INT "$tcpdump"
	lab_wait_exit "$tcpdump" 5
	fm_stop TERM
	check_eq "live daemon's exit status" "$FM_RC" 0
	info "$(tail -n 3 "$LAB_TMP/tcpdump.log" | tr '\n' ' ')"
}

# replay FILE DB: flowmaster replay into DB; sets FM_RC and FM_OUT.
replay()
{
	FM_OUT=$(timeout -k 2 60 "$FM" replay -r "$1" --db "$2" 2>&1)
	FM_RC=$?
	info "flowmaster replay -r $1 -> status $FM_RC"
	tail -n 5 <<<"$FM_OUT" | sed 's/^/#   /'
}

test_replay_matches_live()
{
	need_fm
	need_cmd tcpdump editcap trafgen socat sqlite3 ss
	capture_live
	local db=$LAB_TMP/replay.db db6=$LAB_TMP/replayng.db frames
	replay "$CAP" "$db"
	check_eq "replay exit status" "$FM_RC" 0
	frames=$(tcpdump -r "$CAP" -nn 2>/dev/null | wc -l)
	check "summary: frames read == frames in the capture ($frames)" \
		grep -qE "replay: .*: $frames frames read, $frames counted, 0 unparseable" <<<"$FM_OUT"
	check_eq "the live daemon's flows == the replayed flows (packets, bytes, IP bytes per key)" \
		"$(flows_of "$db")" "$(flows_of "$LIVE_DB")"
	check_eq "the capture's frames == packets replayed" "$(sql "$db" "select sum(packets) from flows;")" "$frames"
	check_eq "times are the capture's: first_seen within the capture" "$(sql "$db" "
		select min(first_seen_ms) >= (select min(first_seen_ms) - 1000 from l.flows)
		   and max(last_seen_ms) <= (select max(last_seen_ms) + 1000 from l.flows)
		from flows;" 2>/dev/null || sqlite3 "$db" "attach '$LIVE_DB' as l; select
		min(first_seen_ms) >= (select min(first_seen_ms) - 1000 from l.flows) and
		max(last_seen_ms) <= (select max(last_seen_ms) + 1000 from l.flows) from main.flows;")" 1
	check_eq "end reasons as in the live run" \
		"$(sql "$db" "select end_reason, count(*) from flows group by end_reason;")" \
		"$(sql "$LIVE_DB" "select end_reason, count(*) from flows group by end_reason;")"
	check_eq "runs row says replay" "$(sql "$db" "select command from runs;")" replay

	check "editcap to pcapng" editcap -F pcapng "$CAP" "$LAB_TMP/cap.pcapng"
	replay "$LAB_TMP/cap.pcapng" "$db6"
	check_eq "pcapng replay exit status" "$FM_RC" 0
	check_eq "pcapng: the same flows" "$(flows_of "$db6")" "$(flows_of "$LIVE_DB")"
}

test_replay_bad_files()
{
	need_fm
	need_cmd tcpdump sqlite3 ping
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local any=$LAB_TMP/any.pcap cap=$LAB_TMP/cap.pcap size
	lab_bg a "$LAB_TMP/any.log" tcpdump -i any -U -c 20 -w "$any"
	local p1=$LAB_PID
	lab_bg a "$LAB_TMP/eth.log" tcpdump -i a-b -U -c 20 -w "$cap"
	local p2=$LAB_PID
	wait_for 10 "tcpdumps listening" bash -c "grep -q 'listening on' '$LAB_TMP/any.log' && grep -q 'listening on' '$LAB_TMP/eth.log'"
	lab_nsexec a ping -q -c 10 -i 0.01 "$(lab_ip4 b b-a)" >/dev/null
	lab_wait_exit "$p1" 5
	lab_wait_exit "$p2" 5

	replay "$any" "$LAB_TMP/any.db"
	check_eq "non-Ethernet capture: exit status" "$FM_RC" 1
	check "the error names the link type" grep -qE "link type 276 \(LINKTYPE_LINUX_SLL2.*is not Ethernet" <<<"$FM_OUT"

	# Cut inside the last frame: the frames before it are counted and stored.
	size=$(stat -c %s "$cap")
	head -c $((size - 20)) "$cap" >"$LAB_TMP/cut.pcap"
	replay "$LAB_TMP/cut.pcap" "$LAB_TMP/cut.db"
	check_eq "truncated capture: exit status" "$FM_RC" 1
	check "the error says truncated after 19 frames" grep -q "truncated or damaged after 19 frames" <<<"$FM_OUT"
	check_eq "the 19 whole frames are stored" "$(sql "$LAB_TMP/cut.db" "select sum(packets) from flows;")" 19

	# Timeouts run on capture time: the same capture with its second half
	# 100 s later (editcap -t) cuts the ping flow into an idle row and a
	# later one, however fast the replay runs.
	need_cmd editcap mergecap
	if ! { editcap -r "$cap" "$LAB_TMP/h1.pcap" 1-10 && editcap -r "$cap" "$LAB_TMP/h2.pcap" 11-20 &&
		editcap -t 100 "$LAB_TMP/h2.pcap" "$LAB_TMP/h2late.pcap" &&
		mergecap -F pcap -w "$LAB_TMP/gap.pcap" "$LAB_TMP/h1.pcap" "$LAB_TMP/h2late.pcap"; }; then
		fail "editcap/mergecap"
	fi
	FM_OUT=$(timeout -k 2 60 "$FM" replay -r "$LAB_TMP/gap.pcap" --db "$LAB_TMP/gap.db" \
		--idle-timeout 10 --active-timeout 1000 2>&1)
	check_eq "gap capture: exit status" "$?" 0
	local n1 n2
	n1=$(tcpdump -r "$LAB_TMP/h1.pcap" -nn 2>/dev/null | grep -c "echo request")
	n2=$(tcpdump -r "$LAB_TMP/h2.pcap" -nn 2>/dev/null | grep -c "echo request")
	check_eq "echo requests: an idle row, then a row 100 s later" "$(sql "$LAB_TMP/gap.db" "
		select group_concat(end_reason || ':' || packets, ' ') from (select * from flows
		where protocol = 1 and icmp_type = 8 order by first_seen_ms);")" "idle:$n1 shutdown:$n2"
	check "the gap between them is capture time (>= 99 s)" test "$(sql "$LAB_TMP/gap.db" "
		select max(first_seen_ms) - min(last_seen_ms) >= 99000 from flows where protocol = 1 and icmp_type = 8;")" = 1

	head -c 4000 /dev/urandom >"$LAB_TMP/garbage.pcap"
	replay "$LAB_TMP/garbage.pcap" "$LAB_TMP/garbage.db"
	check_eq "garbage: exit status" "$FM_RC" 1
	check "garbage: unknown file format" grep -q "unknown file format" <<<"$FM_OUT"
}

run_tests "$@"
