#!/usr/bin/env bash
# flowmaster run under faults: a full disk, a locked, deleted or replaced
# database, an interface deleted while attached, flow map and ring buffer
# full, SIGKILL at random moments, SIGHUP and SIGPIPE, file modes, and no
# privileges. Each test asserts what is kept (exact counts) and what is
# reported (log lines, metrics, exit status); the table of outcomes is
# tests/netns/RELIABILITY-faults.md.
#
# Test hosts a and b (IPv6 off: the link carries only what the test sends),
# flowmaster in b on its end b-a, trafgen in a. Small tmpfs mounts made here
# are unmounted by the EXIT trap before the lab removes its files.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Flow maps of this size preallocate in a few ms; tests that do not test
# map sizing use it so that a start costs little.
SMALL_MAPS=(--max-flows 16384)

two_hosts()
{
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
}

# check_detached HOST IFACE: no XDP program is left on the interface.
check_detached()
{
	lab_xdp_attached "$1" "$2" && fail "an XDP program is still attached to $2"
	echo "ok - nothing attached to $2"
}

# check_integrity DB: PRAGMA integrity_check says ok.
check_integrity()
{
	check_eq "PRAGMA integrity_check of ${1##*/}" "$(sql "$1" "PRAGMA integrity_check;")" ok
}

# status_exported_at_least N: the daemon's last status line reports N or
# more records exported.
status_exported_at_least()
{
	local n
	n=$(grep -oE '[0-9]+ records exported' "$FM_LOG" | tail -n 1 | cut -d' ' -f1)
	((${n:-0} >= $1))
}

# db_packets_at_least DB N: the database exists and its flows hold N or
# more packets (never creates DB, as the sqlite3 CLI would).
db_packets_at_least()
{
	[[ -e $1 ]] && sql_at_least "$1" "select coalesce(sum(packets), 0) from flows;" "$2"
}

# kernel_packets PIN SLOT: packets the program counted for an interface
# slot, summed over CPUs, read from the pinned counters map.
kernel_packets()
{
	bpftool -j map lookup pinned "$1/counters" key "$2" 0 0 0 |
		jq '[.formatted.values[].value.packets] | add'
}

# --- small file systems ---------------------------------------------------

FAULT_MOUNTS=()
fault_cleanup()
{
	local m
	# Lazily: the daemon may still hold files there; the lab stops it.
	for m in "${FAULT_MOUNTS[@]}"; do
		umount -l "$m" 2>/dev/null
	done
	lab_cleanup
}

# mount_tmpfs SIZE: mount a new tmpfs of SIZE (e.g. 2M) and set MNT to its
# path; it is unmounted at exit, also when the test fails. Not in $(...):
# the trap must be set in the test's shell.
mount_tmpfs()
{
	MNT=$(lab_tmpdir) || return 1
	mount -t tmpfs -o "size=$1,mode=0700" fm-faults "$MNT" || return 1
	FAULT_MOUNTS+=("$MNT")
	trap fault_cleanup EXIT
}

# fill_disk DB: start a daemon on DB (in a 2 MiB tmpfs), send flows until
# the writer reports the disk full. Sets RX0 (b-a's rx counter before) and
# PIN.
fill_disk()
{
	local db=$1
	PIN=$(lab_pin_dir)
	RX0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" "${SMALL_MAPS[@]}" --pin-path "$PIN" \
		--idle-timeout 1 --poll-interval 200 --metrics-interval 1
	# 40,000 flows of 2 frames: ~40,000 rows, more than 2 MiB holds.
	check "trafgen: 80000 frames over 40000 flows" lab_trafgen a a-b 80000 40000 0
	wait_for 30 "the writer reporting the disk full" log_has "database or disk is full"
	check_log "the cause is named" "store: .*database or disk is full; keeping [0-9]+ records in memory"
}

