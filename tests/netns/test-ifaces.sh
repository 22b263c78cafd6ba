#!/usr/bin/env bash
# Interfaces that come and go: one deleted while the daemon runs is
# reported, shows as not attached in status and /metrics, and is attached
# again when an interface of that name appears (new ifindex), its packets
# counted in the same slot; --wait-interface starts before the interface
# exists. Every packet still reconciles exactly.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=9464

# js FILE EXPR: EXPR (Python, j = the JSON in FILE).
js()
{
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# status_json HOST PIN FILE: flowmaster status --json into FILE.
status_json() { lab_nsexec "$1" "$FM" status --json --pin-path "$2" >"$3"; }

# prom_value HOST SAMPLE: a sample's value from /metrics.
prom_value()
{
	lab_nsexec "$1" curl -sf -m 5 "http://127.0.0.1:$PORT/metrics" | awk -v k="$2" '$1 == k { print $2 }'
}

prom_is() { [[ $(prom_value "$1" "$2") == "$3" ]]; }

test_deleted_and_back()
{
	need_fm
	need_cmd python3 curl trafgen sqlite3
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/flows.db pin st=$LAB_TMP/status.json idx1 idx2 out
	pin=$(lab_pin_dir)
	idx1=$(lab_ifindex b b-a)
	fm_start b -i b-a --db "$db" --pin-path "$pin" --idle-timeout 1 --poll-interval 200 \
		--metrics-listen ":$PORT"
	check "trafgen: 1000 frames" lab_trafgen a a-b 1000 10 10000
	wait_for 5 "1000 frames counted" prom_is b \
		'flowmaster_kernel_packets_total{interface="b-a",direction="ingress"}' 1000
	info "deleting the veth pair (b-a, ifindex $idx1)"
	ip -n "$(lab_ns b)" link del b-a
	wait_for 5 "'interface gone' in the log" log_has "b-a: interface gone"
	check_log "reported with its count" "b-a: interface gone .* its 1000 packets counted so far are kept"
	status_json b "$pin" "$st" || fail "status --json"
	check_eq "status --json: running, nothing attached, b-a gone" \
		"$(js "$st" '(j["state"], j["interfaces_attached"], j["interfaces"][0]["state"])')" \
		"('running', 0, 'gone')"
	out=$(lab_nsexec b "$FM" status --pin-path "$pin")
	check "status says nothing is attached" grep -q "no interface is attached: this daemon monitors nothing" <<<"$out"
	check_eq "/metrics: interfaces_attached" "$(prom_value b flowmaster_interfaces_attached)" 0
	check_eq "/metrics: b-a gone" "$(prom_value b 'flowmaster_interface_attached{interface="b-a",state="gone"}')" 0

	info "creating the veth pair again"
	lab_link a b
	idx2=$(lab_ifindex b b-a)
	wait_for 5 "b-a attached again" lab_xdp_attached b b-a
	check_log "'back' in the log" "b-a: back: attached \(.* XDP, ifindex $idx2,"
	info "ifindex $idx1, then $idx2"
	check "trafgen: 2000 frames on the new b-a" lab_trafgen a a-b 2000 20 10000
	wait_for 5 "3000 frames counted in the slot" prom_is b \
		'flowmaster_kernel_packets_total{interface="b-a",direction="ingress"}' 3000
	check_eq "/metrics: interfaces_attached" "$(prom_value b flowmaster_interfaces_attached)" 1
	status_json b "$pin" "$st" || fail "status --json"
	check_eq "status --json: attached, new ifindex, 3000 packets" \
		"$(js "$st" '(j["interfaces_attached"], j["interfaces"][0]["state"], j["interfaces"][0]["ifindex"], j["interfaces"][0]["counters"]["packets"])')" \
		"(1, 'attached', $idx2, 3000)"
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	check_log "reconciled at stop" "b-a: kernel saw 3000 packets, 3000 exported"
	check_eq "SQLite: all packets on b-a" "$(iface_sum "$db" b-a packets)" 3000
	check_eq "interfaces rows: the first detached, the second with the new ifindex" \
		"$(sql "$db" "select group_concat(ifindex || ':' || (detached_ms is not null), ',') from (select * from interfaces where name = 'b-a' order by id);")" \
		"$idx1:1,$idx2:1"
	check_eq "flows per interfaces row (old incarnation, new one)" \
		"$(sql "$db" "select group_concat(p, ',') from (select sum(f.packets) p from flows f join interfaces i on i.id = f.interface_id where i.name = 'b-a' group by i.id order by i.id);")" \
		"1000,2000"
}

test_wait_interface()
{
	need_fm
	need_cmd python3 trafgen sqlite3
	lab_host b --no-ipv6
	lab_host c --no-ipv6
	local db=$LAB_TMP/flows.db pin st=$LAB_TMP/status.json
	pin=$(lab_pin_dir)
	fm_run b run -i b-c --db "$LAB_TMP/x.db" --pin-path "$pin"
	check_eq "without --wait-interface: runtime error" "$FM_RC" 1
	check "message says what to do" grep -q "b-c: no such interface (--wait-interface starts without it" <<<"$FM_OUT"
	FM_LOG=$LAB_TMP/wait.log
	lab_bg b "$FM_LOG" "$FM" run -i b-c --wait-interface --direction ingress --config none \
		--db "$db" --pin-path "$pin" \
		--idle-timeout 1 --poll-interval 200
	FM_PID=$LAB_PID
	wait_for 10 "waiting line" log_has "b-c: no such interface yet; waiting for it"
	wait_for 10 "status: waiting" bash -c "nsenter --net=/run/netns/$(lab_ns b) $FM status --json --pin-path $pin >$st 2>/dev/null && grep -q '\"state\":\"waiting\"' $st"
	check_eq "status --json: running, waiting, nothing attached" \
		"$(js "$st" '(j["state"], j["interfaces"][0]["name"], j["interfaces"][0]["state"], j["interfaces_attached"])')" \
		"('running', 'b-c', 'waiting', 0)"
	lab_link c b
	wait_for 5 "b-c attached when it appeared" lab_xdp_attached b b-c
	check_log "'appeared' in the log" "b-c: appeared: attached"
	check "trafgen: 1500 frames" lab_trafgen c c-b 1500 15 10000
	wait_for 10 "flows in SQLite" sql_at_least "$db" \
		"select coalesce(sum(packets), 0) from flows where $(on_iface b-c);" 1500
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	check_log "reconciled at stop" "b-c: kernel saw 1500 packets, 1500 exported"
	check_eq "SQLite: packets on b-c" "$(iface_sum "$db" b-c packets)" 1500
}

run_tests "$@"
