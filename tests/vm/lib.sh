# shellcheck shell=bash
# hablk VM test library, sourced by tests/vm/scenarios/*.sh: boots QEMU (TCG) VMs of the host's
# Debian kernels on the host's / (9p, read-only + tmpfs overlay), links them by UDP, runs commands.
#
#   source "$(dirname "$0")/../lib.sh"; vm_setup
#   vm_link alpha eth0 beta eth0
#   vm_start alpha --ip eth0:192.0.2.1/24 --disk 256 --no-wait
#   vm_start beta  --ip eth0:192.0.2.2/24 --disk 256 --no-wait
#   vm_wait alpha beta
#   vm alpha ping -c1 192.0.2.2
#
# Environment: HABLK_KVER (kernel), HABLK_VM_WORK (work dir, kept), HABLK_VM_CACHE (boot images),
# HABLK_VM_TIMEOUT (per command, s), HABLK_VM_BOOT_TIMEOUT (s), HABLK_VM_MEM (MiB), HABLK_VM_CPU,
# HABLK_VM_KEEP_DISKS=1 (keep disk images), VM_LOG_ALLOW (ERE of console lines vm_check_log ignores).

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_SRC=$(cd "$VM_DIR/../.." && pwd)
VMCTL=$VM_DIR/vmctl
VM_CACHE=${HABLK_VM_CACHE:-/var/tmp/hablk-vm-cache}
VM_TIMEOUT=${HABLK_VM_TIMEOUT:-300}
VM_BOOT_TIMEOUT=${HABLK_VM_BOOT_TIMEOUT:-120}
VM_WORK=''     # per-run directory: console logs, disk images, shared/ (= /shared in every guest)
VM_SHARED=''   # $VM_WORK/shared
VM_SOCKDIR=''  # control/monitor sockets (short path: unix socket paths are limited to 108 bytes)
VM_LOG_ALLOW=${VM_LOG_ALLOW:-}
VM_AT_END=()   # functions the EXIT trap runs, in order, when the scenario succeeded (vm_at_end)

# ---- assertions ------------------------------------------------------------------------------

pass() { echo "ok - $*"; }
fail() { echo "FAIL - $*" >&2; exit 1; }
assert_eq() { # assert_eq ACTUAL EXPECTED MSG
	if [[ $1 == "$2" ]]; then pass "$3"; else fail "$3: expected '$2', got '$1'"; fi
}
vm_note() { echo "# $*" >&2; }

# ---- setup / teardown ------------------------------------------------------------------------