# Disk full, then space again: nothing is lost.
test_disk_full_then_space()
{
	need_fm
	need_cmd trafgen sqlite3 bpftool jq
	two_hosts
	local mnt db rx k exp
	mount_tmpfs 2M || skip "cannot mount a tmpfs"
	mnt=$MNT
	db=$mnt/flows.db
	fill_disk "$db"
	# Full: the kernel goes on counting and the daemon on draining.
	check "trafgen: 20000 more frames while full" lab_trafgen a a-b 20000 100 0
	wait_for 5 "100000 frames at b-a" rx_at_least b b-a $((RX0 + 100000))
	rx=$(($(lab_rx_packets b b-a) - RX0))
	check_eq "frames received while the disk is full" "$rx" 100000
	k=$(kernel_packets "$PIN" 1)
	check_eq "kernel counter of b-a (disk full)" "$k" "$rx"
	# Every flow of both sends exported while the disk is full, and held:
	# exported == written + queued in the daemon's status line.
	wait_for 10 "all 40100 flows exported" status_exported_at_least 40100
	local line w q
	line=$(grep -E '[0-9]+ records exported' "$FM_LOG" | tail -n 1)
	read -r exp w q < <(sed -E 's/.* ([0-9]+) records exported, ([0-9]+) rows written, .* ([0-9]+) queued$/\1 \2 \3/' <<<"$line")
	info "while full: $exp records exported, $w rows written, $q queued"
	((q > 0)) || fail "nothing queued while the disk is full: $line"
	check_eq "records exported == rows written + records queued" "$exp" $((w + q))
	fm_running || fail "the daemon died on a full disk"
	# Space returns: the records kept in memory are written.
	check "grow the tmpfs to 64 MiB" mount -o remount,size=64M "$mnt"
	wait_for 20 "the writer writing again" log_has "writing again after [0-9]+ failed attempts"
	check_log "recovery is reported" "writing again after [0-9]+ failed attempts"
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	check_eq "sum(packets) for b-a == frames received" "$(iface_sum "$db" b-a packets)" "$rx"
	check_eq "sum(bytes) for b-a" "$(iface_sum "$db" b-a bytes)" $((rx * 60))
	check_eq "failed transactions show in the metrics (database_error_ratio > 0)" \
		"$(sql "$db" "select max(value) > 0 from metrics where name = 'database_error_ratio';")" 1
	check_integrity "$db"
}

# Disk full until the end: the daemon says how much it could not write,
# exits 1, and the database is sound.
test_disk_full_at_shutdown()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local mnt db n stored rx
	mount_tmpfs 2M || skip "cannot mount a tmpfs"
	mnt=$MNT
	db=$mnt/flows.db
	fill_disk "$db"
	fm_stop TERM
	check_eq "exit status with records unwritten" "$FM_RC" 1
	check_log "the loss is counted" "Z error: [0-9]+ flow records could not be written to $db"
	n=$(sed -nE 's/.*Z error: ([0-9]+) flow records could not be written.*/\1/p' "$FM_LOG")
	((n > 0)) || fail "unwritten records reported: $n"
	check_log "the writer gives up naming the cause" "giving up: $n flow records.*database or disk is full"
	rx=$(($(lab_rx_packets b b-a) - RX0))
	stored=$(iface_sum "$db" b-a packets)
	info "frames received $rx, stored $stored, records not written $n"
	((stored < rx)) || fail "stored $stored of $rx frames on a full disk?"
	# Every record is accounted for: exported (the status line written at
	# shutdown) == rows in the file + records reported unwritten.
	local exp rows
	exp=$(grep -oE '[0-9]+ records exported' "$FM_LOG" | tail -n 1 | cut -d' ' -f1)
	rows=$(sql "$db" "select count(*) from flows;")
	check_eq "records exported == rows stored + records unwritten" "$exp" $((rows + n))
	check_log "the kernel's count reconciles with the export" "b-a: kernel saw $rx packets, $rx exported"
	check_integrity "$db"
	check_detached b b-a
}

