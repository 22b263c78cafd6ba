#!/usr/bin/env bash
# Running flowmaster as a service: `make install` and `make uninstall` into
# a DESTDIR, the installed systemd unit through `systemd-analyze verify`,
# the Type=notify protocol (READY=1 after attach, STATUS= each metrics
# interval, STOPPING=1) against a socket this test listens on, a config
# file (values, the command line winning, -v's effective configuration,
# usage errors naming FILE:LINE), and the daemon under exactly the unit's
# capability bounding set. The daemon tests count exactly: frames received
# == packets stored.
#
# Test hosts a and b (IPv6 off), flowmaster in b on b-a, trafgen in a.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

two_hosts()
{
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
}

# The capabilities of dist/flowmaster.service's CapabilityBoundingSet.
unit_caps()
{
	sed -n 's/^CapabilityBoundingSet=//p' "$ROOT/dist/flowmaster.service.in"
}

# make_in DESTDIR TARGET...: make TARGET... (install, uninstall) into DESTDIR, quietly.
make_in()
{
	local dest=$1
	shift
	# BUILD relative, as the .d files name their targets: a changed
	# version.h then rebuilds what includes it.
	make -s -C "$ROOT" BUILD="$(realpath -m --relative-to="$ROOT" "$BUILD")" PREFIX=/usr \
		DESTDIR="$dest" "$@" >"$LAB_TMP/make.log" 2>&1 ||
		fail "make $* DESTDIR=$dest failed: $(tail -n 20 "$LAB_TMP/make.log")"
}

# send N frames over FLOWS flows a -> b and wait until b-a has them; sets SENT.
send_frames()
{
	local n=$1 flows=$2 rx0
	rx0=$(lab_rx_packets b b-a)
	check "trafgen: $n frames over $flows flows" lab_trafgen a a-b "$n" "$flows" 20000
	wait_for 10 "$n frames at b-a" rx_at_least b b-a $((rx0 + n))
	SENT=$(($(lab_rx_packets b b-a) - rx0))
}

# check_stored DB: the daemon stopped cleanly and stored exactly SENT packets.
check_stored()
{
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	check_eq "packets stored for b-a == frames received" "$(iface_sum "$1" b-a packets)" "$SENT"
	check_log "the daemon reconciled" "b-a: kernel saw $SENT packets, $SENT exported"
}

