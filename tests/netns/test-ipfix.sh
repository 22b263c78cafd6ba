#!/usr/bin/env bash
# IPFIX both ways: flowmaster run exporting to nfcapd (nfdump's totals ==
# SQLite's == the kernel's), tshark's dissector on the export datagrams,
# flowmaster run -> flowmaster collect row for row, NetFlow v9 and v5 from
# nfreplay into flowmaster collect, malformed datagrams counted. Every
# collector listens on the loopback of the test host it runs in.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/netns/ipfix-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/ipfix-lib.sh"

FRAMES=${IPFIX_FRAMES:-200000}
FLOWS=${IPFIX_FLOWS:-1000}

# tcp_listening HOST PORT: a TCP socket listens on PORT in HOST.
tcp_listening()
{
	lab_nsexec "$1" ss -Hltn "sport = :$2" | grep -q .
}

# Two hosts, a sends FRAMES UDP frames over FLOWS flows to b, where
# flowmaster counts them on b-a and exports to nfcapd on b's loopback
# (and stores them): nfdump's flows, packets and bytes == SQLite's ==
# the kernel's count of frames received; per flow too.
test_export_nfcapd()
{
	need_fm
	need_cmd trafgen sqlite3 nfcapd nfdump ss
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/flows.db dir=$LAB_TMP/nfcapd port=4739 rx0 by0
	mkdir -p "$dir"
	nfcapd_start b "$dir" $port
	local pcap=$LAB_TMP/export.pcap tshark_pid=""
	if command -v tshark >/dev/null; then
		lab_bg b "$LAB_TMP/tshark.log" tshark -q -i lo -f "udp port $port" -w "$pcap"
		tshark_pid=$LAB_PID
		wait_for 10 "tshark capturing" grep -q Capturing "$LAB_TMP/tshark.log"
	fi
	rx0=$(lab_rx_packets b b-a) by0=$(lab_rx_bytes b b-a)
	fm_start b -i b-a --db "$db" --ipfix 127.0.0.1:$port --ipfix-domain 7 --poll-interval 200
	check "trafgen: $FRAMES frames, $FLOWS flows" lab_trafgen a a-b "$FRAMES" "$FLOWS" 100000
	wait_for 10 "$FRAMES frames at b-a" rx_at_least b b-a $((rx0 + FRAMES))
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	lab_stop "$NFCAPD_PID" 5
	check_eq "frames received" "$(($(lab_rx_packets b b-a) - rx0))" "$FRAMES"
	check_eq "SQLite: flows | packets" \
		"$(sql "$db" "select count(*), sum(packets) from flows where $(on_iface b-a);")" \
		"$FLOWS|$FRAMES"
	check_eq "SQLite: bytes == bytes of the frames received" "$(iface_sum "$db" b-a bytes)" \
		"$(frame_bytes "$db" b-a "$FRAMES" $(($(lab_rx_bytes b b-a) - by0)))"
	local ipb
	ipb=$(sql "$db" "select coalesce(sum(ip_bytes), 0) from flows where $(on_iface b-a);")
	# Untagged IPv4 frames: each one's IP length is its length less the
	# 14-byte Ethernet header, so the kernel's ip_bytes is known exactly.
	check_eq "SQLite: ip_bytes == frame bytes - 14 per frame" "$ipb" \
		$(($(iface_sum "$db" b-a bytes) - 14 * FRAMES))
	check_eq "nfdump: flows | packets | bytes (octetDeltaCount = flows.ip_bytes)" \
		"$(nfdump_totals "$dir")" "$FLOWS|$FRAMES|$ipb"
	check_eq "nfdump per flow == SQLite per flow (port, packets, bytes)" \
		"$(nfdump -R "$dir" -q -N -o 'fmt:%sp %pkt %byt' | awk '{ print $1 "|" $2 "|" $3 }' | sort | md5sum)" \
		"$(sql "$db" "select src_port, packets, coalesce(ip_bytes, 0) from flows where $(on_iface b-a);" | sort | md5sum)"
	check_eq "records sent (metric) | not sent" \
		"$(metric "$db" ipfix_records_sent)|$(metric "$db" ipfix_records_unsent)" "$FLOWS|0"
	check_log "exporter's totals" "ipfix 127.0.0.1:$port: $FLOWS records sent"
	check_eq "nfcapd's sequence failures" \
		"$(nfdump -R "$dir" -I | awk '/^Sequence failures:/ { s += $3 } END { print s + 0 }')" 0
	[[ -n $tshark_pid ]] || skip "tshark is not installed: its checks not run"
	sleep 0.5 # the capture's last packets
	lab_stop "$tshark_pid" 5
	local dis=(-r "$pcap" -d "udp.port==$port,cflow")
	check_eq "tshark: datagrams malformed, without template or out of sequence" \
		"$(tshark "${dis[@]}" -Y '_ws.malformed || cflow.no_template_found || cflow.sequence_analysis.expected_sn' 2>/dev/null | wc -l)" 0
	check_eq "tshark: records | packets | layer2OctetDeltaCount | octetDeltaCount" \
		"$(tshark "${dis[@]}" -T fields -E aggregator=' ' -e cflow.packets \
			-e cflow.layer2_octet_delta_count -e cflow.octets 2>/dev/null | awk '
			NF { n = split($0, c, "\t"); k = split(c[1], p, " "); r += k
			     for (i = 1; i <= k; i++) pk += p[i]
			     split(c[2], l, " "); for (i in l) l2 += l[i]
			     split(c[3], o, " "); for (i in o) oc += o[i] }
			END { printf "%d|%d|%d|%d\n", r, pk, l2, oc }')" \
		"$FLOWS|$FRAMES|$(iface_sum "$db" b-a bytes)|$ipb"
	command -v ipfixDump >/dev/null || skip "ipfixDump (libfixbuf-tools) is not installed: its check not run"
	# ipfixDump reads a file of concatenated messages; it exits 0 even
	# when it complains, so its stderr is what tells.
	tshark -r "$pcap" -T fields -e udp.payload 2>/dev/null | tr -d ':' |
		perl -ne 'chomp; print pack("H*", $_)' >"$LAB_TMP/export.ipfix"
	local dump
	dump=$(ipfixDump --in "$LAB_TMP/export.ipfix" --stats 2>"$LAB_TMP/ipfixdump.err")
	check_eq "ipfixDump: warnings on stderr" "$(wc -c <"$LAB_TMP/ipfixdump.err")" 0
	check_eq "ipfixDump: data records of template 256" \
		"$(awk '$1 == "256" { print $NF }' <<<"$dump")" "$FLOWS"
}

