#!/bin/bash
# hablk VM guest agent: PID 1 after switch_root.  Sets the guest up from the kernel command line,
# then runs base64-encoded scripts sent by the host (vmctl) over /dev/ttyS1.
#
# Kernel command line it reads:
#   hablk.host=NAME              hostname
#   hablk.ip=eth0:A/P,eth1:B/P   addresses; NIC ethN is the one whose MAC is 52:54:00:VV:4b:NN (NN=N)
#   hablk.src=DIR                exported to commands as HABLK_SRC (the repository on the host)
# Protocol on ttyS1 (raw; one request at a time from the host, see vmctl.c):
#   host -> guest: "HABLK ID TIMEOUT BASE64" | "HABLK ID ping" | "HABLK ID poweroff"   (one line)
#   guest -> host: "@@HABLK BEGIN ID LEN@@\n" LEN bytes of stdout+stderr "@@HABLK END ID RC@@\n"
# The serial line moves ~300 KB/s under TCG, so big payloads go through the /shared 9p share:
# BASE64 "@" = script is /shared/.hablk-agent/ID.sh; "@@HABLK BEGIN ID LEN file@@" = output is
# /shared/.hablk-agent/ID.out (the host removes it).
# Each script runs in its own background process (a hung one does not block the next request);
# its reply goes out in a single write() so replies never interleave.
# Bash (not dash) because as PID 1 it reaps orphaned background jobs.  Internal helpers use the
# static busybox: under TCG a dynamically linked tool costs ~100 ms to start, busybox ~10 ms.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb
unset LANG
umask 022
bb=/bin/busybox

log() { echo "hablk-agent: $*" >/dev/console; }

mnt() { # mnt FSTYPE DIR [OPTS]: mount unless DIR is already a mount point (initramfs moved some)
	local _dev dir _rest
	if [[ -e /proc/mounts ]]; then
		while read -r _dev dir _rest; do [[ $dir == "$2" ]] && return 0; done </proc/mounts
	fi
	$bb mkdir -p "$2"
	$bb mount -t "$1" ${3:+-o "$3"} "$1" "$2"
}
mnt proc /proc
mnt sysfs /sys
mnt devtmpfs /dev
exec </dev/null >/dev/console 2>&1
mnt devpts /dev/pts gid=5,mode=620,ptmxmode=666
mnt tmpfs /dev/shm mode=1777
mnt tmpfs /run mode=0755
mnt tmpfs /tmp mode=1777
$bb mkdir -p /run/lock /var/tmp
mnt debugfs /sys/kernel/debug || true
$bb ln -sfn /proc/self/fd /dev/fd

read -r cmdline </proc/cmdline
arg() { local a; for a in $cmdline; do [[ $a == "$1="* ]] && { echo "${a#"$1"=}"; return; }; done; }
host=$(arg hablk.host)
export HABLK_SRC
HABLK_SRC=$(arg hablk.src)
# a repository under /tmp or /run (a CI clone) is hidden by the guest's tmpfs: bind it back
if [[ -n $HABLK_SRC && ! -d $HABLK_SRC && -d /.host$HABLK_SRC ]]; then
	$bb mkdir -p "$HABLK_SRC" && $bb mount --bind "/.host$HABLK_SRC" "$HABLK_SRC"
fi
[[ -n $host ]] && echo "$host" >/proc/sys/kernel/hostname

# virtio_net/virtio_blk are modules on Debian kernels (kmod's modprobe reads .ko.xz too).
modprobe -q -a virtio_net virtio_blk configfs || log "modprobe failed"
mnt configfs /sys/kernel/config || true

# NICs: rename to ethN from the MAC the host gave them (probe order does not matter).
$bb ip link set lo up
for dev in /sys/class/net/*; do
	read -r mac <"$dev/address"
	[[ $mac =~ ^52:54:00:..:4b:(..)$ ]] && $bb ip link set "${dev##*/}" name "hablk${BASH_REMATCH[1]}"
done
for dev in /sys/class/net/hablk*; do
	[[ -e $dev ]] && $bb ip link set "${dev##*/}" name "eth$((16#${dev##*/hablk}))"
