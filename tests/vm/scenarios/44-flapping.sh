#!/bin/bash
# A flapping link causes no failover ping-pong (hablkd on alpha, beta and the arbiter gamma,
# auto-promote on): for a minute alpha's replication link, then all its links, go down and
# up every second while alpha writes. Beta is never promoted, alpha stays primary, every
# write completes, and in the end the devices are identical.
source "$(dirname "$0")/../scenario.sh"

hablk_trio_synced 128 "auto-promote yes"

bg_start alpha writes "for i in \$(seq 1 400); do
	dd if=/dev/urandom of=$DEV bs=64k count=1 seek=\$((i % 1000)) oflag=direct status=none || exit 1
done"
# 30 s of the replication link flapping, then 30 s of all of alpha's links
vm_run alpha --timeout 120 "for i in \$(seq 1 15); do
	ip link set eth0 down; sleep 1; ip link set eth0 up; sleep 1
done
for i in \$(seq 1 15); do
	ip link set eth0 down; ip link set eth1 down; ip link set eth2 down; sleep 1
	ip link set eth0 up; ip link set eth1 up; ip link set eth2 up; sleep 1
done"
pass "alpha's links flapped every second for a minute"
bg_wait writes 300 || fail "a write on alpha failed while the links flapped"
adm beta wait-sync "$RES" --timeout 120
adm alpha wait-sync "$RES" --timeout 60
assert_eq "$(st alpha role)" primary "alpha stayed primary"
assert_eq "$(st beta role)" secondary "beta stayed secondary"
! grep -q "promoting" "$VM_SHARED/hablkd-beta.log" || fail "beta tried to promote itself"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "whole device identical"
pass "no failover, no divergence: every write completed"
hablk_check_logs alpha beta
pass "kernel logs clean"
