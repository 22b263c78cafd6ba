# shellcheck shell=bash
# tools/bench/traffic.sh: the trafgen loads and the counters of the
# benchmarks on the veth link (compare.sh, insitu.sh).
# Sourced after tools/lab.sh; BENCH_NAME labels the generated configs.

# --- traffic ----------------------------------------------------------------

# flow_shape N: set SHAPE_P and SHAPE_A (source ports x source addresses,
# coprime, so that trafgen's two counters walk all P*A pairs): the most
# ports (at most 4096) whose product lies within 0.5 % above N, as real
# hosts have many flows each (and a device per flow would measure the
# devices table, not the flows); else the least product >= N.
flow_shape()
{
	local n=$1 p a x y t best=0
	SHAPE_P=0 SHAPE_A=0
	for ((p = (n < 4096 ? n : 4096); p >= 2; p--)); do
		for ((a = (n + p - 1) / p; ; a++)); do
			for ((x = p, y = a; y; t = x % y, x = y, y = t)); do :; done
			((x == 1)) && break
		done
		((a > 32768)) && continue
		if ((p * a * 1000 <= n * 1005)); then
			SHAPE_P=$p SHAPE_A=$a
			return 0
		fi
		if ((best == 0 || p * a < best)); then
			best=$((p * a)) SHAPE_P=$p SHAPE_A=$a
		fi
	done
	((best))
}

# keys_of N: the number of distinct flow keys the config for N gives.
keys_of()
{
	if (($1 <= 4096)); then
		echo "$1"
	else
		flow_shape "$1" && echo $((SHAPE_P * SHAPE_A))
	fi
}

# make_cfg FILE N: trafgen config of N (or keys_of N) UDP flows tx -> rx:9,
# 60-byte frames. Up to 4096 flows, static frames (lab_trafgen_cfg); above,
# source port and source address 198.18.128.0 + i both count per frame
# (flow_shape).
make_cfg()
{
	local f=$1 n=$2 smac dmac dip p a
	smac=$(lab_mac "$TX" "$TXIF") dmac=$(lab_mac "$RX" "$RXIF") dip=$(lab_ip4 "$RX" "$RXIF")
	if ((n <= 4096)); then
		lab_trafgen_cfg "$f" "$smac" "$dmac" "$(lab_ip4 "$TX" "$TXIF")" "$dip" "$n" 60
		return
	fi
	flow_shape "$n" || return 1
	p=$SHAPE_P a=$SHAPE_A
	{
		echo "/* ${BENCH_NAME:-bench}: $((p * a)) UDP flows: $p source ports x $a source addresses */"
		echo "{ eth(sa=$smac, da=$dmac), ipv4(sa=198.18.128.0, sa[2:2]=dinc(32768, $((32768 + a - 1))), da=$dip, ttl=64), udp(sp=dinc(10000, $((10000 + p - 1))), dp=9), fill(0x00, 18) }"
	} >"$f"
}

# make_cfg6 FILE N: trafgen config of N TCP/IPv6 flows tx -> rx:80,
# 74-byte frames (Ethernet, IPv6, a 20-byte TCP header with ACK set, no
# payload). Up to 4096 flows one static frame per flow: source address
# PREFIX::100 + i % 16 in the link's /64 (2001:2:0:N::/64, the lab's),
# source port 10000 + i; above, as make_cfg: source port 10000 + i and
# source address PREFIX::1:0 + j both count per frame (flow_shape).
make_cfg6()
{
	local f=$1 n=$2 smac dmac dip pfx i p a
	((n >= 1)) || return 1
	smac=$(lab_mac "$TX" "$TXIF") dmac=$(lab_mac "$RX" "$RXIF") dip=$(lab_ip6 "$RX" "$RXIF")
	pfx=$(lab_ip6 "$TX" "$TXIF") || return 1
	pfx=${pfx%::*}
	if ((n > 4096)); then
		flow_shape "$n" || return 1
		p=$SHAPE_P a=$SHAPE_A
		{
			echo "/* ${BENCH_NAME:-bench}: $((p * a)) TCP/IPv6 flows: $p source ports x $a source addresses ${pfx}::1:0 on, 74-byte frames, ACK */"
			echo "{ eth(sa=$smac, da=$dmac), ipv6(sa=${pfx}::1:0, sa[14:2]=dinc(0, $((a - 1))), da=$dip, hl=64), tcp(sp=dinc(10000, $((10000 + p - 1))), dp=80, ack, win=65535) }"
		} >"$f"
		return
	fi
	{
		echo "/* ${BENCH_NAME:-bench}: $n TCP/IPv6 flows ${pfx}::100-10f -> $dip:80, 74-byte frames, ACK */"
		for ((i = 0; i < n; i++)); do
			printf '{ eth(sa=%s, da=%s), ipv6(sa=%s::%x, da=%s, hl=64), tcp(sp=%d, dp=80, ack, win=65535) }\n' \
				"$smac" "$dmac" "$pfx" $((0x100 + i % 16)) "$dip" $((10000 + i))
		done
	} >"$f"
}

# --- measurements -------------------------------------------------------------

now_ns() { date +%s%N; }
# Busy ticks of all CPUs (user nice system irq softirq steal).
cpu_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
# utime + stime ticks of a process (all its threads).
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
stat_of() { lab_sys "$1" "$2" "statistics/$3"; }
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", (b - a) / 1e9}'; }
