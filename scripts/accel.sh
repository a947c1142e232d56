# SPDX-License-Identifier: GPL-2.0
# Which accelerator scripts/vm-run boots its guests with.  Source it after
# lib.sh; it defines functions and variables only.
#
# A /dev/kvm that opens proves nothing: on nested and cloud machines QEMU can
# abort at once ("failed to set MSR 0x10a"), or the guest hang for ever after
# "Probing EDD".  So KVM is tried with a boot that must reach the guest's init
# (guest-init answers ctvm.probe=1 and powers off) within a short bound,
# once per host boot and QEMU binary; the verdict is cached, and TCG is the
# fallback.  TCG stays single-threaded (see vm-run).
#
#   COWTRACE_ACCEL=kvm|tcg         tcg: never probe; kvm: use it, or fail
#                                  with the probe's reason (never hang)
#   COWTRACE_KVM_DEV=PATH          the device to try (default /dev/kvm)
#   COWTRACE_KVM_PROBE_TIMEOUT=S   the probe's bound (default 60)

KVM_ACCEL=kvm KVM_CPU=host
TCG_ACCEL=tcg,thread=single TCG_CPU=max,la57=off
KVM_PROBE_PID=

# accel_verdict_file DEV: where the probe's verdict for DEV is kept, keyed by
# the host's boot and the QEMU binary (an upgrade or a reboot probes again).
accel_verdict_file() {
	local qemu key
	qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 is not installed (scripts/provision)"
	key=$(printf '%s\n' "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)" "$1" \
		"$qemu" "$(stat -Lc '%s %Y' "$qemu")" | sha256sum | cut -c1-16)
	printf '%s/accel/%s\n' "$COWTRACE_CACHE" "$key"
}

# kvm_probe VMLINUZ INITRD: boot under KVM until the guest's init runs.
# Returns 0 if it got there; otherwise sets KVM_PROBE_WHY.  QEMU runs in the
# background, and none of this in a subshell, so that vm-run's signal trap
# can end it (KVM_PROBE_PID).
kvm_probe() {
	local dir rc bound=${COWTRACE_KVM_PROBE_TIMEOUT:-60} why=
	dir=$(mktemp -d)
	timeout -k 5 "$bound" qemu-system-x86_64 -accel "$KVM_ACCEL" -cpu "$KVM_CPU" \
		-smp 1 -m 512 -display none -monitor none -no-reboot \
		-kernel "$1" -initrd "$2" -append "console=ttyS0 panic=-1 ctvm.probe=1" \
		-serial "file:$dir/console" >"$dir/qemu.log" 2>&1 </dev/null &
	KVM_PROBE_PID=$!
	# (braces: bash's "Aborted" job notice for a QEMU that aborts goes too)
	{ wait "$KVM_PROBE_PID"; } 2>/dev/null
	rc=$?
	KVM_PROBE_PID=
	if ! grep -aq '^cowtrace-vm-probe=init' "$dir/console" 2>/dev/null; then
		case "$rc" in
		124 | 137) why="a KVM guest did not reach its init within ${bound}s" ;;
		*) why="QEMU exited with status $rc under KVM: $(grep -a -m1 . "$dir/qemu.log" | cut -c1-160)" ;;
		esac
	fi
	rm -rf "$dir"
	KVM_PROBE_WHY=$why
	[ -z "$why" ]
}

# kvm_verdict DEV VMLINUZ INITRD: sets KVM_VERDICT to "kvm" or "tcg REASON",
# probing only if no vm-run has yet this boot; guests started side by side
# wait for one probe.
kvm_verdict() {
	local file lock
	file=$(accel_verdict_file "$1")
	mkdir -p "$(dirname "$file")"
	exec {lock}>"$file.lock"
	flock "$lock"
	if [ ! -s "$file" ]; then
		if kvm_probe "$2" "$3"; then
			echo kvm >"$file.tmp"
		else
			printf 'tcg %s (the verdict holds until the next host boot: %s)\n' \
				"$KVM_PROBE_WHY" "$file" >"$file.tmp"
		fi
		mv "$file.tmp" "$file"
	fi
	exec {lock}>&-
	KVM_VERDICT=$(cat "$file")
}

# pick_accel VMLINUZ INITRD: sets ACCEL and ACCEL_CPU for qemu's -accel and
# -cpu, and ACCEL_WHY, one line on the choice.
pick_accel() {
	local dev=${COWTRACE_KVM_DEV:-/dev/kvm} want=${COWTRACE_ACCEL:-} verdict
	verdict="tcg no usable $dev"
	case "$want" in
	"" | kvm | tcg) ;;
	*) die "COWTRACE_ACCEL=$want: use kvm or tcg, or leave it unset to probe" ;;
	esac
	ACCEL=$TCG_ACCEL ACCEL_CPU=$TCG_CPU
	if [ "$want" = tcg ]; then
		ACCEL_WHY="TCG (COWTRACE_ACCEL=tcg)"
		return 0
	fi
	if [ -r "$dev" ] && [ -w "$dev" ]; then
		kvm_verdict "$dev" "$1" "$2"
		verdict=$KVM_VERDICT
	fi
	if [ "$verdict" = kvm ]; then
		ACCEL=$KVM_ACCEL ACCEL_CPU=$KVM_CPU ACCEL_WHY="KVM (a probe boot reached init)"
		return 0
	fi
	[ "$want" = kvm ] &&
		die "COWTRACE_ACCEL=kvm, but KVM does not work here: ${verdict#tcg }; unset COWTRACE_ACCEL to use TCG"
	ACCEL_WHY="TCG, since KVM is unusable: ${verdict#tcg }"
}