# --ipfix-rate: 100,000 flows end at once at the stop; unpaced, that is
# 20,000 messages in one burst, far more than nfcapd's 1 MiB buffer holds.
# Export only (--db none: no store to slow the burst down). Paced at
# 50,000 records/s they arrive in about 2 s and nfcapd keeps up: nfdump's
# flows | packets == the kernel's count == the frames received, no sequence
# failure, and the export's rate (records over the span from its first
# data message to its last, the exporter's log) and the stop's length show
# the limit held (at most 1.2x).
test_export_paced()
{
	need_fm
	need_cmd trafgen sqlite3 nfcapd nfdump ss
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local dir=$LAB_TMP/nfcapd port=4739 rx0 n=100000 rate=${IPFIX_PACE_RATE:-50000}
	local t0 t1 seen
	mkdir -p "$dir"
	nfcapd_start b "$dir" $port 1048576
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db none --ipfix 127.0.0.1:$port --ipfix-rate "$rate" --poll-interval 200
	check "trafgen: $n frames, $n flows" lab_trafgen a a-b $n $n 0
	wait_for 10 "$n frames at b-a" rx_at_least b b-a $((rx0 + n))
	t0=$(date +%s%N)
	fm_stop TERM
	t1=$(date +%s%N)
	check_eq "exit status" "$FM_RC" 0
	sleep 0.3
	lab_stop "$NFCAPD_PID" 5
	check_eq "frames received" "$(($(lab_rx_packets b b-a) - rx0))" $n
	check_log "the kernel's count" "b-a: kernel saw $n packets, $n exported"
	check_eq "nfdump: flows | packets" "$(nfdump_totals "$dir" | cut -d'|' -f1-2)" "$n|$n"
	check_eq "nfcapd's sequence failures" \
		"$(nfdump -R "$dir" -I | awk '/^Sequence failures:/ { s += $3 } END { print s + 0 }')" 0
	check_log "exporter's totals" "ipfix 127.0.0.1:$port: $n records sent .* 0 records not sent"
	seen=$(sed -n "s/.*paced at $rate records\/s: [0-9]* records in [0-9.]* s, \([0-9]*\) records\/s.*/\1/p" "$FM_LOG")
	info "export rate: $seen records/s (limit $rate); the stop took $(((t1 - t0) / 1000000)) ms"
	check "export rate $seen <= 1.2 x $rate" test "${seen:-999999999}" -le $((rate * 12 / 10))
	check "the stop took >= $n / (1.2 x $rate) s" test $(((t1 - t0) / 1000)) -ge $((n * 1000000 / (rate * 12 / 10)))
}

# The columns a collected row shares with the exporter's.
COLS="direction, first_seen_ms, last_seen_ms, src_mac, dst_mac, vlan_id, eth_type,
      src_ip, dst_ip, src_port, dst_port, protocol, icmp_type, icmp_code, tcp_flags, tos,
      packets, bytes, ip_bytes, end_reason"

