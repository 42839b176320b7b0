#!/bin/bash
# data-integrity yes: every data packet carries a CRC-32 of its payload. With beta's fault
# injection flipping a bit in every 20th packet it receives, beta refuses those, alpha sends
# them again, fio finishes without an error, and both devices are identical.
source "$(dirname "$0")/../scenario.sh"

hablk_boot 128
hablk_config "data-integrity yes"
hablk_pair_up 120

vm beta sh -c 'echo 20 >/sys/module/hablk/parameters/fault_corrupt_rx'
FIO="fio --name=v --filename=$DEV --direct=1 --ioengine=libaio --bs=4k --size=16M \
	--rw=randwrite --iodepth=8 --verify=crc32c --randrepeat=1 --output-format=terse"
vm_run alpha "$FIO --do_verify=0 >/shared/fio.log"
vm beta sh -c 'echo 0 >/sys/module/hablk/parameters/fault_corrupt_rx'
bad=$(vm_console beta | grep -c 'data-integrity: checksum mismatch' || true)
resent=$(vm_console alpha | grep -c 'data-integrity: peer got sector' || true)
((bad > 0)) || fail "beta saw no checksum mismatch"
((resent > 0)) || fail "alpha resent nothing"
pass "beta refused $bad corrupted packets (log lines, rate-limited), alpha resent $resent"
assert_eq "$(st alpha peer.connection)" connected "still connected"
assert_eq "$(st alpha peer.out_of_sync_kib)" 0 "nothing out of sync: every write arrived intact"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "whole device identical"
adm alpha secondary "$RES"
adm beta primary "$RES"
vm_run beta "$FIO --verify_only >/shared/fio-verify.log"
pass "fio verifies every block on beta"