test_install_uninstall()
{
	need_fm
	local dest=$LAB_TMP/root files want version f
	make_in "$dest" install
	files=$(cd "$dest" && find . -type f | sort)
	info "installed:"
	while read -r f; do echo "#   $f"; done <<<"$files"
	want="./etc/flowmaster/flowmaster.conf
./usr/lib/systemd/system/flowmaster.service
./usr/sbin/flowmaster
./usr/share/doc/flowmaster/LICENSE
./usr/share/doc/flowmaster/README.md
./usr/share/man/man8/flowmaster.8"
	check_eq "installed files" "$files" "$want"
	check_eq "binary mode" "$(stat -c %a "$dest/usr/sbin/flowmaster")" 755
	version=$("$ROOT/tools/version.sh")
	check_eq "flowmaster version" "$("$dest/usr/sbin/flowmaster" version | head -n 1)" \
		"flowmaster $version"
	# Outside git (a tarball): VERSION as it is.
	mkdir -p "$LAB_TMP/tarball/tools"
	cp "$ROOT/tools/version.sh" "$LAB_TMP/tarball/tools/"
	echo 9.8.7 >"$LAB_TMP/tarball/VERSION"
	check_eq "the version outside git" "$(cd / && "$LAB_TMP/tarball/tools/version.sh")" 9.8.7
	check_eq "the man page's version" \
		"$(sed -n 's/^\.TH FLOWMASTER 8 [^ ]* "\(flowmaster [^"]*\)".*/\1/p' \
			"$dest/usr/share/man/man8/flowmaster.8")" "flowmaster $version"
	check_eq "the unit runs the installed binary with the installed config" \
		"$(sed -n 's/^ExecStart=//p' "$dest/usr/lib/systemd/system/flowmaster.service")" \
		"/usr/sbin/flowmaster run --config /etc/flowmaster/flowmaster.conf"
	check "LICENSE has both texts" grep -q "GNU GENERAL PUBLIC LICENSE" "$dest/usr/share/doc/flowmaster/LICENSE"
	check "LICENSE: BSD-2-Clause" grep -q "^BSD-2-Clause" "$dest/usr/share/doc/flowmaster/LICENSE"
	# The installed config parses: with an interface added it is complete.
	check "the default config is valid" "$dest/usr/sbin/flowmaster" run \
		--config "$dest/etc/flowmaster/flowmaster.conf" -i lo --list-options

	# Installing again keeps an edited config; uninstall keeps it too.
	echo "interface = eth9" >>"$dest/etc/flowmaster/flowmaster.conf"
	make_in "$dest" install
	check "an edited config survives install" grep -q "^interface = eth9" "$dest/etc/flowmaster/flowmaster.conf"
	make_in "$dest" uninstall
	check_eq "after uninstall (config edited)" "$(cd "$dest" && find . -type f | sort)" \
		"./etc/flowmaster/flowmaster.conf"
	rm "$dest/etc/flowmaster/flowmaster.conf"
	make_in "$dest" install
	make_in "$dest" uninstall
	check_eq "after install and uninstall: no file left" "$(cd "$dest" && find . -type f | wc -l)" 0
}

# systemd-analyze verify on the installed unit: its ExecStart pointed at
# the DESTDIR's binary and man pointed at its man page, which verify checks.
test_unit_verify()
{
	need_fm
	need_cmd systemd-analyze
	local dest=$LAB_TMP/root unit=$LAB_TMP/flowmaster.service out
	make_in "$dest" install
	sed "s|^ExecStart=/usr/sbin/|ExecStart=$dest/usr/sbin/|" \
		"$dest/usr/lib/systemd/system/flowmaster.service" >"$unit"
	out=$(MANPATH=$dest/usr/share/man systemd-analyze verify "$unit" 2>&1) ||
		fail "systemd-analyze verify: $out"
	check_eq "systemd-analyze verify: no warnings" "$out" ""
	check_eq "Type" "$(sed -n 's/^Type=//p' "$unit")" notify
	check_eq "capabilities" "$(unit_caps)" "CAP_BPF CAP_NET_ADMIN CAP_PERFMON"
}

# A datagram listener on a path; each datagram one line in $1 ('\n' -> '|').
notify_listener()
{
	local sock=$1 out=$2
	timeout 90 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", "|") + "\n")
' "$sock" "$out" &
	LAB_PIDS+=("$!")
	wait_for 5 "the notify socket" test -S "$sock"
}

notified() { grep -qE -- "$1" "$NOTIFY_OUT" 2>/dev/null; }
status_lines_at_least() { (($(grep -c '^STATUS=' "$NOTIFY_OUT") >= $1)); }

test_notify()
{
	need_fm
	need_cmd trafgen sqlite3 python3
	two_hosts
	local db=$LAB_TMP/flows.db sock=$LAB_TMP/notify.sock n
	NOTIFY_OUT=$LAB_TMP/notify.txt
	notify_listener "$sock" "$NOTIFY_OUT"
	NOTIFY_SOCKET=$sock fm_start b -i b-a --db "$db" --metrics-interval 1
	wait_for 10 "READY=1" notified '^READY=1'
	check "attached when READY=1 arrived" lab_xdp_attached b b-a
	send_frames 3000 3
	wait_for 10 "a STATUS= with traffic" notified '^STATUS=1 of 1 interfaces attached; [1-9][0-9]* pps'
	wait_for 10 "another STATUS= a metrics interval later" status_lines_at_least 2
	fm_stop TERM
	check_stored "$db"
	wait_for 5 "STOPPING=1" notified '^STOPPING=1'
	info "notifications:"
	sed 's/^/#   /' "$NOTIFY_OUT"
	check_eq "the first: READY=1 with MAINPID and STATUS" \
		"$(head -n 1 "$NOTIFY_OUT" | sed 's/MAINPID=[0-9]*/MAINPID=N/')" \
		"READY=1|MAINPID=N|STATUS=1 of 1 interfaces attached; starting"
	check_eq "the last: STOPPING=1" "$(tail -n 1 "$NOTIFY_OUT")" \
		"STOPPING=1|STATUS=stopping: exporting the open flows"
	n=$(grep -c '^STATUS=1 of 1 interfaces attached; [0-9]* pps; [0-9]* flows active; [0-9]* records exported$' "$NOTIFY_OUT")
	((n >= 2)) || fail "want a STATUS= line each metrics interval (1 s), got $n"
	echo "ok - $n STATUS= lines, one per metrics interval"
	check_eq "READY=1 once, STOPPING=1 once" \
		"$(grep -c '^READY=1' "$NOTIFY_OUT") $(grep -c '^STOPPING=1' "$NOTIFY_OUT")" "1 1"

	# An abstract socket ("@name", as systemd gives): abstract names are
	# per network namespace, so the listener runs in b, with the daemon.
	local name=fm-notify-$BASHPID
	NOTIFY_OUT=$LAB_TMP/notify-abstract.txt
	lab_bg b "$LAB_TMP/listener.log" timeout 60 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", "|") + "\n")
' "$name" "$NOTIFY_OUT"
	wait_for 5 "the abstract socket" lab_nsexec b grep -q "@$name" /proc/net/unix
	NOTIFY_SOCKET=@$name fm_start b -i b-a --db "$db" --metrics-interval 1
	wait_for 10 "READY=1 on @$name" notified '^READY=1'
	fm_stop TERM
	check_eq "exit status after SIGTERM" "$FM_RC" 0
	wait_for 5 "STOPPING=1 on @$name" notified '^STOPPING=1'
	echo "ok - READY=1 and STOPPING=1 on the abstract socket @$name"
}

test_config_file()
{
	need_fm
	need_cmd trafgen sqlite3
	two_hosts
	local conf=$LAB_TMP/fm.conf db=$LAB_TMP/from-config.db
	cat >"$conf" <<EOF
# written by test_config_file
interface = b-a
db = $db   # a comment
idle-timeout = 1m
active-timeout = 5m
metrics-interval = 2
xdp-mode = auto
EOF
	fm_start b --config "$conf" --idle-timeout 2 -v
	wait_for 20 "XDP on b-a (interface from the config file)" lab_xdp_attached b b-a
	send_frames 2000 4
	fm_stop TERM
	check_stored "$db"
	check_log "which file was read" "info: config $conf: 5 options set from it"
	check_log "-v: interface from the file" "debug: config: interface = b-a \($conf:2\)"
	check_log "-v: db from the file, comment cut" "debug: config: db = $db \($conf:3\)"
	check_log "-v: the command line wins" "debug: config: idle-timeout = 2 \(command line\)"
	check_log "-v: a duration in seconds" "debug: config: active-timeout = 300 \($conf:5\)"
	check_log "-v: a default" "debug: config: poll-interval = 1000 \(default\)"
	check_log "idle timeout in effect" "idle 2 s, active 300 s; metrics every 2 s"

	# Mistakes: usage errors (exit 2) naming the file and the line.
	printf 'interface = b-a\n\nidle-timeout = soon\n' >"$conf"
	fm_run b run --config "$conf"
	check_eq "bad value: exit status" "$FM_RC" 2
	check_eq "bad value: message" "$FM_OUT" \
		"flowmaster: $conf:3: idle-timeout: 'soon' is not a duration (e.g. 30, 90s, 5m, 2h) up to 86400 s"
	printf 'interface = b-a\nidle_timeout = 5\n' >"$conf"
	fm_run b run --config "$conf"
	check_eq "unknown key: exit status" "$FM_RC" 2
	check_eq "unknown key: message" "$FM_OUT" "flowmaster: $conf:2: 'idle_timeout' is not an option of 'run'"
	fm_run b run --config "$LAB_TMP/nonexistent.conf"
	check_eq "missing file: exit status" "$FM_RC" 2
}

# The daemon with only the unit's capabilities (CapabilityBoundingSet, as
# root, as systemd starts it): attach, pins, SQLite, a clean stop.
test_unit_capabilities()
{
	need_fm
	need_cmd trafgen sqlite3 setpriv
	two_hosts
	local db=$LAB_TMP/caps.db wrap=$LAB_TMP/fm-caps caps
	caps=$(unit_caps | tr '[:upper:]' '[:lower:]' | sed -e 's/cap_/+/g' -e 's/ /,/g')
	printf '#!/bin/sh\nexec setpriv --bounding-set=-all,%s --inh-caps=-all %s "$@"\n' \
		"$caps" "$FM" >"$wrap"
	chmod +x "$wrap"
	info "bounding set: -all,$caps"
	FM=$wrap fm_start b -i b-a --db "$db" --metrics-interval 1
	check_eq "the daemon's capabilities" \
		"$(grep '^CapEff' "/proc/$FM_PID/status" | awk '{print $2}')" \
		"$(printf '%016x' $(((1 << 39) | (1 << 38) | (1 << 12))))"
	send_frames 2000 2
	fm_stop TERM
	check_stored "$db"
	# One capability fewer: refused with what is missing.
	printf '#!/bin/sh\nexec setpriv --bounding-set=-all,+bpf,+net_admin --inh-caps=-all %s "$@"\n' \
		"$FM" >"$wrap"
	FM=$wrap fm_run b run -i b-a --db "$db" --pin-path "$(lab_pin_dir)"
	check_eq "without CAP_PERFMON: exit status" "$FM_RC" 1
	grep -q "missing: CAP_PERFMON" <<<"$FM_OUT" || fail "no 'missing: CAP_PERFMON' in: $FM_OUT"
	echo "ok - says CAP_PERFMON is missing"
}

run_tests "$@"
