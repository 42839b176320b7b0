#!/bin/bash
# Bitmap resync: with the link down alpha writes 16 MiB in four places; the status counts
# exactly those blocks out of sync; link back, only they cross the link (interface counters:
# close to 16 MiB, not the 256 MiB device), and the devices are identical.
source "$(dirname "$0")/../scenario.sh"

hablk_pair_synced 256
vm alpha ip link set eth0 down
wait_st alpha peer.connection connecting 20
vm_run alpha "
	set -e
	for off in 10 50 120 200; do
		dd if=/dev/urandom of=$DEV bs=1M count=4 seek=\$off oflag=direct status=none
	done"
assert_eq "$(st alpha peer.out_of_sync_kib)" 16384 "alpha counts 16 MiB out of sync"
pass "16 MiB written while disconnected"

tx() { vm alpha cat /sys/class/net/eth0/statistics/tx_bytes; }
before=$(tx)
vm alpha ip link set eth0 up
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
moved=$(($(tx) - before))
assert_eq "$(st alpha peer.out_of_sync_kib)" 0 "nothing out of sync"
ratio=$(python3 -c "print(f'{$moved / (16 << 20):.2f}')")
vm_note "resync moved $moved bytes for 16 MiB out of sync: ${ratio}x"
((moved > 16 << 20)) || fail "only $moved bytes crossed the link"
((moved < 24 << 20)) || fail "$moved bytes crossed the link for 16 MiB out of sync (${ratio}x)"
pass "resync moved ${ratio}x the 16 MiB out of sync"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "whole device identical"
