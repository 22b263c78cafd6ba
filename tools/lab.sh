# shellcheck shell=bash
# tools/lab.sh: test hosts for flowmaster, as a library to source.
#
# A test host is a network namespace; hosts are joined by veth pairs whose
# two ends both live in test namespaces, so the root namespace (and eth0) is
# never a hop. Addresses come from the benchmarking ranges only: link N gets
# 198.18.N.0/24 and 2001:2:0:N::/64, the first host .1 / ::1, the second
# .2 / ::2, with static neighbour entries so no ARP or ND adds frames to
# the counts. Everything created is recorded and removed by lab_cleanup,
# which lab_init registers on EXIT (and on INT/TERM/HUP).
#
#   source tools/lab.sh
#   lab_init                      # names are fm-$$-HOST unless LAB_ID is set
#   lab_host a; lab_host b        # namespaces fm-$$-a, fm-$$-b
#   lab_link a b                  # a's end "a-b" 198.18.0.1, b's end "b-a" .2
#   lab_trafgen a a-b 100000 1000 100000    # 100k frames, 1000 flows, 100 kpps
#   lab_rx_packets b b-a
#   ip netns exec "$(lab_ns b)" ping -c1 198.18.0.1
#
# Functions take the short host name (a) and print or use the namespace
# name (lab_ns a). Failures print "lab: ..." on stderr and return non-zero.
#   hosts, links   lab_host, lab_link, lab_ns, lab_peer, lab_ip4, lab_ip6, lab_mac,
#                  lab_ifindex, lab_sys
#   counters       lab_rx_packets, lab_rx_bytes, lab_rx_dropped, lab_tx_packets
#   processes      lab_nsexec, lab_bg, lab_stop, lab_wait_exit, lab_signal_tree
#   traffic        lab_trafgen, lab_trafgen_cfg
#   XDP and files  lab_xdp_attached, lab_pin_dir, lab_tmpdir, lab_cleanup
# Needs root and iproute2; trafgen (netsniff-ng) for lab_trafgen.
#
# veth quirk: with XDP attached natively, a veth counts rx bytes without
# the 14-byte Ethernet header (it counts them with it otherwise); packet
# counts are unaffected.

LAB_ID=${LAB_ID:-fm-$$}
LAB_NLINKS=${LAB_NLINKS:-0}
LAB_TMP=${LAB_TMP:-}
LAB_NETNS=()		# namespaces created, in order
LAB_PIDS=()		# background processes started
LAB_DIRS=()		# temporary directories to remove
declare -gA LAB_PEER=()	# "host/iface" -> "host/iface" of the other end
declare -gA LAB_LINKNO=()	# "host/iface" -> link number N
declare -gA LAB_END=()	# "host/iface" -> 1 (first end) or 2

lab_log() { [[ ${V:-0} == 0 ]] || echo "lab: $*" >&2; }
lab_err() { echo "lab: $*" >&2; }

# lab_init: register lab_cleanup on exit and make the per-run temp dir. In
# a script, INT, TERM and HUP exit (and so clean up) too; in an interactive
# shell ^C stays harmless: call lab_cleanup, or it runs when the shell exits.
lab_init()
{
	trap lab_cleanup EXIT
	if [[ $- != *i* ]]; then
		trap 'exit 130' INT
		trap 'exit 143' TERM
		trap 'exit 129' HUP
	fi
	if [[ -z $LAB_TMP ]]; then
		LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$LAB_ID.XXXXXX") || return 1
		LAB_DIRS+=("$LAB_TMP")
	fi
	return 0
}

# lab_ns HOST: print the namespace name of HOST.
lab_ns() { echo "$LAB_ID-$1"; }

