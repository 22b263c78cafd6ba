#!/usr/bin/env bash
# Other exporters live into flowmaster collect: softflowd (IPFIX and
# NetFlow v9, capturing on a lab veth) and pmacctd's nfprobe plugin
# (IPFIX), each exporting to flowmaster collect and to nfcapd at once; the
# collector's flows, packets and bytes (and per flow) equal what nfdump
# reads from nfcapd's file and what the exporter counted. With sampling
# (softflowd -s 4, pmacctd sampling_rate 4) the collector applies the rate
# the exporter announces in an options record, exactly x4; softflowd's
# interfaceName becomes an interfaces row. Every collector listens on the
# loopback of the test host it runs in.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/netns/ipfix-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/ipfix-lib.sh"

# udp_drained HOST PORT: nothing queued on PORT's socket in HOST.
udp_drained()
{
	[[ $(lab_nsexec "$1" ss -Hlun "sport = :$2" | awk '{ s += $2 } END { print s + 0 }') == 0 ]]
}

# promisc HOST IF: a capture has IF in promiscuous mode.
promisc()
{
	lab_nsexec "$1" ip -d link show dev "$2" | grep -q 'promiscuity [1-9]'
}

# The per-flow view both sides can give: addresses, ports (ICMP: type.code
# as nfdump prints it), protocol, packets, IP bytes.
nfdump_flows()
{
	nfdump -R "$1" -q -N -o 'fmt:%sa|%da|%sp|%dp|%pr|%pkt|%byt' | tr -d ' ' |
		sed 's/|UDP|/|17|/; s/|ICMP|/|1|/; s/|TCP|/|6|/' | sort
}
collect_flows()
{
	sql "$1" "select src_ip, dst_ip, src_port, case when protocol in (1, 58) then icmp_type || '.' || icmp_code else dst_port end, protocol, packets, coalesce(ip_bytes, 0) from flows;" | sort
}
# sf_processed HOST CTL N: softflowd has processed N packets at least
# and no more since the last call (its statistics, kept in
# $LAB_TMP/sfstat).
SF_LAST=-1
sf_processed()
{
	local n
	lab_nsexec "$1" softflowctl -c "$2" statistics >"$LAB_TMP/sfstat" 2>&1
	n=$(awk '/^Packets processed:/ { print $3 }' "$LAB_TMP/sfstat")
	[[ $n == "$SF_LAST" ]] && ((n >= $3)) && return 0
	SF_LAST=$n
	sleep 0.2
	return 1
}

# flush HOST IF: 3000 1514-byte frames of one UDP flow to port 7 from
# HOST/IF: a capture through libpcap's TPACKET_V3 ring hands a block to
# its reader only when the block is full (softflowd's last one stays
# unread), so these fill the blocks after the test's frames. Only the
# port-9 flows are the test's.
flush()
{
	local cfg=$LAB_TMP/flush.cfg peer phost pif
	peer=$(lab_peer "$1" "$2") || fail "no peer of $1/$2"
	read -r phost pif <<<"$peer"
	lab_trafgen_cfg "$cfg" "$(lab_mac "$1" "$2")" "$(lab_mac "$phost" "$pif")" \
		"$(lab_ip4 "$1" "$2")" "$(lab_ip4 "$phost" "$pif")" 1 1514 || fail "trafgen config"
	sed -i 's/dp=9/dp=7/' "$cfg"
	lab_nsexec "$1" timeout 10 trafgen -i "$cfg" -o "$2" -P 1 --no-sock-mem -Q -C -n 3000 >/dev/null 2>&1 ||
		fail "trafgen (flush)"
}