# The same into pmacct's nfacctd (print plugin, CSV, one row per flow):
# its flows, packets and bytes == SQLite's, per flow too, and the TCP
# flags of a real TCP transfer (nfacctd reads tcpControlBits only when
# sent with length 1).
test_export_nfacctd()
{
	need_fm
	need_cmd trafgen sqlite3 nfacctd ss socat
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/flows.db out=$LAB_TMP/nfacctd.csv conf=$LAB_TMP/nfacctd.conf
	cat >"$conf" <<-EOC
		daemonize: false
		nfacctd_ip: 127.0.0.1
		nfacctd_port: 4739
		nfacctd_pipe_size: 8388608
		plugins: print[p]
		aggregate[p]: src_host, dst_host, src_port, dst_port, proto, tcpflags
		print_output[p]: csv
		print_output_file[p]: $out
		print_output_file_append[p]: true
		print_refresh_time[p]: 1
	EOC
	lab_bg b "$LAB_TMP/nfacctd.log" nfacctd -f "$conf"
	local npid=$LAB_PID
	wait_for 10 "nfacctd listening" udp_listening b 4739
	fm_start b -i b-a --db "$db" --ipfix 127.0.0.1:4739 --poll-interval 200
	check "trafgen: 20000 frames, 500 flows" lab_trafgen a a-b 20000 500 100000
	local dst
	dst=$(lab_ip4 b b-a)
	lab_bg b "$LAB_TMP/server.log" timeout 20 socat -u "TCP-LISTEN:5001,bind=$dst,reuseaddr" OPEN:/dev/null
	wait_for 5 "socat listening in b" tcp_listening b 5001
	head -c 200000 /dev/zero | lab_nsexec a timeout 10 socat -u - "TCP:$dst:5001" ||
		fail "socat client failed"
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	check_eq "the TCP flow's flags in SQLite (SYN, ACK, FIN at least)" \
		"$(sql "$db" "select tcp_flags & 19 from flows where protocol = 6;")" 19
	sleep 2.5 # two print refreshes: the file is complete
	lab_stop "$npid" 1 # it lingers on SIGTERM
	[[ -s $out ]] || fail "nfacctd wrote nothing ($(tail -n 3 "$LAB_TMP/nfacctd.log"))"
	check_eq "nfacctd: flows | packets | bytes == SQLite's" \
		"$(awk -F, '$1 != "SRC_IP" { f++; p += $(NF - 1); b += $NF } END { printf "%d|%d|%d\n", f, p, b }' "$out")" \
		"$(sql "$db" "select count(*), sum(packets), coalesce(sum(ip_bytes), 0) from flows;")"
	check_eq "nfacctd per flow (source port, TCP flags, packets, bytes) == SQLite's" \
		"$(awk -F, '$1 != "SRC_IP" { print $3 "|" $5 "|" $(NF - 1) "|" $NF }' "$out" | sort | md5sum)" \
		"$(sql "$db" "select src_port, tcp_flags, packets, coalesce(ip_bytes, 0) from flows;" | sort | md5sum)"
}

# flowmaster run exporting to flowmaster collect on [::1] (IPv6): the
# collector's flows equal the exporter's row for row (IPv4 UDP from
# trafgen, ICMP and ICMPv6 from ping), with exporter_id set and an
# exporters row whose counts match the exporter's. With --ipfix-stats:
# the statistics records count in the sequence numbers as RFC 7011 says,
# and the collector, counting them too, sees no loss.
test_run_to_collect()
{
	need_fm
	need_cmd trafgen sqlite3 ss ping
	lab_host a
	lab_host b
	lab_link a b
	local db=$LAB_TMP/run.db cdb=$LAB_TMP/collect.db port=4740
	collect_start b "$LAB_TMP/collect.log" --listen "[::1]:$port" --db "$cdb"
	local pcap=$LAB_TMP/export.pcap tshark_pid=""
	if command -v tshark >/dev/null; then
		lab_bg b "$LAB_TMP/tshark.log" tshark -q -i lo -f "udp port $port" -w "$pcap"
		tshark_pid=$LAB_PID
		wait_for 10 "tshark capturing" grep -q Capturing "$LAB_TMP/tshark.log"
	fi
	fm_start b -i b-a --db "$db" --ipfix "[::1]:$port" --ipfix-domain 42 --ipfix-stats \
		--poll-interval 200
	check "trafgen: 20000 frames, 500 flows" lab_trafgen a a-b 20000 500 100000
	# The echo requests are what b-a counts: a late reply does not matter.
	lab_nsexec a ping -q -c 3 -i 0.2 -w 5 "$(lab_ip4 b b-a)" >/dev/null || true
	lab_nsexec a ping -6 -q -c 3 -i 0.2 -w 5 "$(lab_ip6 b b-a)" >/dev/null || true
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	sleep 0.3
	collect_stop
	local rows
	rows=$(sql "$db" "select count(*) from flows;")
	info "exporter's rows: $rows; collector's log: $(grep -m1 'datagrams' "$LAB_TMP/collect.log")"
	check_eq "rows: exporter | collector" "$rows|$(sql "$cdb" "select count(*) from flows;")" "$rows|$rows"
	check_eq "IPv6 rows collected" "$(sql "$cdb" "select count(*) > 0 from flows where eth_type = 34525;")" 1
	check_eq "collector's rows == exporter's rows" \
		"$(sql "$cdb" "select $COLS from flows order by first_seen_ms, src_ip, src_port, dst_ip, protocol, direction;" | md5sum)" \
		"$(sql "$db" "select $COLS from flows order by first_seen_ms, src_ip, src_port, dst_ip, protocol, direction;" | md5sum)"
	check_eq "every collected row has its exporter" \
		"$(sql "$cdb" "select count(*) from flows f join exporters e on e.id = f.exporter_id;")" "$rows"
	check_eq "exporters row: address | domain | protocol | records | lost | malformed" \
		"$(sql "$cdb" "select address, domain_id, protocol, records, lost_records, malformed from exporters;")" \
		"::1|42|ipfix|$rows|0|0"
	check_eq "exporters.datagrams == messages the exporter sent" \
		"$(sql "$cdb" "select datagrams from exporters;")" "$(metric "$db" ipfix_messages_sent)"
	check_eq "runs row of the collector" "$(sql "$cdb" "select command from runs;")" collect
	[[ -n $tshark_pid ]] || skip "tshark is not installed: its checks not run"
	lab_stop "$tshark_pid" 5
	local dis=(-r "$pcap" -d "udp.port==$port,cflow")
	check_eq "tshark on IPv6 with statistics records: malformed, without template, out of sequence" \
		"$(tshark "${dis[@]}" -Y '_ws.malformed || cflow.no_template_found || cflow.sequence_analysis.expected_sn' 2>/dev/null | wc -l)" 0
	check "tshark: statistics records decoded (notSentFlowTotalCount)" \
		grep -q . <<<"$(tshark "${dis[@]}" -T fields -e cflow.notsent_flows 2>/dev/null | grep -v '^$')"
}

