#!/usr/bin/env bash
# IPFIX both ways: flowmaster run exporting to nfcapd (nfdump's totals ==
# SQLite's == the kernel's), tshark's dissector on the export datagrams,
# flowmaster run -> flowmaster collect row for row, NetFlow v9 and v5 from
# nfreplay into flowmaster collect, malformed datagrams counted. Every
# collector listens on the loopback of the test host it runs in.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRAMES=${IPFIX_FRAMES:-200000}
FLOWS=${IPFIX_FLOWS:-1000}

# nfcapd_start HOST DIR PORT: nfcapd on HOST's loopback, files in DIR.
nfcapd_start()
{
	lab_bg "$1" "$LAB_TMP/nfcapd.log" nfcapd -w "$2" -p "$3" -b 127.0.0.1 -t 3600 -B 8388608
	NFCAPD_PID=$LAB_PID
	wait_for 5 "nfcapd listening" udp_listening "$1" "$3"
}

# udp_listening HOST PORT: a UDP socket is bound to PORT in HOST.
udp_listening()
{
	lab_nsexec "$1" ss -Hlun "sport = :$2" | grep -q .
}

# nfdump_totals DIR: "flows|packets|bytes" of every file nfcapd wrote.
nfdump_totals()
{
	nfdump -R "$1" -q -N -o 'fmt:%pkt %byt' 2>/dev/null |
		awk '{ f++; p += $1; b += $2 } END { printf "%d|%d|%d\n", f, p, b }'
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
}

run_tests "$@"
