# shellcheck shell=bash disable=SC2016 # guest scripts are single-quoted on purpose
# hablk scenario helpers, sourced after lib.sh: a pair of data nodes (alpha, beta) linked by
# one UDP link, the resource r0 on each node's /dev/vdb, and short wrappers to drive them.
#
#   alpha 192.0.2.1 eth0 ====== UDP link ====== eth0 192.0.2.2 beta
#         /dev/vdb -> /dev/hablk0                 /dev/hablk0 <- /dev/vdb

RES=r0
CFG=/shared/r0.res              # the same file on both nodes (the shared 9p folder)
DEV=/dev/hablk0
ADM="$VM_SRC/userspace/hablkadm"

# adm NODE ARGS...: hablkadm on NODE with the scenario's configuration.
adm() { local n=$1; shift; vm "$n" "$ADM" -c "$CFG" "$@"; }

# hablk_config [EXTRA_RESOURCE_LINES]: write r0.res for the pair.
hablk_config() {
	cat >"$VM_SHARED/r0.res" <<-CONF
	resource r0 {
	    minor 0
	    protocol ${PROTOCOL:-C}
	    secret "${SECRET:-hablk-test-secret}"
	    ping-interval 500
	    ping-timeout 1500
	    connect-interval 100
	    connect-interval-max 1000
	    ${1:-}
	    node alpha {
	        id 0
	        address 192.0.2.1:7788
	        disk /dev/vdb
	        meta-disk internal
	    }
	    node beta {
	        id 1
	        address 192.0.2.2:7788
	        disk /dev/vdb
	        meta-disk internal
	    }
	}
	CONF
}

# hablk_load NODE: insmod the module built for the guest's kernel.
hablk_load() {
	vm_run "$1" 'insmod "$HABLK_SRC/build/$(uname -r)/hablk.ko"'
}

# hablk_boot [DISK_MIB [META_MIB]]: boot the pair and load the module (no resource yet);
# with META_MIB each node also gets /dev/vdc of that size (for external metadata).
hablk_boot() {
	local size=${1:-256} meta=()
	[[ -n ${2:-} ]] && meta=(--disk "$2")
	vm_link alpha eth0 beta eth0
	vm_start alpha --ip eth0:192.0.2.1/24 --disk "$size" "${meta[@]}" --no-wait
	vm_start beta --ip eth0:192.0.2.2/24 --disk "$size" "${meta[@]}" --no-wait
	vm_wait alpha beta
	hablk_config
	hablk_load alpha
	hablk_load beta
}

# hablk_up NODE...: create-md (with $MD_OPTS, if set) and up.
hablk_up() {
	local n
	for n in "$@"; do
		# shellcheck disable=SC2086 # MD_OPTS is a list of options
		adm "$n" create-md "$RES" ${MD_OPTS:-} >/dev/null
		adm "$n" up "$RES"
	done
}

# hablk_pair_up [SYNC_SECONDS]: create-md and up on both, alpha primary --force, and wait
# (at most SYNC_SECONDS, default 300) for the full initial sync.
hablk_pair_up() {
	hablk_up alpha beta
	adm alpha wait-connect "$RES" --timeout 60
	adm alpha primary "$RES" --force
	adm alpha wait-sync "$RES" --timeout "${1:-300}"
	adm beta wait-sync "$RES" --timeout 60
}

# hablk_pair_synced [DISK_MIB]: boot, then hablk_pair_up.
hablk_pair_synced() {
	hablk_boot "$@"
	hablk_pair_up
}

# st NODE FIELD: one field of the first resource's status (top level, or peer.FIELD).
st() {
	local json
	json=$(adm "$1" status -j "$RES")
	python3 -c 'import json,sys
d=json.loads(sys.argv[1])["resources"][0]; k=sys.argv[2]
print(d["peers"][0][k[5:]] if k.startswith("peer.") else d[k])' "$json" "$2"
}

# dev_sum NODE: md5 of the whole device, read with O_DIRECT.
dev_sum() {
	vm_run "$1" "dd if=$DEV bs=1M iflag=direct status=none | md5sum | cut -d' ' -f1"
}

