#!/bin/bash
# (d) The replication link cut (ip link down) while alpha writes: alpha keeps serving and its
# status says the peer is gone and out of sync; link back: beta converges and the whole device
# is identical on both nodes; fio verifies every block it wrote, on beta.
source "$(dirname "$0")/../scenario.sh"

hablk_pair_synced 128
FIO="fio --name=v --filename=$DEV --direct=1 --ioengine=libaio --bs=4k --size=48M \
	--rw=randwrite --iodepth=8 --verify=crc32c --randrepeat=1 --output-format=terse"
start=$(writes_done alpha)
bg_start alpha fio "$FIO --do_verify=0 --rate_iops=400"
wait_writes alpha $((start + 500))
vm alpha ip link set eth0 down
pass "link cut while fio writes"

wait_st alpha peer.connection connecting 20
assert_eq "$(st alpha role)" primary "alpha still primary"
assert_eq "$(st alpha peer.disk)" unknown "alpha no longer knows beta's disk"
now=$(writes_done alpha)
wait_writes alpha $((now + 200))
pass "alpha keeps serving writes while disconnected"
bg_wait fio 300 || fail "fio failed on alpha: $(cat "$VM_SHARED/fio.log")"
(($(st alpha peer.out_of_sync_kib) > 0)) || fail "alpha does not report beta out of sync"
pass "fio finished; status: $(adm alpha status | tail -n +2 | tr -s ' ')"

vm alpha ip link set eth0 up
adm alpha wait-sync "$RES" --timeout 300
adm beta wait-sync "$RES" --timeout 60
pass "link back: resynced"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "whole device identical"
adm alpha secondary "$RES"
adm beta primary "$RES"
vm_run beta "$FIO --verify_only >/shared/fio-verify.log"
pass "every block fio wrote verifies on beta"
hablk_check_logs alpha beta
pass "kernel logs clean"