done
ips=$(arg hablk.ip)
for spec in ${ips//,/ }; do
	$bb ip addr add "${spec#*:}" dev "${spec%%:*}" || log "cannot set $spec"
	$bb ip link set "${spec%%:*}" up
done
for spec in ${ips//,/ }; do # operstate follows "up" a little later (linkwatch): wait <= 2 s
	for ((i = 0; i < 100; i++)); do
		read -r state <"/sys/class/net/${spec%%:*}/operstate" && [[ $state == up ]] && break
		$bb usleep 20000
	done
done

# Writable results share from the host.
$bb mkdir -p /shared
$bb mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 shared /shared ||
	log "cannot mount /shared"
big=/shared/.hablk-agent
$bb mkdir -p "$big" || big=''

# Control channel: kept open for good (closing the last fd would shut the UART down).
tty=/dev/ttyS1
exec 3<>"$tty"
$bb stty -F "$tty" raw -echo -echoe -echok -echoctl -echoke -ixon -ixoff -crtscts clocal
spool=/run/hablk-agent
$bb mkdir -p "$spool"

run() { # run ID TIMEOUT BASE64: run the script, then reply in one write()
	local s=$spool/$1 rc=0 len first='' file=''
	if [[ $3 == @ ]]; then
		$bb mv "$big/$1.sh" "$s.sh" 2>"$s.out" || rc=254
	elif ! printf '%s' "$3" | $bb base64 -d >"$s.sh" 2>"$s.out"; then
		rc=254
	fi
	if ((rc == 0)); then
		local interp=(/bin/sh) # absolute: busybox would run its own "sh" applet
		read -r -N 2 first <"$s.sh"
		[[ $first == '#!' ]] && { $bb chmod +x "$s.sh"; interp=(); }
		# Own session and process group (setsid does not fork here: we are no group leader),
		# so a watchdog can kill the script and everything it started once TIMEOUT is over.
		(cd / && exec "$bb" setsid "${interp[@]}" "$s.sh") </dev/null >"$s.out" 2>&1 3>&- &
		local pid=$! wd=''
		if (($2)); then
			# shellcheck disable=SC2016 # (dash's kill: no "--"; "-KILL -PGID" kills the group)
			"$bb" setsid /bin/sh -c 'sleep "$1"; kill -KILL -"$2"' - "$2" "$pid" </dev/null >/dev/null 2>&1 3>&- &
			wd=$!
		fi
		wait "$pid" || rc=$?
		[[ -z $wd ]] || kill -- "-$wd" 2>/dev/null
	fi
	# Background jobs may still append to $s.out: send exactly the LEN bytes announced.
	len=$($bb stat -c %s "$s.out")
	if ((len > 8192)) && [[ -n $big ]] && $bb cp "$s.out" "$big/$1.out" &&
		$bb truncate -s "$len" "$big/$1.out"; then
		file=' file'
	fi
	{
		printf '@@HABLK BEGIN %s %s%s@@\n' "$1" "$len" "$file"
		[[ -n $file ]] || $bb head -c "$len" "$s.out"
		printf '@@HABLK END %s %s@@\n' "$1" "$rc"
	} >"$s.reply"
	$bb dd if="$s.reply" bs=16M count=1 2>/dev/null >&3
	$bb rm -f "$s.sh" "$s.out" "$s.reply"
}

log "ready on $tty (host ${host:-?}, kernel $(</proc/sys/kernel/osrelease))"
while :; do
	IFS=' ' read -r magic id tmo b64 <&3 || { $bb usleep 100000; continue; }
	[[ $magic == HABLK && $id =~ ^[A-Za-z0-9_.-]+$ ]] || continue
	case $tmo in
	ping) printf '@@HABLK BEGIN %s 0@@\n@@HABLK END %s 0@@\n' "$id" "$id" >&3 ;;
	poweroff)
		$bb sync
		$bb umount /shared
		printf '@@HABLK BEGIN %s 0@@\n@@HABLK END %s 0@@\n' "$id" "$id" >&3
		log "poweroff"
		$bb poweroff -f
		;;
	*) [[ $tmo =~ ^[0-9]+$ ]] && run "$id" "$tmo" "$b64" & ;;
	esac
done