# disk_sum NODE SECTORS: md5 of the first SECTORS of the backing disk.
disk_sum() {
	vm_run "$1" "head -c \$(($2 * 512)) /dev/vdb | md5sum | cut -d' ' -f1"
}

# objects NODE: the module's live object counts ("N resources N requests ...").
objects() { vm "$1" cat /sys/module/hablk/parameters/objects; }
# What objects shows when nothing is left: every count zero.
NO_OBJECTS="0 resources 0 requests 0 peer_requests 0 sockets 0 threads 0 pages"
# object_count NODE NAME: one of the counts, by its name (e.g. pages).
object_count() {
	objects "$1" | awk -v name="$2" '{ for (i = 2; i <= NF; i += 2) if ($i == name) { print $(i - 1); found = 1 } }
		END { if (!found) exit 1 }' || fail "no object count named $2 on $1"
}

# ---- the common ending of every scenario (scenario.sh: vm_at_end hablk_end) -------------------

# _hablk_resources NODE [ROLE]: the names of the resources up in NODE's kernel (of ROLE only).
_hablk_resources() {
	local json
	json=$(vm "$1" "$ADM" -j status) || fail "$1: hablkadm status failed at the end: $json"
	python3 -c 'import json, sys
for r in json.loads(sys.argv[1])["resources"]:
    if sys.argv[2] in ("", r["role"]):
        print(r["name"])' "$json" "${2:-}"
}