# The destination port as nfdump prints it: ICMP type.code.
ICMP_AS_NFDUMP="case when protocol in (1, 58) then icmp_type || '.' || icmp_code else dst_port end"

# NetFlow v9 and v5 from nfreplay, replaying an nfcapd file (written from
# flowmaster's own export of trafgen's flows and a ping), into flowmaster
# collect: the collector's flows, packets and bytes, and each flow's, equal
# what nfdump reads from the file; no datagram malformed or lost.
test_nfreplay_to_collect()
{
	need_fm
	need_cmd trafgen sqlite3 nfcapd nfdump nfreplay ss ping
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/run.db dir=$LAB_TMP/nfcapd file v cdb want
	mkdir -p "$dir"
	nfcapd_start b "$dir" 4739
	fm_start b -i b-a --db "$db" --ipfix 127.0.0.1:4739 --ipfix-stats --poll-interval 200
	check "trafgen: 20000 frames, 1000 flows" lab_trafgen a a-b 20000 1000 100000
	lab_nsexec a ping -q -c 2 -i 0.2 -w 5 "$(lab_ip4 b b-a)" >/dev/null || true
	fm_stop TERM
	lab_stop "$NFCAPD_PID" 5
	file=$(ls "$dir"/nfcapd.2*) || fail "nfcapd wrote no file"
	want=$(nfdump_totals "$dir")
	check_eq "the file's flows | packets | bytes == SQLite's" "$want" \
		"$(sql "$db" "select count(*), sum(packets), coalesce(sum(ip_bytes), 0) from flows;")"
	# --ipfix-stats: nfcapd counts flow records only in its sequence
	# check, so each statistics record (one per template message) after
	# the first message shows as one failure; the flows are all there
	# regardless (above). test_export_nfcapd, without it, has none.
	local tmsgs fails
	tmsgs=$(metric "$db" ipfix_template_messages)
	fails=$(nfdump -r "$file" -I | awk '/^Sequence failures:/ { print $3 }')
	info "nfcapd: $fails sequence failures, $tmsgs template messages with a statistics record"
	check_eq "nfcapd's sequence failures == statistics records after the first" \
		"$fails" $((tmsgs - 1))
	for v in 9 5; do
		cdb=$LAB_TMP/collect-v$v.db
		collect_start b "$LAB_TMP/collect-v$v.log" --listen 127.0.0.1:2055 --db "$cdb"
		lab_nsexec b timeout 20 nfreplay -r "$file" -H 127.0.0.1 -p 2055 -v $v -d 200 >/dev/null 2>&1 ||
			fail "nfreplay -v $v"
		sleep 0.3
		collect_stop
		info "$(grep -m1 'datagrams' "$LAB_TMP/collect-v$v.log")"
		check_eq "v$v: collector's flows | packets | bytes == nfdump's" \
			"$(sql "$cdb" "select count(*), sum(packets), coalesce(sum(ip_bytes), 0) from flows;")" "$want"
		check_eq "v$v: per flow (addresses, ports, protocol, packets, bytes)" \
			"$(sql "$cdb" "select src_ip, dst_ip, src_port, $ICMP_AS_NFDUMP, protocol, packets, coalesce(ip_bytes, 0) from flows;" | sort | md5sum)" \
			"$(nfdump -r "$file" -q -N -o 'fmt:%sa|%da|%sp|%dp|%pr|%pkt|%byt' | tr -d ' ' |
				sed 's/|UDP|/|17|/; s/|ICMP|/|1|/; s/|TCP|/|6|/' | sort | md5sum)"
		check_eq "v$v: exporters row: protocol | records | lost | malformed" \
			"$(sql "$cdb" "select protocol, records, lost_records, malformed from exporters;")" \
			"netflow$v|${want%%|*}|0|0"
	done
}