vm_setup() {
	if [[ -n ${HABLK_VM_WORK:-} ]]; then
		VM_WORK=$HABLK_VM_WORK
		mkdir -p "$VM_WORK"
	else
		VM_WORK=$(mktemp -d /var/tmp/hablk-vm.XXXXXX)
	fi
	VM_WORK=$(cd "$VM_WORK" && pwd)
	VM_SHARED=$VM_WORK/shared
	mkdir -p "$VM_SHARED" "$VM_WORK/.state"
	VM_SOCKDIR=$(mktemp -d /tmp/hablk-vm.XXXXXX)
	if [[ ! -x $VMCTL || $VMCTL -ot $VM_DIR/vmctl.c ]]; then
		make -s -C "$VM_DIR" vmctl >&2
	fi
	trap _vm_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# vm_at_end FUNC: when the scenario succeeds, the EXIT trap runs FUNC (in a subshell with
# set -e, the VMs still running) before it kills the VMs; a FUNC that fails fails the scenario.
vm_at_end() { VM_AT_END+=("$1"); }

_vm_cleanup() {
	local rc=$? name fn
	set +e
	trap - EXIT
	for fn in "${VM_AT_END[@]}"; do
		((rc == 0)) || break
		(set -e; "$fn")
		rc=$?
	done
	for name in $(_vm_names); do
		_vm_running "$name" && _vm_killpid "$name"
	done
	# Every scenario ends with the kernel logs of all its VMs checked.
	for name in $(_vm_names); do
		vm_check_log "$name" || { ((rc)) || rc=1; }
	done
	_vm_release_ports
	rm -rf "$VM_SOCKDIR"
	[[ -n ${HABLK_VM_KEEP_DISKS:-} ]] || rm -f "$VM_WORK"/*.img
	if [[ -z ${HABLK_VM_WORK:-} ]]; then
		if ((rc == 0)); then rm -rf "$VM_WORK"; else vm_note "logs kept in $VM_WORK"; fi
	fi
	exit "$rc"
}

# ---- kernels and boot images -----------------------------------------------------------------

vm_kver_default() { # newest installed Debian 6.1 kernel, or $HABLK_KVER
	if [[ -n ${HABLK_KVER:-} ]]; then
		echo "$HABLK_KVER"
		return
	fi
	local k=(/boot/vmlinuz-6.1.*)
	[[ -e ${k[0]} ]] || { echo "vm_kver_default: no /boot/vmlinuz-6.1.* installed" >&2; return 1; }
	printf '%s\n' "${k[@]#/boot/vmlinuz-}" | sort -V | tail -n1
}

# Uncompressed vmlinux extracted from /boot/vmlinuz-KVER, booted through its PVH entry point:
# saves ~4 s of in-guest decompression under TCG.  Falls back to the bzImage.
_vm_kernel() {
	local kver=$1 img=/boot/vmlinuz-$1 out tmp pos magic tool
	out=$VM_CACHE/vmlinux-$kver-$(stat -c %s-%Y "$img")
	if [[ ! -s $out ]]; then
		mkdir -p "$VM_CACHE"
		tmp=$(mktemp "$VM_CACHE/.vmlinux.XXXXXX")
		for magic in '\xfd7zXZ\x00:xz -dcq' '\x28\xb5\x2f\xfd:zstd -dcq' '\x1f\x8b\x08\x00:gzip -dcq'; do
			tool=${magic#*:} magic=${magic%%:*}
			pos=$(LC_ALL=C grep -obUaP "$magic" "$img" 2>/dev/null | head -n1 | cut -d: -f1 || true)
			[[ -n $pos ]] || continue
			tail -c +$((pos + 1)) "$img" | $tool >"$tmp" 2>/dev/null || true
			if [[ $(head -c4 "$tmp" | od -An -tx1 | tr -d ' ') == 7f454c46 ]] &&
				{ ! command -v readelf >/dev/null || readelf -n "$tmp" 2>/dev/null | grep -q 'type: (0x00000012)'; }; then
				mv -f "$tmp" "$out"
				break
			fi
		done
		rm -f "$tmp"
	fi
	if [[ -s $out ]]; then echo "$out"; else echo "$img"; fi
}

_vm_initramfs() {
	local out=$VM_WORK/.state/initramfs-$1.cpio.gz
	[[ -s $out ]] || "$VM_DIR/mkinitramfs.sh" "$1" "$out" 2>/dev/null
	echo "$out"
}

# ---- VM state (files under $VM_WORK/.state, so subshells see it too) -------------------------

_vm_st() { echo "$VM_WORK/.state/$1"; }
_vm_names() { local f; for f in "$VM_WORK"/.state/*.args; do [[ -e $f ]] && basename "$f" .args; done; return 0; }
_vm_pid() { cat "$(_vm_st "$1.pid")" 2>/dev/null; }
_vm_alive() { # PID is running and not a zombie
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != [ZX] ]]
}
_vm_running() { local pid; pid=$(_vm_pid "$1") && _vm_alive "$pid"; }
vm_sock() { echo "$VM_SOCKDIR/$1.ctl"; }
vm_disk() { echo "$VM_WORK/$1.$2.img"; } # vm_disk NAME vdb: the host file behind the guest disk
vm_console() { cat "$VM_WORK/$1.console.log"; }

_vm_index() { # small per-run number of a VM, used in its MACs
	local f
	f=$(_vm_st "$1.idx")
	if [[ ! -s $f ]]; then
		local n
		n=$(cat "$VM_WORK"/.state/*.idx 2>/dev/null | wc -l)
		echo $((n + 1)) >"$f"
	fi
	cat "$f"
}

# UDP ports for links: QEMU binds them with SO_REUSEADDR, so a clash would go unnoticed.  Ports
# 20000-29999 are claimed in a machine-wide registry (one file per port, owner pid inside).
_vm_alloc_port() {
	local dir=/tmp/hablk-vm-ports p n f owner
	mkdir -p "$dir"
	for ((n = 0, p = 20000 + RANDOM % 10000; n < 10000; n++, p = 20000 + (p - 19999) % 10000)); do
		f=$dir/$p
		if [[ -e $f ]]; then
			owner=$(cat "$f" 2>/dev/null) || continue
			[[ -n $owner ]] && kill -0 "$owner" 2>/dev/null && continue
			rm -f "$f"
		fi
		grep -qi ":$(printf %04X "$p") " /proc/net/udp /proc/net/udp6 2>/dev/null && continue
		if (set -C; echo $$ >"$f") 2>/dev/null; then
			echo "$p" >>"$(_vm_st ports)"
			echo "$p"
			return 0
		fi
	done
	echo "vm: no free UDP port" >&2
	return 1
}
_vm_release_ports() {
	local p
	[[ -e $(_vm_st ports) ]] || return 0
	while read -r p; do rm -f "/tmp/hablk-vm-ports/$p"; done <"$(_vm_st ports)"
	rm -f "$(_vm_st ports)"
}

# ---- links -----------------------------------------------------------------------------------

# vm_link A ethX B ethY: a point-to-point link (QEMU UDP socket transport) between A's ethX and
# B's ethY.  Declare links before starting the VMs.  A full mesh of N VMs is N*(N-1)/2 links.
vm_link() {
	[[ $# -eq 4 && $2 =~ ^eth[0-9]+$ && $4 =~ ^eth[0-9]+$ ]] || { echo "usage: vm_link A ethX B ethY" >&2; return 2; }
	local a=$1 ai=${2#eth} b=$3 bi=${4#eth} pa pb
	if _vm_running "$a" || _vm_running "$b"; then echo "vm_link: link before vm_start" >&2; return 1; fi
	if grep -qs "^$ai " "$(_vm_st "$a.nics")" || grep -qs "^$bi " "$(_vm_st "$b.nics")" || [[ $a == "$b" ]]; then
		echo "vm_link: $a $2 or $b $4 already linked" >&2
		return 1
	fi
	pa=$(_vm_alloc_port) && pb=$(_vm_alloc_port) || return 1
	echo "$ai $pb $pa $b" >>"$(_vm_st "$a.nics")" # NIC index, peer's port, own port, peer
	echo "$bi $pa $pb $a" >>"$(_vm_st "$b.nics")"
}

# ---- start / stop ----------------------------------------------------------------------------

# vm_start NAME [--kver KVER] [--ip ethN:ADDR/PREFIX]... [--disk SIZE_MIB]... [--mem MIB]
#          [--append KERNEL_ARGS] [--no-wait]
# Disks appear as /dev/vdb, /dev/vdc, ... (/dev/vda is a small blank disk reserved for the harness);
# they are sparse files kept across vm_kill/vm_restart.
vm_start() {
	local name=$1
	shift
	[[ $name =~ ^[a-z][a-z0-9_-]*$ ]] || { echo "vm_start: bad VM name '$name'" >&2; return 2; }
	if _vm_running "$name"; then echo "vm_start: $name is already running" >&2; return 1; fi
	local args=("$@") kver='' mem=${HABLK_VM_MEM:-768} wait=1 ips=() disks=()
	local append=${HABLK_VM_APPEND:+ $HABLK_VM_APPEND}
	while (($#)); do
		case $1 in
		--kver) kver=$2; shift 2 ;;
		--ip) ips+=("$2"); shift 2 ;;
		--disk) disks+=("$2"); shift 2 ;;
		--mem) mem=$2; shift 2 ;;
		--append) append+=" $2"; shift 2 ;;
		--no-wait) wait=0; shift ;;
		*) echo "vm_start: unknown option $1" >&2; return 2 ;;
		esac
	done
	[[ -n $kver ]] || kver=$(vm_kver_default)
	local a saved=()
	for a in "${args[@]}"; do [[ $a == --no-wait ]] || saved+=("$a"); done
	if ((${#saved[@]})); then printf '%s\0' "${saved[@]}"; fi >"$(_vm_st "$name.args")"

	local idx kernel initrd
	idx=$(_vm_index "$name")
	kernel=$(_vm_kernel "$kver")
	initrd=$(_vm_initramfs "$kver")

	# The guest CPU has no CMPXCHG16B (HABLK_VM_CPU overrides): Debian 12's QEMU 7.2 computes
	# its flags with a stale lazy-flags state (no gen_update_cc_op before the helper; fixed
	# when QEMU 8.1 inlined the instruction), which can leave garbage in EFLAGS. Seen twice
	# in 6.12 guests as a double fault right after the cmpxchg16b of SLUB's kmalloc fast path,
	# with EFLAGS equal to RDI | 0x242, the operand of the preceding ADD. Without CX16 the
	# kernel uses its own emulation (this_cpu_cmpxchg16b_emu) instead.
	local cmd=(qemu-system-x86_64 -name "$name" -accel tcg -cpu "${HABLK_VM_CPU:-qemu64,-cx16}"
		-smp 1 -m "$mem"
		-nodefaults -nographic -no-reboot
		-kernel "$kernel" -initrd "$initrd"
		-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
		-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot"
		-fsdev "local,id=shared,path=$VM_SHARED,security_model=none,multidevs=remap"
		-device "virtio-9p-pci,fsdev=shared,mount_tag=shared"
		-chardev "file,id=console,path=$VM_WORK/$name.console.log,append=on" -serial chardev:console
		-chardev "socket,id=ctl,path=$(vm_sock "$name"),server=on,wait=off" -serial chardev:ctl
		-monitor "unix:$VM_SOCKDIR/$name.mon,server=on,wait=off")

	# Disks: vda reserved, then the caller's in order.
	local i letters=abcdefghijklmnopqrstuvwxyz f size
	for ((i = 0; i <= ${#disks[@]}; i++)); do
		if ((i == 0)); then size=16; else size=${disks[i - 1]}; fi
		f=$(vm_disk "$name" "vd${letters:i:1}")
		[[ -e $f ]] || truncate -s "${size}M" "$f"
		cmd+=(-drive "file=$f,format=raw,if=none,id=vd${letters:i:1},cache=unsafe,discard=unmap"
			-device "virtio-blk-pci,drive=vd${letters:i:1},serial=vd${letters:i:1}")
	done

	# NICs, in ethN order; the guest names them from the MAC's last byte.
	local nic port_peer port_own have=' '
	while read -r nic port_peer port_own _; do
		cmd+=(-netdev "socket,id=n$nic,udp=127.0.0.1:$port_peer,localaddr=127.0.0.1:$port_own"
			-device "virtio-net-pci,netdev=n$nic,mac=$(printf '52:54:00:%02x:4b:%02x' "$idx" "$nic"),romfile=")
		have+="eth$nic "
	done < <(sort -n "$(_vm_st "$name.nics")" 2>/dev/null)
	local ip
	for ip in "${ips[@]}"; do
		[[ $have == *" ${ip%%:*} "* ]] || { echo "vm_start: $name has no ${ip%%:*} (vm_link it first)" >&2; return 1; }
	done

	local cmdline="console=ttyS0 panic=-1 panic_on_warn=0 sysctl.kernel.hung_task_timeout_secs=30"
	cmdline+=" edd=off tsc=reliable hablk.init=$VM_DIR/guest-init.sh hablk.host=$name hablk.src=$VM_SRC"
	((${#ips[@]})) && cmdline+=" hablk.ip=$(IFS=,; echo "${ips[*]}")"
	cmd+=(-append "$cmdline$append")

	printf '===== hablk-vm: %s booting kernel %s at %s =====\n' "$name" "$kver" "$(date '+%F %T')" \
		>>"$VM_WORK/$name.console.log"
	printf '%q ' "${cmd[@]}" >"$(_vm_st "$name.cmd")"
	echo "${EPOCHREALTIME/./}" >"$(_vm_st "$name.t0")"
	"${cmd[@]}" </dev/null >>"$VM_WORK/$name.qemu.log" 2>&1 &
	echo $! >"$(_vm_st "$name.pid")"
	disown $!
	((wait)) || return 0
	vm_wait "$name"
}

# vm_wait NAME...: return when each VM's agent answers (fails after HABLK_VM_BOOT_TIMEOUT s).
vm_wait() {
	local name err
	for name; do
		if ! err=$("$VMCTL" "$(vm_sock "$name")" --ping --pid "$(_vm_pid "$name")" \
			--timeout "$VM_BOOT_TIMEOUT" 2>&1); then
			echo "vm_wait: $name did not come up: $err" >&2
			echo "---- tail of $VM_WORK/$name.console.log" >&2
			tail -n 40 "$VM_WORK/$name.console.log" >&2
			if [[ -s $VM_WORK/$name.qemu.log ]]; then
				echo "---- $VM_WORK/$name.qemu.log" >&2
				tail -n 20 "$VM_WORK/$name.qemu.log" >&2
			fi
			return 1
		fi
		local t0 dt
		t0=$(cat "$(_vm_st "$name.t0")") dt=$((${EPOCHREALTIME/./} - t0))
		vm_note "$name up in $((dt / 1000000)).$(printf %02d $((dt % 1000000 / 10000))) s"
	done
}

_vm_wait_gone() { # _vm_wait_gone PID SECONDS
	local deadline=$((SECONDS + $2))
	while _vm_alive "$1"; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

_vm_killpid() {
	local pid
	pid=$(_vm_pid "$1") || return 0
	kill -9 "$pid" 2>/dev/null || true
	_vm_wait_gone "$pid" 10 || { echo "vm_kill: $1 (pid $pid) does not die" >&2; return 1; }
	rm -f "$(_vm_st "$1.pid")"
}

# vm_kill NAME: crash the node (kill -9 of its QEMU); disks keep what the guest had written.
vm_kill() { _vm_killpid "$1"; }

# vm_stop NAME: clean poweroff (falls back to kill after 30 s).
vm_stop() {
	local pid
	pid=$(_vm_pid "$1") || { echo "vm_stop: $1 is not running" >&2; return 1; }
	"$VMCTL" "$(vm_sock "$1")" --poweroff --pid "$pid" --timeout 30 >/dev/null || true
	if ! _vm_wait_gone "$pid" 30; then
		echo "vm_stop: $1 did not power off; killing it" >&2
		_vm_killpid "$1"
	fi
	rm -f "$(_vm_st "$1.pid")"
}

# vm_restart NAME [--no-wait]: boot again with the same options, disks and links.
vm_restart() {
	local name=$1 args=()
	shift
	_vm_running "$name" && vm_kill "$name"
	mapfile -d '' args <"$(_vm_st "$name.args")"
	vm_start "$name" "${args[@]}" "$@"
}

# ---- commands --------------------------------------------------------------------------------

# vm_run NAME [--timeout SEC] SCRIPT: run SCRIPT with sh in the guest (a "#!" line picks another
# interpreter); prints its stdout+stderr, returns its exit code (255: timeout or VM gone).
vm_run() {
	local name=$1 timeout=$VM_TIMEOUT
	shift
	if [[ ${1:-} == --timeout ]]; then timeout=$2; shift 2; fi
	[[ $# -eq 1 ]] || { echo "usage: vm_run NAME [--timeout SEC] SCRIPT" >&2; return 2; }
	printf '%s\n' "$1" | "$VMCTL" "$(vm_sock "$name")" --timeout "$timeout" --shared "$VM_SHARED"
}

# vm NAME CMD [ARG...]: run one command (arguments passed as they are, like ssh with quoting).
vm() {
	local name=$1 q='' a
	shift
	for a; do q+="'${a//\'/\'\\\'\'}' "; done
	vm_run "$name" "$q"
}

# ---- logs ------------------------------------------------------------------------------------

# vm_check_log NAME: fail, printing them, if the console log has kernel warnings/oopses/hangs.
vm_check_log() {
	local log=$VM_WORK/$1.console.log hits
	[[ -e $log ]] || return 0
	hits=$(grep -naE 'WARNING:|BUG:|BUG [[:alnum:]_.-]+ \(|Redzone|Poison overwritten|Oops|double fault|general protection|Call Trace|hung_task|blocked for more than|lockdep|possible circular locking|KASAN|UBSAN|[Kk]ernel panic|KERNEL PANIC' "$log" |
		grep -vaiE 'command line' | { if [[ -n $VM_LOG_ALLOW ]]; then grep -vaE "$VM_LOG_ALLOW"; else cat; fi; } || true)
	[[ -z $hits ]] && return 0
	echo "FAIL - kernel log of $1 has warnings ($log):" >&2
	head -n 50 <<<"$hits" >&2
	return 1
}