# _hablk_quiesce NODE: hablkd stopped, and every process that holds a /dev/hablkN killed;
# fails naming a process that does not go (one blocked in the kernel, e.g. on frozen I/O).
_hablk_quiesce() {
	vm_run "$1" --timeout 60 '
		pkill -TERM -x hablkd
		i=0
		while pgrep -x hablkd >/dev/null; do
			i=$((i + 1)); [ $i -le 100 ] || { echo "hablkd does not stop on SIGTERM"; exit 1; }
			sleep 0.1
		done
		holders() {
			for f in /proc/[0-9]*/fd/*; do
				case $(readlink "$f" 2>/dev/null) in /dev/hablk*) f=${f#/proc/}; echo "${f%%/*}" ;; esac
			done | sort -u
		}
		i=0
		while p=$(holders); [ -n "$p" ]; do
			kill -KILL $p 2>/dev/null
			i=$((i + 1))
			if [ $i -gt 300 ]; then
				for q in $p; do
					echo "pid $q ($(cat /proc/$q/comm)) still holds the device after SIGKILL:" \
						"state $(cut -d" " -f3 /proc/$q/stat), in $(cat /proc/$q/wchan)"
				done
				exit 1
			fi
			sleep 0.1
		done' || fail "$1: cannot stop what uses hablk at the end of the scenario"
}

# hablk_end: run by the EXIT trap when the scenario succeeded. On every running VM with the
# module loaded: hablkd and the device's holders stopped (all VMs first, so no hablkd reacts to
# the others), every primary made secondary (all VMs, before any goes down: a managed primary
# that lost its peer would freeze), every resource down, then no object left, rmmod hablk, and
# the kernel's "unloaded, 0 objects leaked". Fails naming the VM and what it found.
hablk_end() {
	local n r o rc line res nodes=()
	for n in $(_vm_names); do
		_vm_running "$n" || continue
		if vm "$n" test -d /sys/module/hablk; then
			nodes+=("$n")
		elif (($? != 1)); then
			fail "$n does not answer at the end of the scenario"
		fi
	done
	((${#nodes[@]})) || return 0
	for n in "${nodes[@]}"; do _hablk_quiesce "$n"; done
	for n in "${nodes[@]}"; do
		res=$(_hablk_resources "$n" primary)
		for r in $res; do
			vm "$n" "$ADM" secondary "$r" || fail "$n: secondary $r refused at the end"
		done
	done
	for n in "${nodes[@]}"; do
		res=$(_hablk_resources "$n")
		for r in $res; do
			vm_run "$n" --timeout 120 "$ADM down $r" && continue
			rc=$?
			{
				echo "# $n: status after the failed down:"
				vm_run "$n" --timeout 20 "$ADM status" 2>&1 || true
				echo "# tail of $n's console log:"
				vm_console "$n" | tail -n 30
			} >&2
			((rc != 255)) || fail "$n: down $r did not return in 120 s at the end of the scenario (hung?)"
			fail "$n: down $r failed at the end of the scenario (exit $rc)"
		done
		o=$(objects "$n")
		[[ $o == "$NO_OBJECTS" ]] || fail "$n: hablk objects left after down: $o"
		vm_run "$n" --timeout 120 "rmmod hablk" || fail "$n: rmmod hablk failed (rc $?)"
		line=$(vm "$n" dmesg | grep 'hablk: unloaded' | tail -n 1)
		[[ $line == *"unloaded, 0 objects leaked" ]] || fail "$n: rmmod hablk: '$line'"
	done
	pass "every resource down, no hablk object left, module unloaded on ${nodes[*]}"
}

# hablk_check_logs: fail on any kernel splat on either node.
hablk_check_logs() {
	local n
	for n in "$@"; do vm_check_log "$n"; done
}

# wait_st NODE FIELD VALUE [SECONDS]: poll the status until FIELD is VALUE (default 30 s).
# For states that have no wait-* command; fails with the last value seen.
wait_st() {
	local n=$1 f=$2 want=$3 t=${4:-30} v='' end
	end=$((SECONDS + t))
	while ((SECONDS < end)); do
		v=$(st "$n" "$f") || true
		[[ $v == "$want" ]] && return 0
		sleep 0.2
	done
	fail "$n: $f is '$v', not '$want' after $t s"
}

# bg_start NODE NAME SCRIPT: run SCRIPT in the background on NODE; its output goes to
# /shared/NAME.log and its exit code to /shared/NAME.rc when it ends.
bg_start() {
	rm -f "$VM_SHARED/$2.rc"
	printf '(\n%s\n) >/shared/%s.log 2>&1 </dev/null\necho $? >/shared/%s.rc.tmp\nmv /shared/%s.rc.tmp /shared/%s.rc\n' \
		"$3" "$2" "$2" "$2" "$2" >"$VM_SHARED/$2.sh"
	vm_run "$1" "setsid bash /shared/$2.sh </dev/null >/dev/null 2>&1 &"
}

# ackw_start NODE N: tests/vm/ackw writing 4 KiB blocks at random in MiB 16..40 of NODE's
# device, each logged in /shared/acked.log once acknowledged; returns when N are.
ackw_start() {
	local end=$((SECONDS + 120))
	bg_start "$1" ackw "$VM_SRC/tests/vm/ackw write $DEV 4096 6144 100000 /shared/acked.log"
	until (($(wc -l 2>/dev/null <"$VM_SHARED/acked.log" || echo 0) >= $2)); do
		((SECONDS < end)) || fail "$1 acknowledged fewer than $2 writes in 120 s"
		sleep 0.2
	done
}

# bg_wait NAME [SECONDS]: wait for a bg_start job; returns its exit code.
bg_wait() {
	local end=$((SECONDS + ${2:-300}))
	until [[ -e $VM_SHARED/$1.rc ]]; do
		((SECONDS < end)) || fail "$1 did not finish in ${2:-300} s"
		sleep 0.2
	done
	return "$(cat "$VM_SHARED/$1.rc")"
}

# writes_done NODE: completed write requests of the hablk device (from /sys/block).
writes_done() { vm "$1" awk '{ print $5 }' /sys/block/hablk0/stat; }

# wait_writes NODE N: until the device has completed at least N writes (bounded).
wait_writes() {
	local end=$((SECONDS + 60))
	until (($(writes_done "$1") >= $2)); do
		((SECONDS < end)) || fail "$1: fewer than $2 writes after 60 s"
		sleep 0.2
	done
}

# vm_monitor NAME COMMAND: one QEMU human-monitor command (e.g. block_resize vdb 192M).
vm_monitor() {
	python3 - "$VM_SOCKDIR/$1.mon" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
def until_prompt():
    buf, end = b"", time.time() + 20
    while b"(qemu)" not in buf and time.time() < end:
        buf += s.recv(4096)
    return buf
until_prompt()
s.sendall(sys.argv[2].encode() + b"\n")
out = until_prompt().decode(errors="replace")
if "rror" in out:
    sys.exit("monitor: " + out)
PY
}

# ---- three nodes: alpha and beta (data) and gamma (arbiter) ----------------------------------
#
#   alpha eth0 ==== replication 192.0.2.0/24 ==== eth0 beta
#   alpha eth1 ==== control ======================== eth1 beta
#   alpha eth2 ==== control ==== eth0 gamma eth1 ==== control ==== eth2 beta
# Each node's control address (hablkd) is 203.0.113.N/32 on lo, routed over its control links;
# the replication path of hablkd runs on 192.0.2.N with the control port.

# hablk_trio_config [EXTRA_RESOURCE_LINES]: r0.res with the arbiter and control addresses;
# TIMING= (set and empty) leaves ping and connect timings at their defaults.
hablk_trio_config() {
	local timing=${TIMING-"ping-interval 500
	    ping-timeout 1500
	    connect-interval 100
	    connect-interval-max 1000"}
	cat >"$VM_SHARED/r0.res" <<-CONF
	resource r0 {
	    minor 0
	    protocol ${PROTOCOL:-C}
	    secret "${SECRET:-hablk-test-secret}"
	    $timing
	    on-no-quorum suspend-io
	    ${1:-}
	    node alpha {
	        id 0
	        address 192.0.2.1:7788
	        control 203.0.113.1:7790
	        disk /dev/vdb
	        meta-disk internal
	    }
	    node beta {
	        id 1
	        address 192.0.2.2:7788
	        control 203.0.113.2:7790
	        disk /dev/vdb
	        meta-disk internal
	    }
	    arbiter gamma {
	        id 2
	        address 203.0.113.3:7780
	        control 203.0.113.3:7790
	    }
	}
	CONF
}

# _trio_net NODE: the control address and its routes (after every boot).
_trio_net() {
	case $1 in
	alpha) vm_run alpha "ip addr add 203.0.113.1/32 dev lo && ip link set eth1 up && ip link set eth2 up &&
		ip route add 203.0.113.2/32 dev eth1 src 203.0.113.1 && ip route add 203.0.113.3/32 dev eth2 src 203.0.113.1" ;;
	beta) vm_run beta "ip addr add 203.0.113.2/32 dev lo && ip link set eth1 up && ip link set eth2 up &&
		ip route add 203.0.113.1/32 dev eth1 src 203.0.113.2 && ip route add 203.0.113.3/32 dev eth2 src 203.0.113.2" ;;
	gamma) vm_run gamma "ip addr add 203.0.113.3/32 dev lo && ip link set eth0 up && ip link set eth1 up &&
		ip route add 203.0.113.1/32 dev eth0 src 203.0.113.3 && ip route add 203.0.113.2/32 dev eth1 src 203.0.113.3" ;;
	esac
}

# hablk_trio_boot [DISK_MIB]: boot the three, network them, load the module on the data nodes.
hablk_trio_boot() {
	local size=${1:-256} n
	vm_link alpha eth0 beta eth0
	vm_link alpha eth1 beta eth1
	vm_link alpha eth2 gamma eth0
	vm_link beta eth2 gamma eth1
	vm_start alpha --ip eth0:192.0.2.1/24 --disk "$size" --no-wait
	vm_start beta --ip eth0:192.0.2.2/24 --disk "$size" --no-wait
	vm_start gamma --mem 256 --no-wait
	vm_wait alpha beta gamma
	for n in alpha beta gamma; do _trio_net $n; done
	hablk_load alpha
	hablk_load beta
}

# hablk_trio_synced DISK_MIB [EXTRA_RESOURCE_LINES]: the three booted, alpha primary and in
# sync with beta, hablkd on all three, the arbiter and each data node hearing each other.
hablk_trio_synced() {
	hablk_trio_boot "$1"
	hablk_trio_config "${2:-}"
	hablk_pair_up
	hablkd_start alpha beta gamma
	wait_log alpha "arbiter gamma is reachable" 30
	wait_log beta "arbiter gamma is reachable" 30
	wait_log gamma "node alpha is reachable" 30
	wait_log gamma "node beta is reachable" 30
}

# hablk_dual_synced DISK_MIB [EXTRA_RESOURCE_LINES]: the three booted with
# allow-two-primaries, hablkd on all three managing both data nodes (a primary needs it
# then), alpha primary --force, the initial sync done, and beta primary too.
hablk_dual_synced() {
	hablk_trio_boot "$1"
	hablk_trio_config "allow-two-primaries yes
	    ${2:-}"
	hablkd_start alpha beta gamma
	hablk_up alpha beta
	adm alpha wait-connect "$RES" --timeout 60
	wait_st alpha managed True 30
	wait_st beta managed True 30
	adm alpha primary "$RES" --force
	adm alpha wait-sync "$RES" --timeout 300
	adm beta wait-sync "$RES" --timeout 60
	adm beta primary "$RES"
	wait_log gamma "node alpha is reachable" 30
	wait_log gamma "node beta is reachable" 30
}

# hablk_rejoin NODE: a killed data node's VM back: network, module, up and hablkd.
hablk_rejoin() {
	vm_restart "$1"
	_trio_net "$1"
	hablk_load "$1"
	adm "$1" up "$RES"
	hablkd_start "$1"
}

# hablkd_start NODE...: hablkd in the foreground, logging to /shared/hablkd-NODE.log.
hablkd_start() {
	local n
	for n in "$@"; do
		# the arbiter's store lives on the host, so it survives the VM
		vm_run "$n" "mkdir -p /shared/state-$n && setsid $VM_SRC/userspace/hablkd -f -c $CFG \
			--state-dir /shared/state-$n >>/shared/hablkd-$n.log 2>&1 </dev/null &"
	done
}

# view NODE FIELD: a field of hablkd's view in NODE's status -j ("hablkd" object).
view() {
	local json
	json=$(adm "$1" status -j "$RES")
	python3 -c 'import json,sys
v=json.loads(sys.argv[1])["resources"][0]["hablkd"]; print(v[sys.argv[2]] if v else "")' "$json" "$2"
}

# wait_log NODE REGEX [SECONDS]: until hablkd's log on NODE has a line matching REGEX.
wait_log() {
	local end=$((SECONDS + ${3:-30}))
	until grep -Eq "$2" "$VM_SHARED/hablkd-$1.log" 2>/dev/null; do
		((SECONDS < end)) || fail "$1: no hablkd log line matching '$2' in ${3:-30} s"
		sleep 0.2
	done
}

# ---- the benchmark pair (scripts/bench, scripts/trace-qd1, scripts/ab-qd1) --------------------

# hablk_brd_pair KVER MEM_MIB DISK_MIB: alpha 192.0.2.1 ==== UDP link ==== 192.0.2.2 beta,
# booted with KVER and MEM_MIB each, and a brd RAM disk of DISK_MIB (/dev/ram0) on each.
hablk_brd_pair() {
	local n
	vm_link alpha eth0 beta eth0
	vm_start alpha --kver "$1" --mem "$2" --ip eth0:192.0.2.1/24 --no-wait
	vm_start beta --kver "$1" --mem "$2" --ip eth0:192.0.2.2/24 --no-wait
	vm_wait alpha beta
	for n in alpha beta; do vm "$n" modprobe brd rd_nr=1 rd_size=$(($3 * 1024)); done
}

# hablk_bench_config PROTOCOL [DISK [META [EXTRA_RESOURCE_LINES]]]: /shared/bench.res (CFG, read
# by adm) on DISK (default /dev/ram0, the brd disks) with metadata META (default internal).
hablk_bench_config() {
	local disk=${2:-/dev/ram0} md=${3:-internal}
	CFG=/shared/bench.res
	cat >"$VM_SHARED/bench.res" <<-CONF
	resource $RES {
	    minor 0
	    protocol $1
	    secret "hablk-bench-secret"
	    ping-interval 500
	    ping-timeout 1500
	    connect-interval 100
	    connect-interval-max 1000
	    ${4:-}
	    node alpha {
	        id 0
	        address 192.0.2.1:7788
	        disk $disk
	        meta-disk $md
	    }
	    node beta {
	        id 1
	        address 192.0.2.2:7788
	        disk $disk
	        meta-disk $md
	    }
	}
	CONF
}