# softflowd_run VERSION: softflowd -v VERSION on b-a exporting to
# flowmaster collect (4739) and nfcapd (9995) on b's loopback at once;
# trafgen sends FRAMES frames over FLOWS UDP flows from a; softflowctl
# shutdown exports every flow. Collector == nfcapd == softflowd's own
# statistics == frames sent, per flow too.
softflowd_run()
{
	local v=$1 rate=${2:-1} frames=5000 flows=500 sfargs=()
	((rate > 1)) && sfargs=(-s "$rate")
	need_fm
	need_cmd trafgen sqlite3 nfcapd nfdump softflowd softflowctl ss
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local cdb=$LAB_TMP/collect.db dir=$LAB_TMP/nfcapd ctl=$LAB_TMP/softflowd.ctl sf
	mkdir -p "$dir"
	nfcapd_start b "$dir" 9995
	collect_start b "$LAB_TMP/collect.log" --listen 127.0.0.1:4739 --db "$cdb"
	lab_bg b "$LAB_TMP/softflowd.log" softflowd -d -i b-a -v "$v" -T full "${sfargs[@]}" \
		-n 127.0.0.1:4739,127.0.0.1:9995 -p "$LAB_TMP/softflowd.pid" -c "$ctl"
	sf=$LAB_PID
	local tsh=""
	if command -v tshark >/dev/null; then
		lab_bg b "$LAB_TMP/tshark.log" tshark -q -i lo -f "udp port 4739" -w "$LAB_TMP/sf.pcap"
		tsh=$LAB_PID
		wait_for 10 "tshark capturing" grep -q Capturing "$LAB_TMP/tshark.log"
	fi
	wait_for 5 "softflowd capturing on b-a" promisc b b-a
	sleep 0.3
	check "trafgen: $frames frames, $flows flows" lab_trafgen a a-b $frames $flows 10000
	flush a a-b
	wait_for 10 "softflowd processed every test frame" sf_processed b "$ctl" $((frames / rate + 1))
	lab_nsexec b softflowctl -c "$ctl" shutdown >/dev/null 2>&1 || fail "softflowctl shutdown"
	lab_wait_exit "$sf" 10; local rc=$?
	((rc != 124)) || fail "softflowd did not exit"
	info "softflowd exit $rc"
	wait_for 5 "the collectors read every datagram" udp_drained b 4739
	wait_for 5 "nfcapd read every datagram" udp_drained b 9995
	collect_stop
	lab_stop "$NFCAPD_PID" 5
	[[ -z $tsh ]] || lab_stop "$tsh" 5
	local got want sfp a
	a=$(lab_ip4 a a-b)
	got=$(sql "$cdb" "select count(*), sum(packets), coalesce(sum(ip_bytes), 0) from flows;")
	want=$(nfdump_totals "$dir")
	sfp=$(awk '/^Packets processed:/ { print $3 }' "$LAB_TMP/sfstat")
	info "softflowd -v $v: $(grep -E '^(Packets|Flows exported)' "$LAB_TMP/sfstat" | tr '\n' ';')"
	info "collector: $(grep -m1 datagrams "$LAB_TMP/collect.log" | sed 's/.*collect: //')"
	if ((rate == 1)); then
		check_eq "collector's flows | packets | bytes == nfdump's (nfcapd, the same export)" "$got" "$want"
		check_eq "per flow (addresses, ports, protocol, packets, bytes) == nfdump's" \
			"$(collect_flows "$cdb" | md5sum)" "$(nfdump_flows "$dir" | md5sum)"
		check_eq "collector's packets == softflowd's packets processed" "$(cut -d'|' -f2 <<<"$got")" "$sfp"
		check_eq "the test's flows: flows | packets | IP bytes == trafgen's (46 per 60-byte frame)" \
			"$(sql "$cdb" "select count(*), sum(packets), sum(ip_bytes) from flows where src_ip = '$a' and dst_port = 9;")" \
			"$flows|$frames|$((46 * frames))"
	else
		# softflowd -s N announces samplingPacketInterval 1 and
		# samplingPacketSpace N - 1; the collector multiplies packets and
		# bytes by N, nfcapd stores them as sent.
		check_log "the rate, logged" "exporter 127.0.0.1 \(ipfix, domain 0\) samples 1 in $rate packets" \
			"$LAB_TMP/collect.log"
		check_eq "collector's flows | packets | bytes == nfdump's x $rate" "$got" \
			"$(awk -F'|' -v n="$rate" '{ printf "%d|%d|%d\n", $1, $2 * n, $3 * n }' <<<"$want")"
		check_eq "per flow: collector's == nfdump's x $rate" "$(collect_flows "$cdb" | md5sum)" \
			"$(nfdump_flows "$dir" | awk -F'|' -v n="$rate" -v OFS='|' '{ $6 *= n; $7 *= n; print }' | md5sum)"
		# The estimate: N x the packets sampled (softflowd's "processed");
		# the packets it saw ("processed" + "non-sampled") differ from it
		# by the phase of the sampling, a few packets.
		check_eq "collector's packets == $rate x softflowd's packets processed (sampled)" \
			"$(cut -d'|' -f2 <<<"$got")" "$((rate * sfp))"
		info "packets softflowd saw: $((sfp + $(awk '/^Packets non-sampled:/ { print $3 }' "$LAB_TMP/sfstat"))), the estimate $(cut -d'|' -f2 <<<"$got")"
		check_eq "records renormalized (metric)" "$(metric "$cdb" collector_sampled_records)" "${got%%|*}"
	fi
	# softflowd names its capture interface (interfaceName, no ifindex:
	# 0, as its flow records carry): an interfaces row, every flow's.
	check_eq "interfaces row from softflowd's interfaceName: name | ifindex" \
		"$(sql "$cdb" "select name, ifindex from interfaces;")" "b-a|0"
	check_eq "flows with that interface" \
		"$(sql "$cdb" "select count(*) from flows f join interfaces i on i.id = f.interface_id where i.name = 'b-a';")" \
		"${got%%|*}"
	check_eq "collector: malformed | data sets without template" \
		"$(sql "$cdb" "select malformed, (select count(*) from exporters) from exporters;")" "0|1"
	# softflowd 1.1.0's IPFIX sequence number counts the message's own
	# records too (RFC 7011 says those before it): tshark flags the
	# messages, and the collector counts the first gap as lost (and
	# later ones backwards as resets). NetFlow v9 counts datagrams: exact.
	local lost
	lost=$(sql "$cdb" "select lost_records from exporters;")
	if ((v == 9)); then
		check_eq "v9: lost by sequence numbers" "$lost" 0
	else
		info "IPFIX: $lost records lost by softflowd's sequence numbers (its numbering, see above)"
	fi
	[[ -n $tsh ]] || return 0
	check_eq "tshark: malformed or without template" \
		"$(tshark -r "$LAB_TMP/sf.pcap" -d udp.port==4739,cflow -Y '_ws.malformed || cflow.no_template_found' 2>/dev/null | wc -l)" 0
}
test_softflowd_ipfix() { softflowd_run 10; }
test_softflowd_v9() { softflowd_run 9; }
test_softflowd_sampling() { softflowd_run 10 4; }