# lab_nsexec HOST CMD...: run CMD in HOST's network namespace, sharing this
# mount namespace (so /sys/fs/bpf pins stay visible, unlike ip netns exec).
lab_nsexec()
{
	local ns
	ns=$(lab_ns "$1")
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# lab_host HOST [--no-ipv6]: create a test host. --no-ipv6 turns IPv6 off
# so that the host's links stay silent (no RS, MLD or DAD frames): use it
# wherever frame counts must be exact.
lab_host()
{
	local host=$1 ns v6=1
	ns=$(lab_ns "$host")
	[[ ${2:-} == --no-ipv6 ]] && v6=0
	if ! ip netns add "$ns"; then
		lab_err "cannot create namespace $ns"
		return 1
	fi
	LAB_NETNS+=("$ns")
	ip -n "$ns" link set lo up || return 1
	local s
	if ((v6)); then
		# Links come up quiet and addresses usable at once.
		for s in default all; do
			ip netns exec "$ns" sysctl -qw \
				net.ipv6.conf.$s.accept_dad=0 \
				net.ipv6.conf.$s.dad_transmits=0 \
				net.ipv6.conf.$s.router_solicitations=0 \
				net.ipv6.conf.$s.accept_ra=0 || return 1
		done
	else
		for s in default all; do
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.$s.disable_ipv6=1 || return 1
		done
	fi
	lab_log "host $host = namespace $ns (ipv6 $v6)"
}

lab_has_ipv6()
{
	[[ $(ip netns exec "$(lab_ns "$1")" sysctl -n net.ipv6.conf.default.disable_ipv6) == 0 ]]
}

# lab_link A B [MTU]: a veth pair between hosts A and B, ends named "A-B"
# (in A) and "B-A" (in B), addresses 198.18.N.1/.2 and 2001:2:0:N::1/::2,
# static neighbours, both ends up. Prints nothing; see lab_ip4, lab_mac.
lab_link()
{
	local a=$1 b=$2 mtu=${3:-} n=$LAB_NLINKS
	local nsa nsb ia=$1-$2 ib=$2-$1
	nsa=$(lab_ns "$a") nsb=$(lab_ns "$b")
	if ((${#ia} > 15 || ${#ib} > 15)); then
		lab_err "interface names $ia/$ib too long: use shorter host names"
		return 1
	fi
	if ((n > 255)); then
		lab_err "too many links"
		return 1
	fi
	# Created inside A with its peer moved straight into B: the root
	# namespace never holds either end.
	ip -n "$nsa" link add "$ia" type veth peer name "$ib" netns "$nsb" || return 1
	LAB_NLINKS=$((n + 1))
	LAB_PEER["$a/$ia"]="$b/$ib" LAB_PEER["$b/$ib"]="$a/$ia"
	LAB_LINKNO["$a/$ia"]=$n LAB_LINKNO["$b/$ib"]=$n
	LAB_END["$a/$ia"]=1 LAB_END["$b/$ib"]=2
	if [[ -n $mtu ]]; then
		ip -n "$nsa" link set dev "$ia" mtu "$mtu" || return 1
		ip -n "$nsb" link set dev "$ib" mtu "$mtu" || return 1
	fi
	ip -n "$nsa" addr add "198.18.$n.1/24" dev "$ia" || return 1
	ip -n "$nsb" addr add "198.18.$n.2/24" dev "$ib" || return 1
	local maca macb
	maca=$(lab_mac "$a" "$ia") macb=$(lab_mac "$b" "$ib")
	ip -n "$nsa" neigh add "198.18.$n.2" lladdr "$macb" dev "$ia" nud permanent || return 1
	ip -n "$nsb" neigh add "198.18.$n.1" lladdr "$maca" dev "$ib" nud permanent || return 1
	if lab_has_ipv6 "$a" && lab_has_ipv6 "$b"; then
		ip -n "$nsa" addr add "2001:2:0:$n::1/64" dev "$ia" nodad || return 1
		ip -n "$nsb" addr add "2001:2:0:$n::2/64" dev "$ib" nodad || return 1
		ip -n "$nsa" neigh add "2001:2:0:$n::2" lladdr "$macb" dev "$ia" nud permanent || return 1
		ip -n "$nsb" neigh add "2001:2:0:$n::1" lladdr "$maca" dev "$ib" nud permanent || return 1
	fi
	ip -n "$nsa" link set dev "$ia" up || return 1
	ip -n "$nsb" link set dev "$ib" up || return 1
	lab_log "link $n: $a/$ia 198.18.$n.1 <-> $b/$ib 198.18.$n.2"
}

# lab_peer HOST IFACE: print "host iface" of the other end of a lab link.
lab_peer()
{
	local p=${LAB_PEER["$1/$2"]:-}
	if [[ -z $p ]]; then
		lab_err "$1/$2 is not a lab link"
		return 1
	fi
	echo "${p%%/*} ${p#*/}"
}

# lab_ip4 HOST IFACE / lab_ip6 HOST IFACE: print the address of that end
# (link N: 198.18.N.1 or .2, 2001:2:0:N::1 or ::2, N written in decimal).
lab_ip4()
{
	local n=${LAB_LINKNO["$1/$2"]:-}
	[[ -n $n ]] || { lab_err "$1/$2 is not a lab link"; return 1; }
	echo "198.18.$n.${LAB_END["$1/$2"]}"
}
lab_ip6()
{
	local n=${LAB_LINKNO["$1/$2"]:-}
	[[ -n $n ]] || { lab_err "$1/$2 is not a lab link"; return 1; }
	# As inet_ntop prints it, so that it compares equal to stored text.
	if ((n == 0)); then
		echo "2001:2::${LAB_END["$1/$2"]}"
	else
		echo "2001:2:0:$n::${LAB_END["$1/$2"]}"
	fi
}

# lab_sys HOST IFACE FILE: print /sys/class/net/IFACE/FILE as HOST sees it
# (ip netns exec mounts a /sys of that namespace).
lab_sys()
{
	ip netns exec "$(lab_ns "$1")" cat "/sys/class/net/$2/$3"
}

# lab_ifindex HOST IFACE: print the interface index.
lab_ifindex() { lab_sys "$1" "$2" ifindex; }

# lab_mac HOST IFACE: print the MAC address.
lab_mac()
{
	lab_sys "$1" "$2" address
}

# lab_rx_packets HOST IFACE, lab_rx_bytes, lab_tx_packets: interface
# counters (what `ip -s link` shows: bytes exclude the FCS).
lab_stat()
{
	lab_sys "$1" "$2" "statistics/$3"
}
lab_rx_packets() { lab_stat "$1" "$2" rx_packets; }
lab_rx_bytes() { lab_stat "$1" "$2" rx_bytes; }
lab_rx_dropped() { lab_stat "$1" "$2" rx_dropped; }
lab_tx_packets() { lab_stat "$1" "$2" tx_packets; }

# lab_xdp_attached HOST IFACE: true if any XDP program is attached.
lab_xdp_attached()
{
	ip -n "$(lab_ns "$1")" link show dev "$2" 2>/dev/null | grep -q 'prog/xdp'
}

# lab_bg HOST LOG CMD...: start CMD in the background in HOST's network
# namespace (via nsenter, sharing /sys/fs/bpf), stdout and stderr to LOG.
# Sets LAB_PID to CMD's pid; lab_cleanup stops it if it still runs.
lab_bg()
{
	local host=$1 log=$2
	shift 2
	local ns
	ns=$(lab_ns "$host")
	# exec all the way down: LAB_PID is CMD's own pid.
	(exec nsenter --net="/run/netns/$ns" "$@" >"$log" 2>&1) &
	LAB_PID=$!
	LAB_PIDS+=("$LAB_PID")
}

# lab_signal_tree SIG PID: send SIG to PID and all its descendants (e.g.
# STOP/CONT to pause a background trafgen: timeout -> trafgen -> worker).
lab_signal_tree()
{
	local sig=$1 pid=$2 c
	kill -"$sig" "$pid" 2>/dev/null
	for c in $(pgrep -P "$pid"); do
		lab_signal_tree "$sig" "$c"
	done
}

# lab_stop PID [TIMEOUT_S]: SIGTERM, then SIGKILL after TIMEOUT_S (5);
# returns the process's exit status (137 if it had to be killed).
lab_stop()
{
	local pid=$1 t=${2:-5} i
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < t * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# lab_wait_exit PID TIMEOUT_S: wait for a background process; its exit
# status, or 124 (and it keeps running) if it did not end in time.
lab_wait_exit()
{
	local pid=$1 t=$2 i
	for ((i = 0; i < t * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && return 124
	wait "$pid" 2>/dev/null
}

# lab_trafgen_cfg FILE SRCMAC DSTMAC SRCIP DSTIP FLOWS SIZE: a trafgen
# config of UDP/IPv4 frames of SIZE bytes (Ethernet header included, FCS
# excluded; >= 60 unless you want runts) whose source port cycles over
# FLOWS values from 10000, one step per frame, to port 9 (discard). With
# FLOWS <= 4096 each flow is its own static packet (cheapest per frame);
# above that the port is incremented at run time (FLOWS <= 55000) or, for
# more, source port and the last two bytes of the source address both,
# over ranges whose product (with coprime lengths) is >= FLOWS.
lab_trafgen_cfg()
{
	local f=$1 smac=$2 dmac=$3 sip=$4 dip=$5 flows=$6 size=$7
	local pay=$((size - 42)) i
	if ((pay < 0 || size > 1514)); then
		lab_err "frame size $size out of range 42..1514"
		return 1
	fi
	local fill=""
	((pay > 0)) && fill=", fill(0x00, $pay)"
	{
		echo "/* lab_trafgen: $flows UDP flows $sip -> $dip:9, $size-byte frames */"
		if ((flows <= 4096)); then
			for ((i = 0; i < flows; i++)); do
				echo "{ eth(sa=$smac, da=$dmac), ipv4(sa=$sip, da=$dip, ttl=64), udp(sp=$((10000 + i)), dp=9)$fill }"
			done
		elif ((flows <= 55000)); then
			echo "{ eth(sa=$smac, da=$dmac), ipv4(sa=$sip, da=$dip, ttl=64), udp(sp=dinc(10000, $((10000 + flows - 1))), dp=9)$fill }"
		else
			# Ports over 17 values, addresses 198.18.0.0 + 0..k-1 (the
			# last two bytes) with k even (coprime with 17); 17 * k >=
			# FLOWS distinct pairs, each frame of a run a new pair until
			# all 17 * k have been sent.
			local k=$(((flows + 16) / 17))
			((k % 2)) && k=$((k + 1))
			if ((k > 65536)); then
				lab_err "at most $((17 * 65536)) flows"
				return 1
			fi
			echo "{ eth(sa=$smac, da=$dmac), ipv4(sa=198.18.128.0, sa[2:2]=dinc(0, $((k - 1))), da=$dip, ttl=64), udp(sp=dinc(10000, 10016), dp=9)$fill }"
		fi
	} >"$f"
}

# lab_trafgen HOST IFACE COUNT FLOWS RATE [SIZE]: send exactly COUNT UDP
# frames of SIZE bytes (default 60) from HOST/IFACE to its peer over FLOWS
# flows (see lab_trafgen_cfg) at RATE packets/s (0 = as fast as possible).
# Up to 10000/s frames are paced one by one (trafgen -t; smooth, the rate
# comes out about 10% lower); above, trafgen -b holds the rate per second
# but sends each second's frames in a burst at full speed. One trafgen
# process (-P 1: round robin is exact), no sysctl changes, bounded by a
# timeout of COUNT/RATE (x1.5 when paced) + 10 s. Returns trafgen's status.
# With LAB_TRAFGEN_BG=1 it returns at once and sets LAB_PID (the timeout
# process; trafgen is its only child).
lab_trafgen()
{
	local host=$1 ifc=$2 count=$3 flows=$4 rate=$5 size=${6:-60}
	local peer phost pif cfg t args=()
	if ((count < 1 || flows < 1)); then
		lab_err "lab_trafgen: COUNT and FLOWS must be >= 1"
		return 1
	fi
	peer=$(lab_peer "$host" "$ifc") || return 1
	read -r phost pif <<<"$peer"
	cfg=${LAB_TMP:-/tmp}/trafgen-$host-$ifc-$RANDOM.cfg
	lab_trafgen_cfg "$cfg" "$(lab_mac "$host" "$ifc")" "$(lab_mac "$phost" "$pif")" \
		"$(lab_ip4 "$host" "$ifc")" "$(lab_ip4 "$phost" "$pif")" "$flows" "$size" || return 1
	if ((rate > 0 && rate <= 10000)); then
		# A gap after every frame: smooth, about 10% under RATE.
		args=(-t "$((1000000 / rate))us")
		t=$((count * 3 / 2 / rate + 10))
	elif ((rate > 0)); then
		# trafgen -b sends each second's frames in one burst.
		args=(-b "${rate}pps")
		t=$((count / rate + 10))
	else
		t=$((count / 100000 + 10))
	fi
	lab_log "trafgen $host/$ifc: $count frames, $flows flows, rate ${rate:-max}, ${t}s limit"
	# LAB_TRAFGEN_QDISC=1: through the qdisc path (-q), so TC egress sees it.
	[[ ${LAB_TRAFGEN_QDISC:-0} == 1 ]] && args+=(-q)
	local cmd=(timeout -s INT -k 2 "$t" trafgen -i "$cfg" -o "$ifc" -P 1 --no-sock-mem
		   -Q -C -n "$count" "${args[@]}")
	if [[ ${LAB_TRAFGEN_BG:-0} == 1 ]]; then
		lab_bg "$host" "${cfg%.cfg}.log" "${cmd[@]}"
		return 0
	fi
	local out rc
	out=$(lab_nsexec "$host" "${cmd[@]}" 2>&1)
	rc=$?
	((rc != 0)) && lab_err "trafgen exited $rc: $out"
	[[ ${V:-0} != 0 ]] && echo "$out" >&2
	return $rc
}

# lab_pin_dir: print a fresh, not yet existing bpffs path for this lab's
# pins (mounting bpffs on /sys/fs/bpf if needed). Every path made this way
# is /sys/fs/bpf/LAB_ID-pin-*, which lab_cleanup removes, so it can be
# called in $(...).
lab_pin_dir()
{
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf || return 1
	fi
	local d
	while d=/sys/fs/bpf/$LAB_ID-pin-$RANDOM && [[ -e $d ]]; do :; done
	echo "$d"
}

# lab_tmpdir: print a new directory inside the lab's temp dir (removed at
# cleanup with it); lab_init must have run.
lab_tmpdir()
{
	mktemp -d "$LAB_TMP/d.XXXXXX"
}

# lab_cleanup: stop our processes, delete our namespaces (and with them
# every veth end and XDP attachment), pins and temporary directories.
# Safe to call more than once.
lab_cleanup()
{
	local pid ns p i
	trap - EXIT INT TERM HUP
	for pid in "${LAB_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		for ((i = 0; i < 60; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	LAB_PIDS=()
	for ((i = ${#LAB_NETNS[@]} - 1; i >= 0; i--)); do
		ns=${LAB_NETNS[i]}
		# Anything still running in our namespace was started by us.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	LAB_NETNS=()
	for p in /sys/fs/bpf/"$LAB_ID"-pin-*; do
		[[ -e $p ]] && rm -rf "$p"
	done
	for p in "${LAB_DIRS[@]}"; do
		[[ -d $p ]] && rm -rf "$p"
	done
	LAB_DIRS=()
	return 0
}