# Another process holds the write lock longer than busy_timeout (5 s): the
# writer reports it, keeps the records and retries; nothing is lost.
test_db_locked()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db fifo=$LAB_TMP/lock.fifo holder rx0 rx t0
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" "${SMALL_MAPS[@]}" --idle-timeout 1 --poll-interval 200
	# The lock holder: a sqlite3 CLI reading statements from a fifo.
	# Opened read-write first, so that neither open blocks; closing fd 8
	# is the holder's end of input.
	mkfifo "$fifo"
	exec 8<>"$fifo"
	sqlite3 "$db" <"$fifo" >"$LAB_TMP/holder.log" 2>&1 8>&- &
	holder=$!
	LAB_PIDS+=("$holder")
	echo "BEGIN IMMEDIATE; INSERT INTO metrics(ts_ms, name, value) VALUES (0, 'lock_holder', 1);" >&8
	t0=$(date +%s%N)
	wait_for 5 "the lock being held" \
		eval "! sqlite3 '$db' 'BEGIN IMMEDIATE; ROLLBACK;' 2>/dev/null"
	check "trafgen: 20000 frames over 2000 flows" lab_trafgen a a-b 20000 2000 0
	# Held until the writer has waited out busy_timeout at least once.
	wait_for 20 "the writer reporting the lock" log_has "database is locked"
	check_log "the lock is reported" "store: .*database is locked; keeping [0-9]+ records in memory"
	echo "COMMIT;" >&8
	exec 8>&-
	info "write lock held for $((($(date +%s%N) - t0) / 1000000)) ms"
	lab_wait_exit "$holder" 5 || fail "the lock holder failed: $(cat "$LAB_TMP/holder.log")"
	wait_for 20 "the writer writing again" log_has "writing again after"
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	rx=$(($(lab_rx_packets b b-a) - rx0))
	check_eq "frames received" "$rx" 20000
	check_eq "sum(packets) for b-a" "$(iface_sum "$db" b-a packets)" "$rx"
	check_eq "the other process's row" "$(sql "$db" "select count(*) from metrics where name = 'lock_holder';")" 1
	check_integrity "$db"
}

# The database deleted while in use, then moved away (log rotation) and
# replaced by a file that is not a database, then that removed: each is
# reported; rows go to the database at the path as soon as there is one.
test_db_deleted_and_replaced()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local dir db rot junk rows
	dir=$(lab_tmpdir)
	db=$dir/flows.db rot=$dir/rotated.db junk=$dir/junk
	fm_start b -i b-a --db "$db" "${SMALL_MAPS[@]}" --idle-timeout 1 --poll-interval 200 \
		--metrics-interval 1
	check "trafgen: 10000 frames (first file)" lab_trafgen a a-b 10000 100 0
	wait_for 15 "10000 packets in the first file" db_packets_at_least "$db" 10000
	rows=$(sql "$db" "select count(*) from flows;")

	# 1. Deleted (the main file only, as `rm flows.db` does).
	rm -f "$db"
	check "trafgen: 20000 frames (after the delete)" lab_trafgen a a-b 20000 200 0
	wait_for 15 "the deletion reported" log_has "was deleted while in use"
	check_log "deletion reported with the rows lost" \
		"warning: store: $db was deleted while in use: the $rows flow rows written to it since it was opened are lost"
	wait_for 15 "20000 packets in the new file" db_packets_at_least "$db" 20000
	check_eq "packets in the new file" "$(iface_sum "$db" b-a packets)" 20000
	check_eq "interfaces row in the new file" "$(sql "$db" "select name, detached_ms is null from interfaces;")" "b-a|1"

	# 2. Rotated (moved away) and replaced by a file that is not a database.
	rows=$(sql "$db" "select count(*) from flows;")
	mv "$db" "$rot"
	for _ in {1..100}; do echo "this is not an SQLite database"; done >"$junk"
	mv "$junk" "$db"
	check "trafgen: 5000 frames (junk at the path)" lab_trafgen a a-b 5000 50 0
	wait_for 15 "the move reported" log_has "was moved or replaced while in use"
	check_log "move reported" "warning: store: $db was moved or replaced while in use: its $rows flow rows .* stay in the old file"
	wait_for 15 "the junk reported" log_has "file is not a database; keeping"
	check_log "junk at the path reported, records kept" "store: $db: (reading the schema: )?file is not a database; keeping [0-9]+ records in memory"
	# The rotated file is whole without its -wal: the daemon let go of it.
	check_eq "packets in the rotated file" "$(iface_sum "$rot" b-a packets)" 20000
	check_integrity "$rot"
	fm_running || fail "the daemon died"

	# 3. The junk removed: a new database, with what was kept.
	rm -f "$db"
	wait_for 20 "5000 packets in the third file" db_packets_at_least "$db" 5000
	check_log "the new file reported" "warning: store: $db: now writing to this file"
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	check_eq "packets in the third file" "$(iface_sum "$db" b-a packets)" 5000
	check_eq "interfaces row detached at shutdown" \
		"$(sql "$db" "select count(*) from interfaces where name = 'b-a' and detached_ms >= attached_ms;")" 1
	check_integrity "$db"
	check_eq "mode of the recreated file" "$(stat -c %a "$db")" 640
}