# pmacctd capturing on b-a with two nfprobe plugins (IPFIX,
# nfprobe_version 10), one exporting to flowmaster collect, one to nfcapd,
# and a print plugin counting what pmacctd saw: SIGINT ends it, every
# plugin exports or writes what it holds. Collector == nfcapd per flow ==
# pmacctd's print totals; the test's flows == frames sent.
test_pmacctd_nfprobe()
{
	local frames=5000 flows=500
	need_fm
	need_cmd trafgen sqlite3 nfcapd nfdump pmacctd ss
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local cdb=$LAB_TMP/collect.db dir=$LAB_TMP/nfcapd conf=$LAB_TMP/pmacctd.conf out=$LAB_TMP/print.csv
	mkdir -p "$dir"
	nfcapd_start b "$dir" 9995
	collect_start b "$LAB_TMP/collect.log" --listen 127.0.0.1:4739 --db "$cdb"
	cat >"$conf" <<-EOC
		daemonize: false
		pcap_interface: b-a
		plugins: nfprobe[c], nfprobe[n], print[p]
		nfprobe_receiver[c]: 127.0.0.1:4739
		nfprobe_receiver[n]: 127.0.0.1:9995
		nfprobe_version: 10
		aggregate[p]: src_host, dst_host, src_port, dst_port, proto
		print_output[p]: csv
		print_output_file[p]: $out
		print_refresh_time[p]: 60
	EOC
	lab_bg b "$LAB_TMP/pmacctd.log" pmacctd -f "$conf"
	local pm=$LAB_PID
	wait_for 5 "pmacctd capturing on b-a" promisc b b-a
	sleep 0.5
	check "trafgen: $frames frames, $flows flows" lab_trafgen a a-b $frames $flows 10000
	flush a a-b
	sleep 2
	kill -INT "$pm"
	lab_wait_exit "$pm" 10
	(($? != 124)) || fail "pmacctd did not exit"
	wait_for 5 "the collector read every datagram" udp_drained b 4739
	wait_for 5 "nfcapd read every datagram" udp_drained b 9995
	collect_stop
	lab_stop "$NFCAPD_PID" 5
	local got a rx
	a=$(lab_ip4 a a-b)
	rx=$(sed -n 's/.*received_packets=\([0-9]*\) dropped_packets=0.*/\1/p' "$LAB_TMP/pmacctd.log")
	got=$(sql "$cdb" "select count(*), sum(packets), coalesce(sum(ip_bytes), 0) from flows;")
	info "pmacctd: received_packets=$rx; collector: $(grep -m1 datagrams "$LAB_TMP/collect.log" | sed 's/.*collect: //')"
	diff <(collect_flows "$cdb") <(nfdump_flows "$dir") | head -5
	check_eq "collector's flows | packets | bytes == nfdump's (nfcapd, the other nfprobe)" \
		"$got" "$(nfdump_totals "$dir")"
	check_eq "per flow (addresses, ports, protocol, packets, bytes) == nfdump's" \
		"$(collect_flows "$cdb" | md5sum)" "$(nfdump_flows "$dir" | md5sum)"
	# The print plugin is a process of its own that writes its file as it
	# exits, after the core process has: once (CI) the file held 1 of its
	# rows when read. Read it until it adds up or 10 s have passed.
	local printed i
	for ((i = 0; i < 100; i++)); do
		printed=$(awk -F, '$1 != "SRC_IP" { f++; p += $(NF - 1); b += $NF } END { printf "%d|%d|%d\n", f, p, b }' "$out" 2>/dev/null)
		[[ $printed == "$got" ]] && break
		sleep 0.1
	done
	check_eq "== pmacctd's print plugin (flows | packets | bytes)" "$got" "$printed"
	check_eq "collector's packets == pmacctd's received_packets (none dropped)" "$(cut -d'|' -f2 <<<"$got")" "$rx"
	check_eq "the test's flows: flows | packets | IP bytes == trafgen's" \
		"$(sql "$cdb" "select count(*), sum(packets), sum(ip_bytes) from flows where src_ip = '$a' and dst_port = 9;")" \
		"$flows|$frames|$((46 * frames))"
	check_eq "exporters: protocol | lost | malformed | data sets without template" \
		"$(sql "$cdb" "select protocol, lost_records, malformed from exporters;")|$(sed -n 's/.* \([0-9]*\) data sets without their template.*/\1/p' "$LAB_TMP/collect.log")" \
		"ipfix|0|0|0"
}