# --db none: export only. The collector's packets == the kernel's count.
test_export_only()
{
	need_fm
	need_cmd trafgen sqlite3 ss
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local cdb=$LAB_TMP/collect.db rx0
	collect_start b "$LAB_TMP/collect.log" --listen 127.0.0.1:4739 --db "$cdb"
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db none --ipfix 127.0.0.1:4739 --poll-interval 200
	check "trafgen: 10000 frames, 100 flows" lab_trafgen a a-b 10000 100 100000
	wait_for 10 "10000 frames at b-a" rx_at_least b b-a $((rx0 + 10000))
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	sleep 0.3
	collect_stop
	check_log "no database" "100 flow records exported, --db none"
	check_eq "collected flows | packets == frames received" \
		"$(sql "$cdb" "select count(*), sum(packets) from flows;")" \
		"100|$(($(lab_rx_packets b b-a) - rx0))"
}

# A collector with no route to it: every message fails at once
# (ENETUNREACH), the daemon neither blocks nor stops, stores every flow,
# and counts every record as not sent.
test_export_unreachable()
{
	need_fm
	need_cmd trafgen sqlite3
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/run.db
	# b has no default route: 198.19.255.1 is unreachable from it.
	fm_start b -i b-a --db "$db" --ipfix 198.19.255.1:4739 --poll-interval 200
	check "trafgen: 10000 frames, 100 flows" lab_trafgen a a-b 10000 100 100000
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	check_eq "rows | packets" "$(sql "$db" "select count(*), sum(packets) from flows;")" "100|10000"
	check_eq "records sent | not sent (metrics)" \
		"$(metric "$db" ipfix_records_sent)|$(metric "$db" ipfix_records_unsent)" "0|100"
	check_log "the cause, once" "ipfix 198.19.255.1:4739: Network is unreachable; messages that cannot be sent are dropped and counted"
	check_eq "warned once" "$(grep -c 'Network is unreachable' "$FM_LOG")" 1
}

# A collector that restarts mid-run decodes records again once the
# templates come round (every 100 messages at most): data sets before
# that are counted as without their template, never misparsed, and the
# next sequence number shows their records as lost: decoded + lost == sent.
# 1200 flows first (240 messages of 5 records: templates 40 messages ago),
# so the restarted collector first sees about 60 messages without them.
test_collector_restart()
{
	need_fm
	need_cmd trafgen sqlite3 ss
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/run.db c1=$LAB_TMP/c1.db c2=$LAB_TMP/c2.db n1 n2 unknown sent
	collect_start b "$LAB_TMP/c1.log" --listen 127.0.0.1:4739 --db "$c1"
	fm_start b -i b-a --db "$db" --ipfix 127.0.0.1:4739 --idle-timeout 1 --poll-interval 200
	check "trafgen: 6000 frames, 1200 flows" lab_trafgen a a-b 6000 1200 100000
	wait_for 15 "1200 idle rows" sql_at_least "$db" "select count(*) from flows;" 1200
	collect_stop
	collect_start b "$LAB_TMP/c2.log" --listen 127.0.0.1:4739 --db "$c2"
	check "trafgen: 5000 frames, 1000 flows again" lab_trafgen a a-b 5000 1000 100000
	wait_for 15 "2200 idle rows" sql_at_least "$db" "select count(*) from flows;" 2200
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	sleep 0.3
	collect_stop
	n1=$(sql "$c1" "select count(*) from flows;")
	n2=$(sql "$c2" "select count(*) from flows;")
	unknown=$(sed -n 's/.* \([0-9]*\) data sets without their template.*/\1/p' "$LAB_TMP/c2.log")
	sent=$(sql "$db" "select count(*) from flows;")
	info "exporter sent $sent records; first collector $n1, restarted one $n2 with $unknown data sets before the templates"
	check_eq "first collector got the first 1200" "$n1" 1200
	check "restarted collector: records decoded (>= 500 of 1000)" test "$n2" -ge 500
	check "restarted collector: data sets without template: 1 to 100 (the refresh)" \
		test "${unknown:-0}" -ge 1 -a "${unknown:-999}" -le 100
	check_eq "restarted collector: decoded + lost | malformed" \
		"$(sql "$c2" "select $n2 + lost_records, malformed from exporters;")" "1000|0"
}

