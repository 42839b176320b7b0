#!/bin/bash
# (a) A fresh pair: create-md, up, primary --force, full sync; fio writes blocks with verify
# headers on alpha; roles switch; fio verifies every block on beta; both disks are identical.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../hablk.sh"
vm_setup

hablk_boot 256
hablk_up alpha beta
adm alpha wait-connect "$RES" --timeout 60
assert_eq "$(st alpha disk)" inconsistent "fresh metadata is inconsistent"
assert_eq "$(st alpha peer.connection)" connected "alpha sees beta"
if adm beta primary "$RES" 2>/dev/null; then fail "primary without --force on inconsistent data"; fi
pass "primary refused on inconsistent data without --force"

adm alpha primary "$RES" --force
adm alpha wait-sync "$RES" --timeout 300
adm beta wait-sync "$RES" --timeout 60
assert_eq "$(st alpha role)" primary "alpha is primary"
assert_eq "$(st beta disk)" uptodate "beta is uptodate after the sync"
assert_eq "$(st beta peer.role)" primary "beta sees alpha as primary"
pass "initial full sync done"

FIO="fio --name=v --filename=$DEV --direct=1 --ioengine=libaio --bs=4k --size=64M \
	--rw=randwrite --iodepth=16 --verify=crc32c --randrepeat=1 --output-format=terse"
vm_run alpha "$FIO --do_verify=0 >/shared/fio-write.log"
pass "fio wrote 64 MiB with verify headers on alpha"

# A secondary refuses to be opened for writing.
if vm beta dd if=/dev/zero of=$DEV bs=4k count=1 oflag=direct status=none 2>/dev/null; then
	fail "secondary accepted a write open"
fi
pass "secondary refuses opens for writing"

adm alpha secondary "$RES"
adm beta primary "$RES"
assert_eq "$(st beta role)" primary "beta is primary"
assert_eq "$(st alpha peer.role)" primary "alpha sees beta as primary"
vm_run beta "$FIO --verify_only >/shared/fio-verify.log"
pass "fio verified every block on beta"

assert_eq "$(dev_sum alpha)" "$(dev_sum beta)" "whole device identical on both nodes"
vm_check_log alpha
vm_check_log beta
pass "kernel logs clean"
