#!/bin/bash
# The other after-sb policies, one split-brain each, beta the expected loser every time:
# discard-zero-changes (beta promoted while apart but wrote nothing), discard-younger-primary
# (beta promoted after alpha), discard-secondary (beta is secondary when they meet).
source "$(dirname "$0")/../scenario.sh"

hablk_boot 64
first=1 round=0
for policy in discard-zero-changes discard-younger-primary discard-secondary; do
	hablk_config "after-sb $policy
	    split-brain-save /shared/sb-$policy"
	if ((first)); then
		hablk_up alpha beta
		adm alpha wait-connect "$RES" --timeout 60
		adm alpha primary "$RES" --force
		first=0
	else
		adm alpha down "$RES" && adm beta down "$RES"
		adm alpha up "$RES" && adm beta up "$RES"
		adm alpha wait-connect "$RES" --timeout 60
		adm alpha primary "$RES"
	fi
	adm alpha wait-sync "$RES" --timeout 120
	adm beta wait-sync "$RES" --timeout 60

	adm alpha disconnect "$RES"
	adm beta disconnect "$RES"
	vm_run alpha "dd if=/dev/urandom of=$DEV bs=1M count=2 seek=5 oflag=direct status=none"
	adm beta primary "$RES"		# promoted after alpha: the younger primary
	if [[ $policy != discard-zero-changes ]]; then
		vm_run beta "dd if=/dev/urandom of=$DEV bs=1M count=3 seek=20 oflag=direct status=none"
	fi
	adm beta secondary "$RES"
	adm alpha connect "$RES"
	adm beta connect "$RES"
	adm alpha wait-sync "$RES" --timeout 120
	adm beta wait-sync "$RES" --timeout 60
	assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "$policy: beta resynced from alpha"
	round=$((round + 1))
	lost=$(vm_console beta | grep -c "split-brain resolved by after-sb: this node's" || true)
	assert_eq "$lost" "$round" "$policy: beta lost this split-brain too"
	adm alpha secondary "$RES"
	pass "$policy resolved the split-brain; beta lost"
done