# --ipfix-ifnames: options template 261 (interfaceName by ingressInterface)
# with the templates; flowmaster collect records the name as an interfaces
# row with the exporter's ifindex, and every collected flow points at it.
# tshark decodes the name, ipfixDump reads the stream without a warning.
test_run_ifnames()
{
	need_fm
	need_cmd trafgen sqlite3 ss
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/run.db cdb=$LAB_TMP/collect.db port=4741 idx
	idx=$(lab_ifindex b b-a)
	collect_start b "$LAB_TMP/collect.log" --listen 127.0.0.1:$port --db "$cdb"
	local pcap=$LAB_TMP/export.pcap tshark_pid=""
	if command -v tshark >/dev/null; then
		lab_bg b "$LAB_TMP/tshark.log" tshark -q -i lo -f "udp port $port" -w "$pcap"
		tshark_pid=$LAB_PID
		wait_for 10 "tshark capturing" grep -q Capturing "$LAB_TMP/tshark.log"
	fi
	fm_start b -i b-a --db "$db" --ipfix 127.0.0.1:$port --ipfix-ifnames --poll-interval 200
	check "trafgen: 5000 frames, 200 flows" lab_trafgen a a-b 5000 200 100000
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	sleep 0.3
	collect_stop
	check_log "the collector's log" "exporter 127.0.0.1: interface $idx is b-a" "$LAB_TMP/collect.log"
	check_eq "collector's interfaces row: name | ifindex | xdp_mode" \
		"$(sql "$cdb" "select name, ifindex, ifnull(xdp_mode, 'NULL') from interfaces;")" "b-a|$idx|NULL"
	check_eq "collected flows | packets on b-a" \
		"$(sql "$cdb" "select count(*), sum(packets) from flows where $(on_iface b-a);")" "200|5000"
	check_eq "exporter's and collector's rows per interface name" \
		"$(sql "$cdb" "select i.name, count(*), sum(packets) from flows f join interfaces i on i.id = f.interface_id group by 1;")" \
		"$(sql "$db" "select i.name, count(*), sum(packets) from flows f join interfaces i on i.id = f.interface_id group by 1;")"
	check_eq "lost (the names count in the sequence) | malformed" \
		"$(sql "$cdb" "select lost_records, malformed from exporters;")" "0|0"
	[[ -n $tshark_pid ]] || skip "tshark is not installed: its checks not run"
	sleep 0.5
	lab_stop "$tshark_pid" 5
	local dis=(-r "$pcap" -d "udp.port==$port,cflow")
	check_eq "tshark: malformed, without template, out of sequence" \
		"$(tshark "${dis[@]}" -Y '_ws.malformed || cflow.no_template_found || cflow.sequence_analysis.expected_sn' 2>/dev/null | wc -l)" 0
	check_eq "tshark: interfaceName records (ifindex name)" \
		"$(tshark "${dis[@]}" -T fields -e cflow.inputint -e cflow.if_name -Y 'cflow.if_name' 2>/dev/null | sort -u | tr '\t' ' ')" \
		"$idx b-a"
	command -v ipfixDump >/dev/null || skip "ipfixDump (libfixbuf-tools) is not installed: its check not run"
	tshark -r "$pcap" -T fields -e udp.payload 2>/dev/null | tr -d ':' |
		perl -ne 'chomp; print pack("H*", $_)' >"$LAB_TMP/export.ipfix"
	local dump
	dump=$(ipfixDump --in "$LAB_TMP/export.ipfix" --stats 2>"$LAB_TMP/ipfixdump.err")
	check_eq "ipfixDump: warnings on stderr" "$(cat "$LAB_TMP/ipfixdump.err")" ""
	check "ipfixDump: interfaceName decoded" grep -q 'interfaceName.*b-a' <<<"$(ipfixDump --in "$LAB_TMP/export.ipfix" 2>/dev/null)"
	check_eq "ipfixDump: data records of template 256" "$(awk '$1 == "256" { print $NF }' <<<"$dump")" 200
}

