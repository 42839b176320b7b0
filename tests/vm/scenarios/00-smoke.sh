#!/bin/bash
# Smoke test of the VM harness itself: two VMs on a UDP link; hostname, ping, disk I/O, link
# down/up, iperf3, control-channel robustness, crash + restart with persistent disks, poweroff.
# shellcheck disable=SC2016 # guest scripts are single-quoted on purpose
source "$(dirname "$0")/../scenario.sh"

vm_link alpha eth0 beta eth0
vm_start alpha --ip eth0:192.0.2.1/24 --disk 64 --no-wait
vm_start beta --ip eth0:192.0.2.2/24 --disk 64 --no-wait
vm_wait alpha beta
pass "alpha and beta booted ($(vm alpha uname -r))"

assert_eq "$(vm alpha uname -n)" alpha "alpha's hostname"
assert_eq "$(vm beta uname -n)" beta "beta's hostname"

# Network: the first ping may wait for the link to come up (-w: overall deadline).
vm alpha ping -c 1 -w 10 192.0.2.2 >/dev/null
vm beta ping -c 3 -i 0.2 -W 2 192.0.2.1 >/dev/null
pass "alpha and beta ping each other"

vm alpha ip link set eth0 down
if vm alpha ping -c 1 -W 2 192.0.2.2 >/dev/null 2>&1; then fail "ping works with alpha's eth0 down"; fi
pass "no ping with alpha's eth0 down"
vm alpha ip link set eth0 up
vm alpha ping -c 1 -w 10 192.0.2.2 >/dev/null
pass "ping back after eth0 up"

# Disk: /dev/vdb is the first --disk, backed by the host file vm_disk alpha vdb.
assert_eq "$(vm alpha cat /sys/block/vdb/serial)" vdb "alpha's /dev/vdb is its first --disk"
sum=$(vm_run alpha '
	set -e
	head -c 1048576 /dev/urandom >/tmp/pattern
	dd if=/tmp/pattern of=/dev/vdb bs=1M oflag=direct status=none
	echo 3 >/proc/sys/vm/drop_caches
	dd if=/dev/vdb bs=1M count=1 iflag=direct status=none | cmp - /tmp/pattern
	md5sum </tmp/pattern')
assert_eq "$(head -c 1048576 "$(vm_disk alpha vdb)" | md5sum)" "$sum" "pattern written to alpha's vdb reads back (guest and host)"

# iperf3 across the link (server one-shot, in the background).
vm_run beta '
	iperf3 -s -1 -D --logfile /shared/iperf3-server.log
	for i in $(seq 100); do ss -Hltn "sport = :5201" | grep -q . && exit 0; sleep 0.1; done
	exit 1'
bw=$(vm alpha iperf3 -c 192.0.2.2 -t 3 -f m | awk '/receiver/ { print $(NF-2), $(NF-1) }')
[[ -n $bw ]] || fail "iperf3 reported nothing"
pass "iperf3 alpha -> beta: $bw"

# Control channel: exit codes, stderr, large output, many commands, background jobs.
assert_eq "$(vm_run alpha 'echo out; echo err >&2; exit 7' 2>&1 || echo "rc=$?")" "out
err
rc=7" "exit code and stderr come back"
assert_eq "$(vm alpha sh -c 'echo "$1"' - "it's a 'quoted' \$arg")" "it's a 'quoted' \$arg" "vm passes arguments verbatim"
assert_eq "$(vm_run alpha 'head -c 3000000 /dev/zero | tr "\0" x' | wc -c)" 3000000 "3 MB of output"
for i in $(seq 20); do out+=$(vm beta echo "$i"); done
assert_eq "$out" "$(seq 20 | tr -d '\n')" "20 commands in a row"
SECONDS=0
vm alpha sh -c 'sleep 60 & sleep 60 >/dev/null 2>&1 </dev/null &'
((SECONDS < 10)) || fail "background jobs held the command for $SECONDS s"
pass "background jobs do not hold the command"
if vm_run alpha --timeout 2 'sleep 30' 2>/dev/null; then fail "timeout not reported"; else rc=$?; fi
assert_eq "$rc" 255 "a command over its --timeout returns 255"
vm_run alpha '#!/bin/bash
[[ -n $BASH_VERSION ]]'
pass "a #! line selects the interpreter"

# Crash and restart: the disk keeps what was written, the link works again.
vm_kill alpha
if vm alpha true 2>/dev/null; then fail "alpha still answers after vm_kill"; fi
vm_restart alpha
assert_eq "$(vm alpha sh -c 'head -c 1048576 /dev/vdb | md5sum')" "$sum" "alpha's vdb survives kill + restart"
vm alpha ping -c 1 -w 10 192.0.2.2 >/dev/null
pass "link works after alpha's restart"

vm_stop beta
if vm beta true 2>/dev/null; then fail "beta still answers after vm_stop"; fi
pass "beta powered off"

vm_check_log alpha
vm_check_log beta
pass "kernel logs clean"
