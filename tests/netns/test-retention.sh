#!/usr/bin/env bash
# flowmaster run --retention: flows and metrics older than the window are
# deleted in small chunks while traffic goes on; the file stops growing,
# the oldest row stays within the window, the database stays intact, top
# reads it meanwhile, and per interface the kernel's count equals what
# flows and retired hold together. Daemon in b on b-a, traffic from a.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# age_ms DB QUERY: now (epoch ms) minus the time QUERY gives.
age_ms()
{
	sql "$1" "select cast(strftime('%s','now') as integer) * 1000 - ($2);"
}

# --retention 10s, 1 s timeouts, ~28 s of traffic over 1000 flows at
# ~9000 frames/s: a flow row per flow and second, ~28,000 in all.
test_retention_plateau()
{
	need_fm
	need_cmd trafgen sqlite3
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	local db=$LAB_TMP/flows.db n=250000 rx0 sizes=() t size age top_ok=0 tg
	local stored retired rows kept retired_rows
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --retention 10s --idle-timeout 1 --active-timeout 1 \
		--poll-interval 200 --metrics-interval 1
	check_log "retention line" "retention 10 s: older flows and metrics are deleted"
	LAB_TRAFGEN_BG=1 lab_trafgen a a-b $n 1000 10000
	tg=$LAB_PID
	# Every 5 s: the file's size; top reads the database meanwhile.
	for ((t = 5; t <= 30; t += 5)); do
		sleep 5
		# The database's own size (pages, through the WAL): the file
		# on disk follows it at each checkpoint (every 10 s).
		size=$(sql "$db" "select page_count * page_size from pragma_page_count, pragma_page_size;")
		sizes+=("$size")
		info "t=${t}s: database $size bytes, file $(stat -c %s "$db"), wal $(stat -c %s "$db-wal" 2>/dev/null || echo 0), rows $(sql "$db" "select count(*) from flows;"), retired $(sql "$db" "select coalesce(sum(flows), 0) from retired;")"
		lab_nsexec b "$FM" top --db "$db" --limit 3 >/dev/null && top_ok=$((top_ok + 1))
	done
	check_eq "top ran fine 6 times while retention deleted" "$top_ok" 6
	# The oldest row within the window (a pass every second: 10 s + 1.5 s).
	age=$(age_ms "$db" "select min(last_seen_ms) from flows")
	info "oldest flow row ended ${age} ms ago"
	check "oldest flow row within the window (${age} ms <= 11500)" test "$age" -le 11500
	age=$(age_ms "$db" "select min(ts_ms) from metrics")
	check "oldest metrics row within the window (${age} ms <= 11500)" test "$age" -le 11500
	# Plateau: from 15 s on (the window is full) the database grows by
	# less than a quarter, while without retention it would grow with the
	# rows written, which more than double from 15 to 30 s.
	info "database sizes at 5..30 s: ${sizes[*]}"
	check "the database stops growing: size at 30 s (${sizes[5]}) <= 1.25 x size at 15 s (${sizes[2]})" \
		test $((sizes[5] * 4)) -le $((sizes[2] * 5))
	lab_wait_exit "$tg" 90 # ~28 s at the paced rate; paced trafgen ran past 40 s at load average 6
	wait_for 10 "$n frames at b-a" rx_at_least b b-a $((rx0 + n))
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	check_log "kernel count == exported" "b-a: kernel saw $n packets, $n exported"
	check_eq "integrity_check" "$(sql "$db" "pragma integrity_check;")" ok
	check_eq "auto_vacuum (incremental)" "$(sql "$db" "pragma auto_vacuum;")" 2
	stored=$(iface_sum "$db" b-a packets)
	retired=$(sql "$db" "select coalesce(sum(packets), 0) from retired where $(on_iface b-a);")
	rows=$(sql "$db" "select count(*) from flows;")
	retired_rows=$(sql "$db" "select coalesce(sum(flows), 0) from retired;")
	info "stored $stored packets in $rows rows, retired $retired packets of $retired_rows rows"
	check "some flows were retired" test "$retired_rows" -gt 0
	check_eq "kernel seen == stored + retired (b-a, ingress)" "$((stored + retired))" $n
	check_eq "retired bytes + stored bytes" \
		"$(($(iface_sum "$db" b-a bytes) + $(sql "$db" "select coalesce(sum(bytes), 0) from retired where $(on_iface b-a);")))" \
		$((n * 60))
	check_eq "one retired row per interface and direction" \
		"$(sql "$db" "select count(*) from retired;")" 1
	check_eq "retired_flows metric == retired.flows" "$(metric "$db" retired_flows)" "$retired_rows"
	kept=$(sql "$db" "select count(*) from flows where end_reason != 'shutdown';")
	info "rows kept at stop (other than shutdown): $kept"
}

run_tests "$@"