# Time-based template refresh (--ipfix-refresh 1): a collector
# that restarts while the flows trickle (about 50 records/s, 10 messages/s
# of 5 records, so the 100-message refresh would take 10 s) decodes again
# within a second or so: few data sets before the templates, never
# misparsed; first + restarted collector decoded + lost never above what
# was sent (records sent between the two are not seen at all).
test_template_refresh_time()
{
	need_fm
	need_cmd trafgen sqlite3 ss
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/run.db c1=$LAB_TMP/c1.db c2=$LAB_TMP/c2.db n1 n2 unknown lost tmsgs
	collect_start b "$LAB_TMP/c1.log" --listen 127.0.0.1:4739 --db "$c1"
	fm_start b -i b-a --db "$db" --ipfix 127.0.0.1:4739 --ipfix-refresh 1 \
		--idle-timeout 1 --poll-interval 200
	LAB_TRAFGEN_BG=1 lab_trafgen a a-b 300 300 55 || fail "trafgen"
	local tg=$LAB_PID
	sleep 2.5
	collect_stop
	collect_start b "$LAB_TMP/c2.log" --listen 127.0.0.1:4739 --db "$c2"
	lab_wait_exit "$tg" 20 || fail "trafgen did not finish"
	wait_for 10 "300 idle rows" sql_at_least "$db" "select count(*) from flows;" 300
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	sleep 0.3
	collect_stop
	n1=$(sql "$c1" "select count(*) from flows;")
	n2=$(sql "$c2" "select count(*) from flows;")
	lost=$(sql "$c2" "select lost_records from exporters;")
	unknown=$(sed -n 's/.* \([0-9]*\) data sets without their template.*/\1/p' "$LAB_TMP/c2.log")
	tmsgs=$(metric "$db" ipfix_template_messages)
	info "first collector $n1 records; restarted one $n2 decoded, $lost lost, $unknown data sets before the templates; $tmsgs template messages"
	check "restarted collector decoded records" test "$n2" -gt 0
	check "data sets before the templates: 1 to 20 (1 s at ~10 messages/s)" \
		test "${unknown:-0}" -ge 1 -a "${unknown:-99}" -le 20
	check "templates sent by time: more than one per 100 messages" \
		test "$tmsgs" -gt $(($(metric "$db" ipfix_messages_sent) / 100 + 1))
	check "first + restarted collector: decoded + lost <= sent" test $((n1 + n2 + lost)) -le 300
	check_eq "restarted collector: malformed" "$(sql "$c2" "select malformed from exporters;")" 0
}

# flowmaster replay --ipfix: a capture of trafgen's frames (and a ping)
# replayed twice, once into SQLite, once with --db none exporting to
# flowmaster collect: the collector's rows equal the stored replay's, row
# for row, and the frames of the capture.
test_replay_ipfix()
{
	need_fm
	need_cmd trafgen sqlite3 ss tcpdump ping
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local cap=$LAB_TMP/cap.pcap db=$LAB_TMP/replay.db cdb=$LAB_TMP/collect.db out rc
	lab_bg a "$LAB_TMP/tcpdump.log" tcpdump -i a-b -Q out -U -B 32768 -w "$cap"
	local td=$LAB_PID
	wait_for 10 "tcpdump listening" grep -q "listening on" "$LAB_TMP/tcpdump.log"
	LAB_TRAFGEN_QDISC=1 check "trafgen: 5000 frames, 300 flows" lab_trafgen a a-b 5000 300 0
	lab_nsexec a ping -q -c 3 -i 0.2 -w 5 "$(lab_ip4 b b-a)" >/dev/null || true
	wait_for 20 "tcpdump wrote 5003 frames" captured_at_least "$cap" 5003
	kill -INT "$td"
	lab_wait_exit "$td" 5
	out=$("$FM" replay -r "$cap" --db "$db" 2>&1) || fail "replay into SQLite: $out"
	collect_start b "$LAB_TMP/collect.log" --listen 127.0.0.1:4742 --db "$cdb"
	out=$(lab_nsexec b timeout -k 2 60 "$FM" replay -r "$cap" --db none --ipfix 127.0.0.1:4742 --ipfix-domain 9 2>&1)
	rc=$?
	info "$(grep 'ipfix 127' <<<"$out")"
	check_eq "replay --db none --ipfix: exit status" "$rc" 0
	sleep 0.3
	collect_stop
	local rows
	rows=$(sql "$db" "select count(*) from flows;")
	check_eq "replay's log: records sent, none unsent" "$(grep -c "ipfix 127.0.0.1:4742: $rows records sent in [0-9]* messages, 0 not sent" <<<"$out")" 1
	check_eq "packets stored by the replay == frames of the capture" \
		"$(sql "$db" "select sum(packets) from flows;")" "$(tcpdump -r "$cap" 2>/dev/null | wc -l)"
	check_eq "collected rows == replayed rows, row for row" \
		"$(sql "$cdb" "select $COLS from flows order by first_seen_ms, src_ip, src_port, dst_ip, protocol, direction;" | md5sum)" \
		"$(sql "$db" "select $COLS from flows order by first_seen_ms, src_ip, src_port, dst_ip, protocol, direction;" | md5sum)"
	check_eq "exporters row: domain | records | lost" \
		"$(sql "$cdb" "select domain_id, records, lost_records from exporters;")" "9|$rows|0"
	fm_run b replay -r "$cap" --db none
	check_eq "replay --db none without --ipfix: status" "$FM_RC" 2
}

# captured_at_least FILE N: the capture being written holds N frames.
captured_at_least() { (($(tcpdump -r "$1" 2>/dev/null | wc -l) >= $2)); }

