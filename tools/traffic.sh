#!/usr/bin/env bash
# tools/traffic.sh: one bounded run on throw-away test hosts. Makes hosts
# a and b (network namespaces joined by a veth pair, IPv6 off so the link
# carries only what is sent), starts `flowmaster run` in b on b-a, sends
# COUNT UDP frames over FLOWS flows from a with trafgen, stops the daemon
# with SIGTERM and prints frames sent, received and stored. Everything is
# removed at exit, also on ^C; the database is kept only with --db.
#
# usage: tools/traffic.sh [-n COUNT] [-f FLOWS] [-r PPS] [-s BYTES]
#                         [--db PATH] [--no-daemon] [-- RUN-OPTIONS...]
#   -n COUNT     frames to send (default 100000, at most 50000000)
#   -f FLOWS     distinct flows, by source port (default 1000)
#   -r PPS       rate, 0 = as fast as trafgen goes (default 0)
#   -s BYTES     frame size, Ethernet header included, FCS not (default 60)
#   --db PATH    keep the database at PATH (must not exist)
#   --no-daemon  only send and count (checks the lab itself)
#   RUN-OPTIONS  passed to `flowmaster run`, e.g. -- --poll-interval 200 -v
# Needs root, trafgen, sqlite3; run `make` first.
set -u
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=tools/lab.sh
source tools/lab.sh

count=100000 flows=1000 rate=0 size=60 keep="" daemon=1
usage() { sed -n '/^# usage:/,/^# Needs/s/^# \{0,1\}//p' "$0"; exit "${1:-2}"; }
while (($#)); do
	case $1 in
	-n) count=${2:?}; shift 2 ;;
	-f) flows=${2:?}; shift 2 ;;
	-r) rate=${2:?}; shift 2 ;;
	-s) size=${2:?}; shift 2 ;;
	--db) keep=${2:?}; shift 2 ;;
	--no-daemon) daemon=0; shift ;;
	-h | --help) usage 0 ;;
	--) shift; break ;;
	*) echo "traffic.sh: unknown option '$1'" >&2; usage ;;
	esac
done
for v in "$count" "$flows" "$rate" "$size"; do
	[[ $v =~ ^[0-9]+$ ]] || { echo "traffic.sh: '$v' is not a number" >&2; exit 2; }
done
if ((count < 1 || count > 50000000 || flows < 1)); then
	echo "traffic.sh: need 1 <= COUNT <= 50000000 and FLOWS >= 1" >&2
	exit 2
fi
if [[ -n $keep && -e $keep ]]; then
	echo "traffic.sh: $keep exists; give a new path" >&2
	exit 2
fi
((EUID == 0)) || { echo "traffic.sh: needs root (namespaces, XDP)" >&2; exit 1; }
FM=${FM:-${BUILD:-build}/flowmaster}
((daemon)) && [[ ! -x $FM ]] && { echo "traffic.sh: $FM missing; run make" >&2; exit 1; }

lab_init || exit 1
lab_host a --no-ipv6 && lab_host b --no-ipv6 && lab_link a b || exit 1
db=$LAB_TMP/flows.db
rx0=$(lab_rx_packets b b-a)
if ((daemon)); then
	lab_bg b "$LAB_TMP/flowmaster.log" "$FM" run -i b-a --db "$db" --pin-path "$(lab_pin_dir)" \
		--direction ingress "$@"
	fm=$LAB_PID
	for ((i = 0; i < 100; i++)); do
		lab_xdp_attached b b-a && break
		kill -0 "$fm" 2>/dev/null || break
		sleep 0.1
	done
	if ! lab_xdp_attached b b-a; then
		echo "traffic.sh: flowmaster did not attach:" >&2
		cat "$LAB_TMP/flowmaster.log" >&2
		exit 1
	fi
fi
echo "sending $count frames of $size bytes over $flows flows from a ($(lab_ip4 a a-b)) to b ($(lab_ip4 b b-a)), rate ${rate/#0/max}"
start=$(date +%s%N)
lab_trafgen a a-b "$count" "$flows" "$rate" "$size" || exit 1
ms=$((($(date +%s%N) - start) / 1000000))
sleep 0.3
rx=$(($(lab_rx_packets b b-a) - rx0))
echo "sent $count, received $rx by b-a ($((count * 1000 / (ms ? ms : 1))) frames/s)"
status=0
((rx == count)) || status=1
if ((daemon)); then
	lab_stop "$fm" 15
	rc=$?
	echo "flowmaster exited with status $rc; its log:"
	sed 's/^/  /' "$LAB_TMP/flowmaster.log"
	stored=$(sqlite3 "$db" "select coalesce(sum(packets), 0) || ' packets, ' || coalesce(sum(bytes), 0) || ' bytes in ' || count(*) || ' rows' from flows where interface_id in (select id from interfaces where name = 'b-a');")
	echo "stored: $stored (want $rx packets, $((rx * size)) bytes)"
	[[ $stored == "$rx packets, $((rx * size)) bytes"* && $rc == 0 ]] || status=1
	if [[ -n $keep ]]; then
		sqlite3 "$db" "VACUUM INTO '$keep';" && echo "database kept at $keep"
	fi
fi
((status == 0)) && echo "OK" || echo "MISMATCH"
exit $status