# devices_sum DB COLUMN: sum of devices.COLUMN in DB (0 if none).
devices_sum() { sql "$1" "select coalesce(sum($2), 0) from devices;"; }

# The database moved aside (log rotation) mid-run while traffic flows and
# the writer is behind its queue, so it holds device totals of flows
# already committed (it writes them back only every 2.5 s then): they are
# written into the moved file before the daemon goes on in a new one, so
# across both files the devices' and the flows' packets are the traffic.
test_db_moved_device_totals()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local dir db rot rx0 rx n=200000 tg flows sent recv
	dir=$(lab_tmpdir)
	db=$dir/flows.db rot=$dir/flows.db.1
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --max-flows 131072 --idle-timeout 1 --poll-interval 200 \
		--metrics-interval 1
	# 100,000 flows of 2 frames at 20,000 frames/s, 10 s apart: a flow
	# record per frame, more than the writer keeps up with at once.
	LAB_TRAFGEN_BG=1 lab_trafgen a a-b $n 100000 20000
	tg=$LAB_PID
	wait_for 20 "flows in the first file" db_packets_at_least "$db" 20000
	check "move the database aside while traffic flows" mv "$db" "$rot"
	info "moved with $(sql "$rot" "select count(*) from flows;") flow rows in it"
	wait_for 20 "the move reported" log_has "was moved or replaced while in use"
	check_log "move reported" "warning: store: $db was moved or replaced while in use: its [0-9]+ flow rows since it was opened, and their device totals, stay in the old file"
	lab_wait_exit "$tg" 40
	wait_for 5 "$n frames at b-a" rx_at_least b b-a $((rx0 + n))
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	rx=$(($(lab_rx_packets b b-a) - rx0))
	check_eq "frames received" "$rx" $n
	check_log "the kernel's count reconciles with the export" "b-a: kernel saw $rx packets, $rx exported"
	flows=$(($(iface_sum "$rot" b-a packets) + $(iface_sum "$db" b-a packets)))
	check_eq "flows' packets across both files == the kernel's count" "$flows" "$rx"
	((flows > $(iface_sum "$db" b-a packets))) || fail "nothing in the moved file"
	sent=$(($(devices_sum "$rot" packets_sent) + $(devices_sum "$db" packets_sent)))
	recv=$(($(devices_sum "$rot" packets_received) + $(devices_sum "$db" packets_received)))
	info "moved file: flows $(iface_sum "$rot" b-a packets), devices sent $(devices_sum "$rot" packets_sent); new file: flows $(iface_sum "$db" b-a packets), devices sent $(devices_sum "$db" packets_sent)"
	check_eq "devices' packets_sent across both files == the traffic" "$sent" "$rx"
	check_eq "devices' packets_received across both files == the traffic" "$recv" "$rx"
	check_eq "moved file: its devices' totals == its flows" "$(devices_sum "$rot" packets_sent)" \
		"$(iface_sum "$rot" b-a packets)"
	check_integrity "$rot"
	check_integrity "$db"
}

# A start on a full disk: exit 1 with the cause, and no empty database
# file left behind.
test_full_disk_at_start()
{
	need_fm
	need_cmd sqlite3
	two_hosts
	local mnt db
	mount_tmpfs 1M || skip "cannot mount a tmpfs"
	mnt=$MNT
	db=$mnt/flows.db
	dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null	# until it is full
	info "free on the tmpfs: $(df -B1 --output=avail "$mnt" | tail -n 1) bytes"
	fm_run b run -i b-a --db "$db" "${SMALL_MAPS[@]}" --pin-path "$(lab_pin_dir)"
	check_eq "exit status on a full disk" "$FM_RC" 1
	grep -qE "store: $db: .*(database or disk is full|disk I/O error)" <<<"$FM_OUT" ||
		fail "the cause is not named: $FM_OUT"
	echo "ok - the cause is named: $(grep -m1 -E "store: $db" <<<"$FM_OUT")"
	[[ -e $db ]] && fail "an empty database file was left behind: $(ls -la "$mnt")"
	echo "ok - no file left behind: $(find "$mnt" -mindepth 1 -printf '%f ')"
	check_detached b b-a
	# With room, the same start works.
	rm -f "$mnt/filler"
	fm_start b -i b-a --db "$db" "${SMALL_MAPS[@]}"
	fm_stop TERM
	check_eq "exit status with room" "$FM_RC" 0
	check_eq "schema version" "$(sql "$db" "PRAGMA user_version;")" 2
}