# Usage errors exit 2 before anything is made: --db none without --ipfix,
# a collector address without a port, collect without --listen.
test_usage_errors()
{
	need_fm
	lab_host b --no-ipv6
	local db=$LAB_TMP/never.db
	fm_run b run -i lo --db none
	check_eq "--db none without --ipfix: status" "$FM_RC" 2
	fm_run b run -i lo --db "$db" --ipfix 198.18.0.1
	check_eq "--ipfix without a port: status" "$FM_RC" 2
	check "says what to give" grep -q "expected HOST:PORT" <<<"$FM_OUT"
	fm_run b run -i lo --db "$db" --ipfix "[2001:2::1]4739"
	check_eq "--ipfix [IPV6] without ':': status" "$FM_RC" 2
	check "no database made" test ! -e "$db"
	fm_run b run -i lo --db "$db" --ipfix 127.0.0.1:4739 --ipfix-rate -1
	check_eq "--ipfix-rate -1: status" "$FM_RC" 2
	fm_run b run -i lo --db "$db" --ipfix 127.0.0.1:4739 --ipfix-rate 1e9
	check_eq "--ipfix-rate 1e9: status" "$FM_RC" 2
	fm_run b run -i lo --db "$db" --ipfix 127.0.0.1:4739 --ipfix-rate 100000001
	check_eq "--ipfix-rate above 100000000: status" "$FM_RC" 2
	fm_run b run -i lo --db "$db" --ipfix-rate 1000
	check_eq "--ipfix-rate without --ipfix: status" "$FM_RC" 2
	check "says what is missing" grep -q "ipfix-rate needs --ipfix" <<<"$FM_OUT"
	fm_run b run -i lo --db "$db" --ipfix 127.0.0.1:4739 --ipfix-refresh 0
	check_eq "--ipfix-refresh 0: status" "$FM_RC" 2
	fm_run b run -i lo --db "$db" --ipfix 127.0.0.1:4739 --ipfix-refresh 3601
	check_eq "--ipfix-refresh above 3600: status" "$FM_RC" 2
	check "no database made" test ! -e "$db"
	fm_run b collect --db "$db"
	check_eq "collect without --listen: status" "$FM_RC" 2
	fm_run b collect --listen 127.0.0.1:99999 --db "$db"
	check_eq "collect --listen with a bad port: status" "$FM_RC" 2
}

# send_udp HOST PORT BYTES: one datagram of BYTES (printf escapes) to
# 127.0.0.1:PORT from HOST (socat reads the file in one go: one datagram).
send_udp()
{
	local f=$LAB_TMP/dgram
	# shellcheck disable=SC2059 # BYTES is the format: escapes wanted
	printf "$3" >"$f"
	lab_nsexec "$1" socat -u "OPEN:$f" "UDP-SENDTO:127.0.0.1:$2" || fail "sending to port $2"
}

# Garbage, truncated, wrong-version, set-length and template-less
# datagrams: each counted under its reason, none stored, the collector
# keeps running, and the next good datagram (NetFlow v5) is stored.
test_collect_malformed()
{
	need_fm
	need_cmd sqlite3 ss socat
	lab_host b --no-ipv6
	local cdb=$LAB_TMP/collect.db z4='\x00\x00\x00\x00' p=2055
	collect_start b "$LAB_TMP/collect.log" --listen 127.0.0.1:$p --db "$cdb"
	send_udp b $p 'hello, collector'
	send_udp b $p '\x0a'
	send_udp b $p "\x00\x0a\x00\x64$z4$z4$z4"
	send_udp b $p "\x00\x0a\x00\x14$z4$z4$z4\x00\x02\x00\x02"
	send_udp b $p "\x00\x05\x00\x05$z4$z4$z4$z4$z4"
	send_udp b $p "\x00\x0a\x00\x18$z4$z4$z4\x01\x00\x00\x08$z4"
	send_udp b $p "\x00\x05\x00\x01$z4\x69\x30\x00\x00$z4$z4$z4\xc6\x12\x00\x01\xc6\x12\x00\x02$z4\x00\x01\x00\x00\x00\x00\x00\x0a\x00\x00\x03\xe8$z4$z4\x04\xd2\x00\x35\x00\x00\x11\x00$z4$z4"
	sleep 0.3
	check "collector still running" kill -0 "$COLLECT_PID"
	collect_stop
		check_log "totals in the log" \
		"7 datagrams .* 1 records, 5 malformed \(short 1, version 1, length 2, set_length 1\), 1 data sets without their template" \
		"$LAB_TMP/collect.log"
	check_eq "the good datagram's row" \
		"$(sql "$cdb" "select src_ip, dst_ip, src_port, dst_port, protocol, packets, ip_bytes from flows;")" \
		"198.18.0.1|198.18.0.2|1234|53|17|10|1000"
	check_eq "metrics: malformed | short | version | length | set_length" \
		"$(metric "$cdb" collector_malformed)|$(metric "$cdb" collector_malformed_short)|$(metric "$cdb" collector_malformed_version)|$(metric "$cdb" collector_malformed_length)|$(metric "$cdb" collector_malformed_set_length)" \
		"5|1|1|2|1"
	check_eq "exporters rows: protocol | datagrams | records" \
		"$(sql "$cdb" "select protocol, datagrams, records from exporters order by protocol;" | tr '\n' ' ')" \
		"ipfix|1|0 netflow5|1|1 "
}

run_tests "$@"
