#!/bin/bash
# Online grow: both virtio disks grow from 128 to 192 MiB under a running, primary device
# holding data; resize on each node moves the metadata to the new end; the device grows on
# both, the new area is synced from the primary, old data is intact, the whole device is
# identical, and the metadata is found at its new place after down/up.
source "$(dirname "$0")/../scenario.sh"

hablk_pair_synced 128
old=$(st alpha size_kib)
vm_run alpha "
	set -e
	head -c 16777216 /dev/urandom >/tmp/p
	dd if=/tmp/p of=$DEV bs=1M oflag=direct status=none
	md5sum </tmp/p | cut -d' ' -f1 >/shared/p.md5"
if adm alpha resize "$RES" 2>/dev/null; then fail "resize accepted though the disk did not grow"; fi

for n in alpha beta; do
	vm_monitor $n "block_resize vdb 192M"
	end=$((SECONDS + 30))
	until [[ $(vm $n cat /sys/block/vdb/size) == 393216 ]]; do
		((SECONDS < end)) || fail "$n: /dev/vdb did not grow"
		sleep 0.2
	done
done
pass "both backing disks grew to 192 MiB"

adm beta resize "$RES"
assert_eq "$(st alpha size_kib)" "$old" "one node grown: the device keeps its size"
adm alpha resize "$RES"
(($(st alpha size_kib) > old + 60000)) || fail "alpha did not grow: $(st alpha size_kib) KiB"
assert_eq "$(st beta size_kib)" "$(st alpha size_kib)" "both nodes export the new size"
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
assert_eq "$(vm_run alpha "head -c 16777216 $DEV | md5sum | cut -d' ' -f1")" "$(cat "$VM_SHARED/p.md5")" "old data intact"
vm_run alpha "dd if=/dev/urandom of=$DEV bs=1M count=4 seek=180 oflag=direct status=none"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "whole grown device identical"
pass "grown online from $old KiB to $(st alpha size_kib) KiB; new area synced"

adm alpha secondary "$RES"
adm alpha down "$RES"
adm alpha up "$RES"
adm alpha wait-connect "$RES" --timeout 60
assert_eq "$(st alpha size_kib)" "$(st beta size_kib)" "metadata found at the new end after down/up"
adm alpha wait-sync "$RES" --timeout 60
assert_eq "$(st alpha disk)" uptodate "alpha up to date after down/up"