# One of two interfaces deleted while attached: logged, detached_ms
# recorded, its counts kept; the other goes on counting exactly.
test_interface_deleted()
{
	need_fm
	need_cmd trafgen sqlite3
	lab_host m --no-ipv6
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a m
	lab_link b m
	local db=$LAB_TMP/flows.db ra0 rb0 ra rb
	ra0=$(lab_rx_packets m m-a) rb0=$(lab_rx_packets m m-b)
	fm_start m -i m-a -i m-b --db "$db" "${SMALL_MAPS[@]}" --poll-interval 200
	check "trafgen a: 30000 frames" lab_trafgen a a-m 30000 300 0
	check "trafgen b: 20000 frames" lab_trafgen b b-m 20000 200 0 100
	wait_for 5 "30000 frames at m-a" rx_at_least m m-a $((ra0 + 30000))
	wait_for 5 "20000 frames at m-b" rx_at_least m m-b $((rb0 + 20000))
	ra=$(($(lab_rx_packets m m-a) - ra0))
	check_eq "frames received by m-a" "$ra" 30000
	# Deleting a's end deletes the pair, m-a with it.
	check "delete the veth pair a-m/m-a" ip -n "$(lab_ns a)" link del a-m
	wait_for 10 "the deletion logged" log_has "m-a: interface gone"
	check_log "deletion logged" "warning: m-a: interface gone .* its 30000 packets counted so far are kept"
	check "trafgen b: 10000 more frames" lab_trafgen b b-m 10000 200 0 100
	wait_for 5 "30000 frames at m-b" rx_at_least m m-b $((rb0 + 30000))
	fm_running || fail "the daemon died with the interface"
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	rb=$(($(lab_rx_packets m m-b) - rb0))
	check_eq "frames received by m-b" "$rb" 30000
	check_eq "sum(packets) for m-a (deleted)" "$(iface_sum "$db" m-a packets)" "$ra"
	check_eq "sum(bytes) for m-a" "$(iface_sum "$db" m-a bytes)" $((ra * 60))
	check_eq "sum(packets) for m-b" "$(iface_sum "$db" m-b packets)" "$rb"
	check_eq "sum(bytes) for m-b" "$(iface_sum "$db" m-b bytes)" $((rb * 100))
	check_eq "m-a detached before m-b (at the deletion, not at shutdown)" "$(sql "$db" "
		select a.detached_ms is not null and a.detached_ms >= a.attached_ms
		       and a.detached_ms < b.detached_ms
		from interfaces a, interfaces b where a.name = 'm-a' and b.name = 'm-b';")" 1
	check_log "m-a reconciles at shutdown" "m-a: kernel saw 30000 packets, 30000 exported"
	check_detached m m-b
}

