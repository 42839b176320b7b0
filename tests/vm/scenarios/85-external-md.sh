#!/bin/bash
# External metadata (meta-disk /dev/vdc): all of /dev/vdb is exported; a full sync, a link
# outage resynced through the bitmap kept on /dev/vdc, fio verified after a switch-over;
# create-md refuses to overwrite the metadata device without --force.
source "$(dirname "$0")/../scenario.sh"

hablk_boot 128 8
sed -i 's|meta-disk internal|meta-disk /dev/vdc|' "$VM_SHARED/r0.res"
hablk_up alpha beta
if adm alpha create-md "$RES" 2>/dev/null; then fail "create-md overwrote metadata in use"; fi
adm alpha wait-connect "$RES" --timeout 60
assert_eq "$(st alpha size_kib)" 131072 "all 128 MiB of the data disk are exported"
adm alpha primary "$RES" --force
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
pass "full sync with metadata on /dev/vdc"

vm alpha ip link set eth0 down
wait_st alpha peer.connection connecting 20
vm_run alpha "dd if=/dev/urandom of=$DEV bs=1M count=4 seek=100 oflag=direct status=none"
assert_eq "$(st alpha peer.out_of_sync_kib)" 4096 "4 MiB out of sync"
vm alpha ip link set eth0 up
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
pass "bitmap resync after a link outage"

FIO="fio --name=v --filename=$DEV --direct=1 --ioengine=libaio --bs=4k --size=32M \
	--rw=randwrite --iodepth=8 --verify=crc32c --randrepeat=1 --output-format=terse"
vm_run alpha "$FIO --do_verify=0 >/shared/fio.log"
adm alpha secondary "$RES"
adm beta primary "$RES"
vm_run beta "$FIO --verify_only >/shared/fio-verify.log"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "whole device identical"
pass "fio verifies every block on beta; devices identical"
adm beta secondary "$RES"
adm alpha down "$RES"
adm alpha up "$RES"
adm alpha wait-connect "$RES" --timeout 60
assert_eq "$(st alpha disk)" uptodate "alpha comes back up to date from its external metadata"
