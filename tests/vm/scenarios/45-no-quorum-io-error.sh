#!/bin/bash
# on-no-quorum io-error (hablkd on the pair, no arbiter): the link cut, alpha has no quorum
# (two nodes need both) and fails writes at once instead of freezing; beta stays secondary;
# the link back, alpha writes again and beta resyncs.
source "$(dirname "$0")/../scenario.sh"

hablk_boot 128
hablk_config "on-no-quorum io-error
    auto-promote yes"
hablk_pair_up
hablkd_start alpha beta
wait_st alpha managed True 30

vm alpha ip link set eth0 down
wait_st alpha quorum False 30
assert_eq "$(st alpha suspended)" False "io-error does not freeze"
if out=$(vm_run alpha "dd if=/dev/urandom of=$DEV bs=4k count=1 seek=100 oflag=direct status=none" 2>&1); then
	fail "alpha completed a write without quorum"
fi
[[ $out == *"Input/output error"* ]] || fail "alpha's write without quorum: '$out'"
assert_eq "$(st beta role)" secondary "beta, without quorum, stayed secondary"
pass "no quorum: alpha fails writes at once ($out)"

vm alpha ip link set eth0 up
adm beta wait-sync "$RES" --timeout 120
wait_st alpha quorum True 30
vm_run alpha "dd if=/dev/urandom of=$DEV bs=4k count=1 seek=100 oflag=direct status=none"
adm beta wait-sync "$RES" --timeout 60
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "whole device identical"
pass "quorum back: alpha writes again"
hablk_check_logs alpha beta
pass "kernel logs clean"