# A 1024-entry flow map under 100,000 distinct flows: the overflow goes to
# the ring buffer (and, if that fills, to the overflow counters); the
# totals stay exact.
test_map_full_churn()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db n=400000 flows=100000 rx0 rx
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --max-flows 1024 --poll-interval 200
	check "trafgen: $n frames over $flows flows" lab_trafgen a a-b $n $flows 0
	wait_for 5 "$n frames at b-a" rx_at_least b b-a $((rx0 + n))
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	rx=$(($(lab_rx_packets b b-a) - rx0))
	check_eq "frames received" "$rx" $n
	check_eq "sum(packets) for b-a" "$(iface_sum "$db" b-a packets)" "$rx"
	check_eq "sum(bytes) for b-a" "$(iface_sum "$db" b-a bytes)" $((rx * 60))
	check_eq "packets_processed metric" "$(metric "$db" packets_processed)" "$rx"
	local mf rb ov
	mf=$(metric "$db" map_full_events) rb=$(metric "$db" ringbuf_events)
	ov=$(metric "$db" overflow_packets)
	info "map_full_events $mf, ringbuf_events $rb, overflow_packets $ov"
	((mf > 0)) || fail "map_full_events = $mf, want > 0"
	((rb > 0)) || fail "ringbuf_events = $rb, want > 0"
	check_eq "overflow rows carry the overflow counter" \
		"$(sql "$db" "select coalesce(sum(packets), 0) from flows where end_reason = 'overflow';")" "$ov"
	# lab_trafgen makes 17 * k distinct flows, k even, >= FLOWS (lab.sh).
	local distinct k=$(((flows + 16) / 17))
	((k % 2)) && k=$((k + 1))
	distinct=$(sql "$db" "select count(*) from (select distinct src_ip, src_port from flows where end_reason != 'overflow');")
	if ((ov == 0)); then
		check_eq "distinct flows stored (every packet attributed)" "$distinct" $((17 * k))
	else
		info "$distinct distinct flows attributed of $((17 * k)) sent"
		((distinct <= 17 * k)) || fail "more flows stored ($distinct) than sent ($((17 * k)))"
	fi
}

# A tiny map and a one-page ring buffer under a burst: overflow counters
# take the rest, the totals stay exact, and the loss of attribution shows
# in the metrics and the log.
test_ringbuf_full()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db n=100000 rx0 rx ov ovb
	fm_run b run -i b-a --ringbuf-size 5000
	check_eq "--ringbuf-size 5000: usage error" "$FM_RC" 2
	grep -q "is not a power of two" <<<"$FM_OUT" || fail "no reason given: $FM_OUT"
	fm_run b run -i b-a --ringbuf-size 2048
	check_eq "--ringbuf-size 2048: usage error" "$FM_RC" 2
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --max-flows 64 --ringbuf-size 4096 --poll-interval 1000 \
		--metrics-interval 1
	check_log "ring size in the start-up line" "ring 4 KiB"
	check "trafgen: $n frames over 5000 flows" lab_trafgen a a-b $n 5000 0
	wait_for 5 "$n frames at b-a" rx_at_least b b-a $((rx0 + n))
	wait_for 10 "the overflow warning" log_has "stored without their flow"
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	rx=$(($(lab_rx_packets b b-a) - rx0))
	check_eq "frames received" "$rx" $n
	check_eq "sum(packets) for b-a" "$(iface_sum "$db" b-a packets)" "$rx"
	check_eq "sum(bytes) for b-a" "$(iface_sum "$db" b-a bytes)" $((rx * 60))
	ov=$(metric "$db" overflow_packets) ovb=$(metric "$db" overflow_bytes)
	((ov > 0)) || fail "overflow_packets = $ov, want > 0"
	check_eq "overflow rows: packets | bytes | keys NULL" "$(sql "$db" "
		select sum(packets), sum(bytes), count(*) = count(*) - count(src_ip) - count(src_port)
		from flows where end_reason = 'overflow';")" "$ov|$ovb|1"
	check_eq "ringbuf_drops metric == overflow_packets" "$(metric "$db" ringbuf_drops)" "$ov"
	check_log "the loss of attribution is logged" \
		"Z warning: [0-9]+ packets \([0-9]+ bytes\) in the last [0-9]+ s are stored without their flow"
}

