#!/usr/bin/env bash
# Boot Debian 12's own kernel (linux-image-amd64, 6.1) in qemu with KVM and
# run the BPF and netns suites inside it: `make test-kernel`.
#
# The kernel package is fetched with apt-get download into $BUILD/kernel and
# unpacked there with dpkg-deb -x; nothing is installed on the host. The
# guest's root is the host's / shared read-only over 9p, under an overlay
# whose upper layer is a tmpfs, so the guest writes nothing to the host. A
# busybox initramfs loads the 9p and virtio modules of the unpacked package,
# mounts that root and switches to it; this script then runs again inside
# the guest (--guest, as PID 1) and runs tools/run-tests.sh there. The guest
# has no network device at all (-nic none): the suites make veths in their
# own namespaces, as on the host. Its serial console is the only output;
# the suites' result lines are read from it.
#
# Usage: tools/test-kernel.sh [FILTER...]
#   FILTER as for tools/run-tests.sh (a suite path's substring); each one is
#   a run of run-tests.sh, one after the other, in one boot. Environment:
#   BUILD (build), KERNEL_PKG (linux-image-amd64), KERNEL_TIMEOUT (seconds
#   for the whole boot, 1500), KERNEL_MEM (MiB, 2048), KERNEL_SUITES
#   (run-tests.sh's SUITES, "bpf netns"), KERNEL_ACCEL (qemu -accel: tcg),
#   KERNEL_CPU (qemu -cpu: max; with kvm, host).
# Exit status: 0 when every suite passed inside the guest, 1 otherwise.
#
# KVM: the default is qemu's TCG emulation (KERNEL_ACCEL=kvm KERNEL_CPU=host
# to try it), because KVM does not work on the machine this was written
# on, a Firecracker VM whose /dev/kvm exists but whose CPU shows no svm
# flag. With -cpu host qemu 7.2 aborts ("failed to set MSR 0x10a to
# 0x69", the kvm_buf_set_msrs assertion); with -cpu host,-arch-capabilities
# (or qemu64) the guest prints "Probing EDD" and nothing more. Under TCG
# the kernel boots in about 20 s and sends a few thousand packets a
# second: suites whose time bounds assume a real CPU fail on time, not on
# the kernel.
set -euo pipefail

# ---- inside the guest (PID 1 after switch_root) ----
guest()
{
	local dir=$1 build=$2 suites=$3 filter=${4:-} kver rc
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	ln -sfn /proc/self/fd /dev/fd
	ln -sfn /proc/self/fd/0 /dev/stdin
	ln -sfn /proc/self/fd/1 /dev/stdout
	ln -sfn /proc/self/fd/2 /dev/stderr
	mount -t tmpfs tmpfs /dev/shm
	mount -t tmpfs tmpfs /tmp
	mount -t tmpfs tmpfs /run
	mount -t bpf bpf /sys/fs/bpf
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
	echo 1 >/proc/sys/kernel/sysrq
	# The unpacked package's modules, for modprobe and the kernel's autoload.
	kver=$(uname -r)
	mkdir -p /usr/lib/modules
	ln -sfn "$dir/$build/kernel/root/lib/modules/$kver" "/usr/lib/modules/$kver"
	hostname fm-kernel
	ip link set lo up
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	export HOME=/root TERM=dumb
	cd "$dir"
	echo "test-kernel: guest $(uname -r) up; suites: $suites ${filter:-(all)}"
	# A hook for looking around in the guest: runs before the suites.
	[[ -f $build/kernel/debug.sh ]] && bash "$build/kernel/debug.sh"
	local f
	for f in ${filter:-""}; do
		rc=0
		BUILD=$build SUITES=$suites tools/run-tests.sh "$f" </dev/null || rc=$?
		echo "test-kernel: run-tests.sh ${f:-(all)} exited $rc"
	done
	echo "test-kernel: guest done"
	sync
	echo o >/proc/sysrq-trigger
	sleep 10
}

if [[ ${1:-} == --guest ]]; then
	shift
	guest "$@"
	exit 0
fi

# ---- on the host ----
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
filter="$*"
pkg=${KERNEL_PKG:-linux-image-amd64}
limit=${KERNEL_TIMEOUT:-1500}
mem=${KERNEL_MEM:-2048}
suites=${KERNEL_SUITES:-bpf netns}
# qemu 7.2 with -cpu host aborts on this host ("failed to set MSR 0x10a",
# IA32_ARCH_CAPABILITIES): hide that MSR from the guest.
accel=${KERNEL_ACCEL:-tcg}
cpu=${KERNEL_CPU:-max}
kdir=$BUILD/kernel
dir=$(pwd)

if ((EUID != 0)); then
	echo "test-kernel: needs root (the guest's root is this host's /)" >&2
	exit 1
fi
if [[ ! -w /dev/kvm ]]; then
	echo "test-kernel: no /dev/kvm: KVM is not available here" >&2
	exit 1
fi
for c in qemu-system-x86_64 busybox depmod apt-get dpkg-deb cpio; do
	command -v "$c" >/dev/null || {
		echo "test-kernel: $c missing (tools/install-deps.sh kernel)" >&2
		exit 1
	}
done
if [[ $dir == *[[:space:],]* ]]; then
	echo "test-kernel: the tree's path may not hold blanks or commas" >&2
	exit 1
fi