# pmacctd with sampling_rate 4: its nfprobe (IPFIX) announces the rate in
# an options record and sends sampled counts; the collector multiplies
# them by 4. Exact: the collector's packets and bytes == 4 x those of the
# records in the datagrams it received (tshark), its rows == those records.
test_pmacctd_sampling()
{
	local frames=5000 flows=500
	need_fm
	need_cmd trafgen sqlite3 pmacctd ss tshark
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local cdb=$LAB_TMP/collect.db conf=$LAB_TMP/pmacctd.conf pcap=$LAB_TMP/pm.pcap
	collect_start b "$LAB_TMP/collect.log" --listen 127.0.0.1:4739 --db "$cdb"
	lab_bg b "$LAB_TMP/tshark.log" tshark -q -i lo -f "udp port 4739" -w "$pcap"
	local tsh=$LAB_PID
	wait_for 10 "tshark capturing" grep -q Capturing "$LAB_TMP/tshark.log"
	cat >"$conf" <<-EOC
		daemonize: false
		pcap_interface: b-a
		plugins: nfprobe[c]
		nfprobe_receiver[c]: 127.0.0.1:4739
		nfprobe_version: 10
		sampling_rate: 4
	EOC
	lab_bg b "$LAB_TMP/pmacctd.log" pmacctd -f "$conf"
	local pm=$LAB_PID
	wait_for 5 "pmacctd capturing on b-a" promisc b b-a
	sleep 0.5
	check "trafgen: $frames frames, $flows flows" lab_trafgen a a-b $frames $flows 10000
	sleep 1
	kill -INT "$pm"
	lab_wait_exit "$pm" 10
	(($? != 124)) || fail "pmacctd did not exit"
	wait_for 5 "the collector read every datagram" udp_drained b 4739
	sleep 0.5
	lab_stop "$tsh" 5
	collect_stop
	local got sent
	got=$(sql "$cdb" "select count(*), sum(packets), sum(ip_bytes) from flows;")
	sent=$(tshark -r "$pcap" -d udp.port==4739,cflow -T fields -E aggregator=' ' -e cflow.packets -e cflow.octets 2>/dev/null |
		awk 'NF { n = split($0, c, "\t"); k = split(c[1], p, " "); r += k
			for (i = 1; i <= k; i++) pk += p[i]
			split(c[2], o, " "); for (i in o) oc += o[i] }
			END { printf "%d|%d|%d\n", r, pk, oc }')
	info "pmacctd: $(grep -o 'received_packets=[0-9]*' "$LAB_TMP/pmacctd.log"); sent (sampled) $sent; collector $got"
	check_log "the rate, logged" "exporter 127.0.0.1 \(ipfix, domain 0\) samples 1 in 4 packets" "$LAB_TMP/collect.log"
	check_eq "collector: rows | packets | bytes == the records sent, counts x 4" "$got" \
		"$(awk -F'|' '{ printf "%d|%d|%d\n", $1, $2 * 4, $3 * 4 }' <<<"$sent")"
	check_eq "records renormalized (metric)" "$(metric "$cdb" collector_sampled_records)" "${got%%|*}"
}

run_tests "$@"