# SIGKILL at random moments with traffic running, 10 times: nothing stays
# attached, the database stays sound, and the next start on the same
# database and pin path works; a last clean run counts exactly.
test_sigkill_loop()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db pin i ms tg before rx0 log
	pin=$(lab_pin_dir)
	# 100 kpps for at most 30 s, across the whole loop.
	LAB_TRAFGEN_BG=1 lab_trafgen a a-b 3000000 1000 100000
	tg=$LAB_PID
	for i in {1..10}; do
		if ((i % 2)); then
			# Anywhere from start-up (maps, schema) into running.
			ms=$((RANDOM % 800))
			log=$LAB_TMP/kill-$i.log
			lab_bg b "$log" "$FM" run -i b-a --db "$db" --pin-path "$pin" \
				"${SMALL_MAPS[@]}" --idle-timeout 1 --poll-interval 100 --direction ingress
			FM_PID=$LAB_PID
		else
			# Attached and counting, writing rows.
			ms=$((RANDOM % 1500))
			fm_start b -i b-a --db "$db" --pin-path "$pin" "${SMALL_MAPS[@]}" \
				--idle-timeout 1 --poll-interval 100
		fi
		sleep "$(printf '0.%03d' "$ms")"
		info "run $i: SIGKILL $ms ms after $( ((i % 2)) && echo start || echo attach)"
		fm_running || fail "run $i ended before SIGKILL: $(cat "${log:-$FM_LOG}")"
		fm_stop KILL
		check_eq "run $i: killed" "$FM_RC" 137
		check_detached b b-a
		if [[ -e $db ]]; then
			check_integrity "$db"
		fi
	done
	kill -0 "$tg" 2>/dev/null || info "note: trafgen ended during the loop"
	lab_stop "$tg"
	# The same database and pins once more, cleanly, counting exactly.
	before=$(iface_sum "$db" b-a packets)
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" --pin-path "$pin" "${SMALL_MAPS[@]}"
	check "trafgen" lab_trafgen a a-b 10000 20 0
	wait_for 5 "10000 frames at b-a" rx_at_least b b-a $((rx0 + 10000))
	fm_stop TERM
	check_eq "exit status of the last run" "$FM_RC" 0
	check_eq "frames stored by the last run" "$(($(iface_sum "$db" b-a packets) - before))" 10000
	check_integrity "$db"
	check_detached b b-a
	[[ -e $pin ]] && fail "pin directory $pin left behind: $(ls "$pin")"
	echo "ok - pin directory removed at exit"
}

# SIGHUP does not stop the daemon; with --log-file it reopens the log, so a
# rotated log (renamed away, then SIGHUP) continues in a new file.
test_sighup_reopens_log()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db log=$LAB_TMP/fm.log rx0
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" "${SMALL_MAPS[@]}" --log-file "$log"
	check_log "start-up lines in the log file" "b-a: attached" "$log"
	check_eq "mode of the log file" "$(stat -c %a "$log")" 640
	kill -HUP "$FM_PID"
	wait_for 5 "the reopen logged" log_has "SIGHUP: log reopened" "$log"
	mv "$log" "$log.1"
	kill -HUP "$FM_PID"
	wait_for 5 "a new log file" test -s "$log"
	check_log "the new file starts with the reopen" "SIGHUP: log reopened" "$log"
	check "trafgen" lab_trafgen a a-b 20000 100 0
	wait_for 5 "20000 frames at b-a" rx_at_least b b-a $((rx0 + 20000))
	fm_running || fail "SIGHUP stopped the daemon"
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	check_log "shutdown lines in the new file" "flow records written to" "$log"
	log_has "flow records written to" "$log.1" && fail "the rotated file was written after SIGHUP"
	check_eq "sum(packets) for b-a" "$(iface_sum "$db" b-a packets)" 20000

	# Without --log-file, SIGHUP is harmless too.
	rx0=$(lab_rx_packets b b-a)
	fm_start b -i b-a --db "$db" "${SMALL_MAPS[@]}"
	kill -HUP "$FM_PID"
	kill -HUP "$FM_PID"
	check "trafgen" lab_trafgen a a-b 5000 10 0
	wait_for 5 "5000 frames at b-a" rx_at_least b b-a $((rx0 + 5000))
	fm_running || fail "SIGHUP stopped the daemon (logging to stderr)"
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	check_eq "sum(packets) for b-a, both runs" "$(iface_sum "$db" b-a packets)" 25000
}