# The package and the image package it depends on, downloaded once.
mkdir -p "$kdir"
if ! compgen -G "$kdir/root/boot/vmlinuz-*" >/dev/null; then
	(
		cd "$kdir"
		apt-get download "$pkg"
		dep=$(dpkg-deb -f "$pkg"_*.deb Depends | grep -o 'linux-image-[^ ,]*' | head -n 1)
		apt-get download "$dep"
		rm -rf root.new
		dpkg-deb -x "$dep"_*.deb root.new
		mv root.new root
	) 2>&1 | grep -v 'unsandboxed' || true
fi
vmlinuz=$(compgen -G "$kdir/root/boot/vmlinuz-*" | head -n 1)
[[ -n $vmlinuz ]] || {
	echo "test-kernel: no kernel unpacked in $kdir/root" >&2
	exit 1
}
kver=${vmlinuz##*/vmlinuz-}
moddir=$kdir/root/lib/modules/$kver
[[ -f $moddir/modules.dep ]] || depmod -b "$kdir/root" "$kver"

# The initramfs: busybox, the modules that reach the 9p root (in the
# order modules.dep gives, dependencies first) and an init.
initrd=$kdir/initrd-$kver.cpio.gz
if [[ ! -f $initrd || $0 -nt $initrd ]]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp"/{bin,dev,proc,sys,lower,upper,newroot,mod}
	cp "$(command -v busybox)" "$tmp/bin/busybox"
	order=()
	add()
	{
		local m=$1 line d i deps
		for d in "${order[@]}"; do [[ $d == "$m" ]] && return; done
		line=$(grep "^$m:" "$moddir/modules.dep") || {
			echo "test-kernel: no module $m in $moddir" >&2
			exit 1
		}
		# Dependencies listed deepest-first: load in reverse.
		read -ra deps <<<"${line#*:}"
		for ((i = ${#deps[@]} - 1; i >= 0; i--)); do add "${deps[i]}"; done
		order+=("$m")
	}
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		add "$(grep -o "^kernel/[^:]*/$m\.ko" "$moddir/modules.dep")"
	done
	: >"$tmp/modules"
	for m in "${order[@]}"; do
		cp "$moddir/$m" "$tmp/mod/"
		echo "${m##*/}" >>"$tmp/modules"
	done
	cat >"$tmp/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules); do insmod /mod/$m || echo "init: insmod $m failed"; done
for a in $(cat /proc/cmdline); do
	case $a in fm.dir=*) dir=${a#fm.dir=} ;; fm.build=*) build=${a#fm.build=} ;;
	fm.suites=*) suites=$(echo "${a#fm.suites=}" | tr , ' ') ;; fm.filter=*) filter=$(echo "${a#fm.filter=}" | tr , ' ') ;;
	esac
done
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 root /lower; then
	echo "init: cannot mount the 9p root"; poweroff -f
fi
mount -t tmpfs -o size=1g tmpfs /upper
mkdir /upper/u /upper/w
if ! mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot; then
	echo "init: cannot mount the overlay"; poweroff -f
fi
umount /proc /sys /dev
exec switch_root /newroot /bin/bash "$dir/tools/test-kernel.sh" --guest "$dir" "$build" "$suites" "$filter"
EOF
	chmod +x "$tmp/init"
	(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.new"
	mv "$initrd.new" "$initrd"
	rm -rf "$tmp"
	trap - EXIT
fi

log=$kdir/console.log
qpid=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup()
{
	[[ -n $qpid ]] && kill "$qpid" 2>/dev/null
	true
}
trap cleanup EXIT INT TERM

echo "test-kernel: booting $kver (qemu, $accel, ${mem} MiB, no network device; console in $log)"
start=$SECONDS
# -nodefaults and -nic none: no network device at all, not even qemu's
# default user-mode one; the guest's only interfaces are its own.
timeout --foreground -k 10 "$limit" qemu-system-x86_64 \
	-accel "$accel" -cpu "$cpu" -smp 2 -m "$mem" \
	-nodefaults -no-user-config -nic none -display none -no-reboot \
	-serial stdio -monitor none \
	-kernel "$vmlinuz" -initrd "$initrd" \
	-virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
	-append "console=ttyS0 panic=-1 quiet loglevel=4 fm.dir=$dir fm.build=$BUILD fm.suites=${suites// /,} fm.filter=${filter// /,}" \
	</dev/null >"$log" 2>&1 &
qpid=$!
tail -n +1 -f --pid="$qpid" "$log" 2>/dev/null | tr -d '\r' || true
qrc=0
wait "$qpid" || qrc=$?
qpid=""
took=$((SECONDS - start))

# The verdict, from the console: the suites' own lines and run-tests.sh's
# closing one.
tr -d '\r' <"$log" >"$log.txt"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log.txt" |
	awk '{p += $1; f += $3; s += $5} END {if (NR) printf "%d passed, %d failed, %d skipped", p, f, s}') || true
echo "---- test-kernel: $kver, ${took}s"
grep -E '^[A-Za-z0-9_./-]+: [0-9]+ passed, [0-9]+ failed|^FAIL - |^failed suites:' "$log.txt" | sed 's/^/  /' || true
if ((qrc == 124 || qrc == 137)); then
	echo "test-kernel: FAIL: the guest did not finish within ${limit}s"
	exit 1
fi
if [[ -z $summary ]]; then
	echo "test-kernel: FAIL: no result line on the console (qemu exited $qrc)"
	exit 1
fi
echo "test-kernel: $kver: $summary"
if ! grep -q '^test-kernel: guest done' "$log.txt" ||
	grep -qE '^test-kernel: run-tests.sh .* exited [1-9]' "$log.txt"; then
	exit 1
fi
exit 0
