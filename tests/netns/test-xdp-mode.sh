#!/usr/bin/env bash
# flowmaster run --xdp-mode: auto attaches natively where the driver can,
# falls back to generic XDP when the driver refuses native XDP for a reason
# of its own (and says why), and never falls back past a program that is
# already attached. Native XDP on a veth needs the peer's MTU to fit in a
# page with XDP's headroom (about 3.5 KB with 4 KiB pages): the kernel
# refuses it (ERANGE) at MTU 9000, while generic XDP works at any MTU.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIG_MTU=9000

# one_link [MTU]: test hosts a and b joined by a-b <-> b-a, both ends at MTU.
one_link()
{
	lab_host a --no-ipv6
	lab_host b --no-ipv6
	lab_link a b
	if [[ -n ${1:-} ]]; then
		ip -n "$(lab_ns a)" link set dev a-b mtu "$1" || fail "MTU $1 on a-b"
		ip -n "$(lab_ns b)" link set dev b-a mtu "$1" || fail "MTU $1 on b-a"
	fi
	DB=$LAB_TMP/flows.db
	PIN=$(lab_pin_dir)
}

# xdp_mode_of HOST IFACE: the mode the kernel reports for the XDP program
# on IFACE: xdp (native), xdpgeneric, or nothing.
xdp_mode_of()
{
	ip -n "$(lab_ns "$1")" -d link show dev "$2" | grep -oE '\bxdp(generic|drv|offload)?\b' | head -n 1
}

# count_frames N: send N frames a -> b and check that the daemon's database
# holds exactly them once it has stopped.
count_frames()
{
	local n=$1 rx0
	rx0=$(lab_rx_packets b b-a)
	check "trafgen" lab_trafgen a a-b "$n" 10 0
	wait_for 5 "$n frames at b-a" rx_at_least b b-a $((rx0 + n))
	fm_stop TERM
	check_eq "exit status" "$FM_RC" 0
	check_eq "packets stored for b-a" "$(iface_sum "$DB" b-a packets)" "$n"
}

# At the usual MTU auto gets native XDP, and says nothing of generic.
test_auto_native()
{
	need_fm
	need_cmd trafgen sqlite3
	one_link
	fm_start b -i b-a --db "$DB" --pin-path "$PIN" --xdp-mode auto
	check_eq "mode the kernel reports" "$(xdp_mode_of b b-a)" xdp
	grep -q 'generic' "$FM_LOG" && fail "auto at MTU 1500 mentions generic: $(cat "$FM_LOG")"
	count_frames 1000
	check_eq "xdp_mode recorded" "$(sql "$DB" "select xdp_mode from interfaces where name = 'b-a';")" native
}

# MTU 9000: the driver refuses native XDP (ERANGE); auto says so, attaches
# generic and counts every frame.
test_auto_falls_back_when_mtu_too_large()
{
	need_fm
	need_cmd trafgen sqlite3
	one_link $BIG_MTU
	fm_start b -i b-a --db "$DB" --pin-path "$PIN" --xdp-mode auto
	check_eq "mode the kernel reports" "$(xdp_mode_of b b-a)" xdpgeneric
	grep -Eq 'b-a: native XDP refused \(.*MTU.*\); attaching in generic mode' "$FM_LOG" ||
		fail "no line saying why auto fell back to generic: $(cat "$FM_LOG")"
	echo "ok - says why: $(grep 'native XDP refused' "$FM_LOG")"
	grep -q 'b-a: attached (generic XDP' "$FM_LOG" || fail "no 'attached (generic XDP' line: $(cat "$FM_LOG")"
	count_frames 1000
	check_eq "xdp_mode recorded" "$(sql "$DB" "select xdp_mode from interfaces where name = 'b-a';")" generic
}

# --xdp-mode native at MTU 9000: refused, with a message that names the MTU
# and the way out, and nothing left attached.
test_native_refused_when_mtu_too_large()
{
	need_fm
	one_link $BIG_MTU
	fm_run b run -i b-a --db "$DB" --pin-path "$PIN" --xdp-mode native --duration 2
	check_eq "exit status" "$FM_RC" 1
	grep -Eq 'b-a.*native.*MTU.*--xdp-mode (generic|auto)' <<<"$FM_OUT" ||
		fail "the message does not name the MTU and --xdp-mode: $FM_OUT"
	echo "ok - says: $(grep -E 'MTU' <<<"$FM_OUT")"
	[[ -z $(xdp_mode_of b b-a) ]] || fail "XDP left attached to b-a"
}

# --xdp-mode generic at MTU 9000 just works.
test_generic_at_large_mtu()
{
	need_fm
	need_cmd trafgen sqlite3
	one_link $BIG_MTU
	fm_start b -i b-a --db "$DB" --pin-path "$PIN" --xdp-mode generic
	check_eq "mode the kernel reports" "$(xdp_mode_of b b-a)" xdpgeneric
	count_frames 1000
}

# A program someone else attached natively: auto refuses, and does not
# attach generic beside it.
test_auto_does_not_fall_back_past_a_program()
{
	need_fm
	need_cmd clang
	one_link
	local obj=$LAB_TMP/pass.bpf.o
	printf '%s\n' '__attribute__((section("xdp"), used)) int xdp_pass(void *ctx) { return 2; }' \
		'__attribute__((section("license"), used)) char _license[] = "GPL";' |
		clang -O2 -target bpf -c -x c - -o "$obj" || skip "clang cannot build a BPF object"
	ip -n "$(lab_ns b)" link set dev b-a xdpdrv obj "$obj" sec xdp || fail "ip link set xdpdrv"
	fm_run b run -i b-a --db "$DB" --pin-path "$PIN" --xdp-mode auto --duration 2
	check_eq "exit status" "$FM_RC" 1
	grep -Eiq 'already attached' <<<"$FM_OUT" || fail "the message does not say a program is attached: $FM_OUT"
	grep -q 'generic' <<<"$FM_OUT" && fail "auto tried generic past an attached program: $FM_OUT"
	check_eq "the foreign program is still there, native" "$(xdp_mode_of b b-a)" xdp
}

run_tests "$@"
