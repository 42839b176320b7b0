#!/bin/bash
# on-io-error detach: alpha's backing disk (a device-mapper target over /dev/vdb) starts
# failing every I/O while fio writes; alpha detaches it, reports diskless, and keeps
# serving through beta: fio finishes without an error and then verifies every block it
# wrote, reading through the peer; the device reads the same on both nodes.
# shellcheck disable=SC2016 # guest scripts are single-quoted on purpose
source "$(dirname "$0")/../scenario.sh"

hablk_boot 128
sed -i '0,/disk \/dev\/vdb/s||disk /dev/mapper/hb|' "$VM_SHARED/r0.res"   # alpha's disk only
vm_run alpha '
	set -e
	modprobe dm-mod
	# no udev in the VMs: no udev sync, and the /dev/mapper node made by hand
	dmsetup create --noudevsync hb --table "0 $(blockdev --getsz /dev/vdb) linear /dev/vdb 0"
	dmsetup mknodes hb
	test -b /dev/mapper/hb' 2>&1
hablk_pair_up 120

FIO="fio --name=v --filename=$DEV --direct=1 --ioengine=libaio --bs=4k --size=32M \
	--rw=randwrite --iodepth=8 --verify=crc32c --randrepeat=1 --output-format=terse"
start=$(writes_done alpha)
bg_start alpha fio "$FIO --do_verify=0 --rate_iops=300"
wait_writes alpha $((start + 300))
vm_run alpha '
	set -e
	dmsetup suspend --noudevsync --noflush hb
	dmsetup load hb --table "0 $(blockdev --getsz /dev/vdb) error"
	dmsetup resume --noudevsync hb'
pass "alpha's disk fails every I/O from now on"

wait_st alpha disk diskless 30
assert_eq "$(st beta peer.disk)" diskless "beta sees alpha diskless"
assert_eq "$(st alpha role)" primary "alpha is still primary"
bg_wait fio 300 || fail "fio saw an error on alpha: $(cat "$VM_SHARED/fio.log")"
pass "alpha detached its disk and fio finished without an error"
vm_run alpha "$FIO --verify_only >/shared/fio-verify.log"
pass "every block fio wrote verifies on alpha, read through beta"
assert_eq "$(dev_sum alpha)" "$(dev_sum beta)" "the device reads the same on both nodes"
vm_console alpha | grep -q 'detached, serving through the peer' || fail "no detach message"
VM_LOG_ALLOW='Buffer I/O error|I/O error, dev|blk_update_request|critical target error|dm-0'
export VM_LOG_ALLOW
