#!/bin/bash
# (e) The secondary's VM killed (kill -9 of QEMU) while alpha writes: alpha keeps serving.
# beta boots again, comes up, resyncs, and the device is identical on both nodes.
source "$(dirname "$0")/../scenario.sh"

hablk_pair_synced 128
FIO="fio --name=v --filename=$DEV --direct=1 --ioengine=libaio --bs=4k --size=48M \
	--rw=randwrite --iodepth=8 --verify=crc32c --randrepeat=1 --output-format=terse"
start=$(writes_done alpha)
bg_start alpha fio "$FIO --do_verify=0 --rate_iops=400"
wait_writes alpha $((start + 500))
vm_kill beta
pass "beta killed while alpha writes"

wait_st alpha peer.connection connecting 20
now=$(writes_done alpha)
wait_writes alpha $((now + 200))
pass "alpha keeps serving writes after beta died"
bg_wait fio 300 || fail "fio failed on alpha: $(cat "$VM_SHARED/fio.log")"
pass "fio finished on alpha"

vm_restart beta
hablk_load beta
adm beta up "$RES"
adm alpha wait-sync "$RES" --timeout 300
adm beta wait-sync "$RES" --timeout 60
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "beta resynced: whole device identical"
hablk_check_logs alpha beta
pass "kernel logs clean"
