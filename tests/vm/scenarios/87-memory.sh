#!/bin/bash
# Memory per GiB, checked against docs/performance.md ("Memory"): one node, a 1 TiB (sparse)
# disk. `up` takes the bitmap (1 bit per granule: 32 KiB per GiB at 4 KiB, 2 KiB per GiB at
# 64 KiB) plus 3 KiB per GiB of per-extent state; `down` gives it all back. Measured as the
# drop of free memory (MemFree plus the pages on the per-CPU free lists, with the page cache
# dropped first) across `up` and `down`.
source "$(dirname "$0")/../scenario.sh"

gib=1024
vm_start alpha --disk $((gib * 1024))
hablk_config
hablk_load alpha

# memfree: free KiB, after the page cache is dropped (the metadata reads fill it). Pages freed
# go to the per-CPU lists first (tens of MiB on one CPU), which MemFree does not count.
memfree() {
	# shellcheck disable=SC2016 # expanded by the guest
	vm_run alpha 'sync; echo 3 >/proc/sys/vm/drop_caches
		awk "/^MemFree:/ { f = \$2 } /^ +count:/ { p += \$2 } END { print f + p * 4 }" \
			/proc/meminfo /proc/zoneinfo'
}

# KiB per GiB of device for each granularity: the bitmap, and the per-extent state (a 4-byte
# busy counter and the 8-byte flush epoch of the peer's last ack per 4 MiB extent = 3 KiB
# per GiB). The kernel's own per-resource state (threads, sockets: a few
# hundred KiB) and the free-page lists' slack come on top: 3 MiB allowed for them.
for g in 4:32 64:2; do
	gran=${g%%:*} per_gib=$((${g#*:} + 3))
	expect=$((per_gib * gib))
	adm alpha create-md "$RES" --force --bitmap-granularity "${gran}K" >/dev/null
	before=$(memfree)
	adm alpha up "$RES"
	assert_eq "$(st alpha bitmap_granularity_kib)" "$gran" "bitmap granularity"
	used=$((before - $(memfree)))
	vm_note "up, ${gran} KiB granules, $gib GiB: $used KiB taken, $expect KiB expected"
	((used >= expect - 512 && used <= expect + 3072)) ||
		fail "up took $used KiB for $gib GiB at ${gran} KiB granules, expected $expect KiB (+3 MiB)"
	pass "${gran} KiB granules: $((used / gib)) KiB per GiB (docs: ${per_gib} KiB)"
	adm alpha down "$RES"
	left=$((before - $(memfree)))
	((left < 1024)) || fail "down left $left KiB of the $used KiB that up took"
	pass "down gave back what up took ($left KiB difference)"
done
hablk_check_logs alpha
pass "kernel log clean"