# stderr into a pipe whose reader goes away (`flowmaster run ... 2>&1 |
# head -1`): the daemon ignores SIGPIPE, keeps counting and storing.
test_sigpipe()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local db=$LAB_TMP/flows.db fifo=$LAB_TMP/log.fifo first=$LAB_TMP/first-line rx0 reader m0 i
	mkfifo "$fifo"
	head -n 1 <"$fifo" >"$first" &
	reader=$!
	LAB_PIDS+=("$reader")
	rx0=$(lab_rx_packets b b-a)
	lab_bg b "$fifo" "$FM" run -i b-a --db "$db" "${SMALL_MAPS[@]}" --metrics-interval 1 \
		--pin-path "$(lab_pin_dir)" --direction ingress
	FM_PID=$LAB_PID
	lab_wait_exit "$reader" 20 || fail "head did not get a line"
	check "the reader got the first line" test -s "$first"
	for ((i = 0; i < 200; i++)); do
		lab_xdp_attached b b-a && break
		fm_running || break
		sleep 0.1
	done
	check "attached with its log pipe closed" lab_xdp_attached b b-a
	check "trafgen" lab_trafgen a a-b 20000 100 0
	wait_for 5 "20000 frames at b-a" rx_at_least b b-a $((rx0 + 20000))
	# A status line is logged with each metrics interval: wait for two.
	m0=$(sql "$db" "select count(distinct ts_ms) from metrics;")
	wait_for 10 "two more metrics intervals" \
		sql_at_least "$db" "select count(distinct ts_ms) from metrics;" $((m0 + 2))
	fm_running || fail "the daemon died writing to a closed pipe"
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	check_eq "sum(packets) for b-a" "$(iface_sum "$db" b-a packets)" 20000
}

# Files the daemon creates: the database and its -wal and -shm 0640 and
# the pin directory 0700, whatever the umask.
test_file_modes()
{
	need_fm
	need_cmd sqlite3
	two_hosts
	local dir db pin f
	dir=$(lab_tmpdir)
	db=$dir/flows.db pin=$(lab_pin_dir)
	umask 0000
	fm_start b -i b-a --db "$db" "${SMALL_MAPS[@]}" --pin-path "$pin"
	for f in "$db" "$db-wal" "$db-shm"; do
		check_eq "mode of ${f##*/} (umask 0000)" "$(stat -c %a "$f")" 640
	done
	check_eq "mode of the pin directory" "$(stat -c %a "$pin")" 700
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	check_eq "mode of ${db##*/} after exit" "$(stat -c %a "$db")" 640
	# An existing file keeps the mode its owner gave it.
	chmod 0600 "$db"
	fm_start b -i b-a --db "$db" "${SMALL_MAPS[@]}" --pin-path "$pin"
	fm_stop TERM
	check_eq "mode of an existing database kept" "$(stat -c %a "$db")" 600
}

# Without root or the capabilities: a message naming them, exit 1, and
# nothing created or attached.
test_unprivileged()
{
	need_fm
	need_cmd setpriv
	two_hosts
	local bin dir
	# A copy the unprivileged user can reach, wherever the tree is.
	dir=$(mktemp -d /tmp/fm-faults-bin.XXXXXX) || fail "mktemp"
	LAB_DIRS+=("$dir")
	chmod 0755 "$dir"
	bin=$dir/flowmaster
	install -m 0755 "$FM" "$bin"
	FM_OUT=$(lab_nsexec b setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$bin" run -i b-a --db "$dir/flows.db" --pin-path "$(lab_pin_dir)" 2>&1)
	FM_RC=$?
	info "as nobody: status $FM_RC: $FM_OUT"
	check_eq "exit status as nobody" "$FM_RC" 1
	grep -qE "needs root or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON \(missing: CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON\)" <<<"$FM_OUT" ||
		fail "message does not name the capabilities: $FM_OUT"
	echo "ok - message names the capabilities"
	[[ -e $dir/flows.db ]] && fail "a database was created"
	check_detached b b-a
	# Root without CAP_BPF and CAP_PERFMON (nor CAP_SYS_ADMIN that implies them).
	FM_OUT=$(lab_nsexec b setpriv --inh-caps=-all --bounding-set=-bpf,-perfmon,-sys_admin \
		"$bin" run -i b-a --db "$dir/flows.db" --pin-path "$(lab_pin_dir)" 2>&1)
	FM_RC=$?
	info "root less CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN: status $FM_RC: $FM_OUT"
	check_eq "exit status without CAP_BPF" "$FM_RC" 1
	grep -q "(missing: CAP_BPF, CAP_PERFMON)" <<<"$FM_OUT" ||
		fail "message does not name the missing capabilities: $FM_OUT"
	echo "ok - message names the missing capabilities"
	check_detached b b-a
}

run_tests "$@"
