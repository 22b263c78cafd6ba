#!/usr/bin/env bash
# Machine-readable output: status --json on a running daemon and after it
# stopped, top --json and top --csv on its database, parsed with python3
# and checked against exact counts.
# Daemon in b on b-a, traffic from a.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# py FILE EXPR: evaluate the Python expression EXPR with the JSON in FILE
# as j; prints the result.
py()
{
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

test_status_and_top_json_csv()
{
	need_fm
	need_cmd python3 trafgen sqlite3
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/flows.db pin n=2500 rx0 s=$LAB_TMP/status.json t=$LAB_TMP/top.json
	local csv=$LAB_TMP/top.csv
	pin=$(lab_pin_dir)
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --pin-path "$pin" --idle-timeout 1 --metrics-interval 1 \
		--poll-interval 200
	check "trafgen: $n frames, 25 flows" lab_trafgen a a-b $n 25 10000
	wait_for 5 "$n frames at b-a" rx_at_least b b-a $((rx0 + n))
	# While it runs: status from the pins (the flows leave the table after
	# the 1 s idle timeout).
	wait_for 10 "every packet exported" bash -c "nsenter --net=/run/netns/$(lab_ns b) $FM status --json --pin-path $pin >$s && grep -q '\"exported_packets\":{\"ingress\":$n,' $s"
	info "status --json: $(head -c 300 "$s")..."
	check_eq "state" "$(py "$s" 'j["state"]')" running
	check_eq "pid" "$(py "$s" 'j["pid"]')" "$FM_PID"
	check_eq "interfaces attached" "$(py "$s" 'j["interfaces_attached"]')" 1
	check_eq "interface name, state, mode" \
		"$(py "$s" '(j["interfaces"][0]["name"], j["interfaces"][0]["state"], j["interfaces"][0]["xdp_mode"] in ("native", "generic"))')" \
		"('b-a', 'attached', True)"
	check_eq "kernel packets" "$(py "$s" 'j["interfaces"][0]["counters"]["packets"]')" $n
	check_eq "kernel bytes" "$(py "$s" 'j["interfaces"][0]["counters"]["bytes"]')" $((n * 60))
	check_eq "parse errors" "$(py "$s" 'sum(v for k, v in j["interfaces"][0]["counters"].items() if k.startswith("err_"))')" 0
	check_eq "exported (ingress)" "$(py "$s" 'j["interfaces"][0]["exported_packets"]["ingress"]')" $n
	check_eq "not yet exported" "$(py "$s" 'j["interfaces"][0]["not_yet_exported_packets"]')" 0
	check_eq "map fill is a count" "$(py "$s" 'j["map_fill"]["flows"] >= 0 and j["map_fill"]["max_flows"] > 0')" True
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0

	# After the stop: the database is complete; status reads its metrics.
	lab_nsexec b "$FM" status --json --pin-path "$pin" --db "$db" >"$s" ||
		fail "status --json after stop failed"
	check_eq "after stop" "$(py "$s" '(j["state"], j["running"], j["interfaces_attached"])')" \
		"('not_running', False, 0)"
	check_eq "metrics: packets_processed" "$(py "$s" 'int(j["metrics"]["values"]["packets_processed"])')" $n
	check_eq "metrics: flows_stored" "$(py "$s" 'int(j["metrics"]["values"]["flows_stored"])')" 25

	lab_nsexec b "$FM" top --db "$db" --json --limit 100 >"$t" || fail "top --json failed"
	info "top --json: $(head -c 300 "$t")..."
	check_eq "top: totals" "$(py "$t" '(j["totals"]["records"], j["totals"]["packets"], j["totals"]["bytes"], j["totals"]["unattributed_packets"])')" \
		"(25, $n, $((n * 60)), 0)"
	check_eq "top: one talker with every packet" \
		"$(py "$t" '(len(j["talkers"]), j["talkers"][0]["source"], j["talkers"][0]["packets"], j["talkers"][0]["flows"], j["talkers"][0]["share"])')" \
		"(1, '$(lab_ip4 a a-b)', $n, 25, 1)"
	check_eq "top: 25 flows adding up" "$(py "$t" '(len(j["flows"]), sum(f["packets"] for f in j["flows"]), sorted(set((f["interface"], f["protocol_name"], f["dst_port"]) for f in j["flows"])))')" \
		"(25, $n, [('b-a', 'udp', 9)])"
	check_eq "top: source ports 10000..10024" "$(py "$t" 'sorted(f["src_port"] for f in j["flows"]) == list(range(10000, 10025))')" True

	lab_nsexec b "$FM" top --db "$db" --csv --limit 100 >"$csv" || fail "top --csv failed"
	info "top --csv: $(head -n 2 "$csv" | tr '\n' ' ')"
	check_eq "top --csv: rows, packets, bytes" "$(python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(len(rows), sum(int(r["packets"]) for r in rows), sum(int(r["bytes"]) for r in rows),
      sorted(set((r["src_ip"], r["dst_port"], r["protocol_name"], r["icmp_type"]) for r in rows)))' "$csv")" \
		"25 $n $((n * 60)) [('$(lab_ip4 a a-b)', '9', 'udp', '')]"
	check_eq "top --csv: the same flows as sqlite3" \
		"$(python3 -c 'import csv, sys; print(sorted((int(r["src_port"]), int(r["packets"])) for r in csv.DictReader(open(sys.argv[1]))))' "$csv")" \
		"$(python3 -c 'import sys; print(sorted(tuple(map(int, l.split("|"))) for l in sys.stdin.read().split()))' \
			<<<"$(sql "$db" "select src_port, sum(packets) from flows group by src_port;")")"

}

run_tests "$@"
