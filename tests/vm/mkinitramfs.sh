#!/bin/bash
# Builds a tiny busybox initramfs for Debian kernel KVER that mounts the host's / over 9p
# (read-only, tmpfs overlay) and switch_roots into the guest agent.  Cached by KVER + this script.
#
# usage: mkinitramfs.sh KVER OUT.cpio.gz
#   cache dir: $HABLK_VM_CACHE (default /var/tmp/hablk-vm-cache)
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 KVER OUT.cpio.gz" >&2; exit 2; }
kver=$1 out=$2
moddir=/lib/modules/$kver
busybox=/bin/busybox  # from busybox-static
[[ -d $moddir ]] || { echo "mkinitramfs: $moddir missing (kernel $kver not installed?)" >&2; exit 1; }
[[ -f /boot/vmlinuz-$kver ]] || { echo "mkinitramfs: /boot/vmlinuz-$kver missing" >&2; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then
	echo "mkinitramfs: $busybox is dynamically linked (install busybox-static)" >&2; exit 1
fi

# Modules needed to mount the host root, in the order they are wanted; dependencies are added first.
wanted=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	netfs fscache 9pnet 9pnet_virtio 9p overlay)

cache=${HABLK_VM_CACHE:-/var/tmp/hablk-vm-cache}
key=$( { sha256sum <"${BASH_SOURCE[0]}"; echo "$kver"; stat -L -c '%s %Y' "/boot/vmlinuz-$kver" "$moddir/modules.dep" "$busybox"; } | sha256sum | cut -c1-16)
cached=$cache/initramfs-$kver-$key.cpio.gz
if [[ -s $cached ]]; then
	[[ $cached -ef $out ]] || cp "$cached" "$out"
	exit 0
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/hablk-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,lower,upper,newroot,mods}
cp "$busybox" "$stage/bin/busybox"
mknod -m 600 "$stage/dev/console" c 5 1
mknod -m 666 "$stage/dev/null" c 1 3

builtin() { grep -qE "/$1\.ko\$" "$moddir/modules.builtin" 2>/dev/null || grep -qE "/${1//_/-}\.ko\$" "$moddir/modules.builtin" 2>/dev/null; }
declare -A seen=()
n=0
add_module() {
	local name=$1 path dep
	[[ -z ${seen[$name]:-} ]] || return 0
	seen[$name]=1
	if builtin "$name"; then return 0; fi
	if ! path=$(modinfo -k "$kver" -n "$name" 2>/dev/null); then
		echo "mkinitramfs: $kver has no module $name (merged elsewhere?), skipped" >&2
		return 0
	fi
	[[ $path == /* ]] || return 0  # "(builtin)"
	for dep in $(modinfo -k "$kver" -F depends "$name" | tr , ' '); do
		add_module "$dep"
	done
	local dst
	dst=$stage/mods/$(printf '%02d' "$n")-$name.ko
	n=$((n + 1))
	case $path in
	*.ko.xz) xz -dc "$path" >"$dst" ;;
	*.ko.zst) zstd -qdc "$path" >"$dst" ;;
	*.ko.gz) gzip -dc "$path" >"$dst" ;;
	*) cp "$path" "$dst" ;;
	esac
}
for m in "${wanted[@]}"; do add_module "$m"; done

cat >"$stage/init" <<'EOF'
#!/bin/busybox sh
# hablk initramfs /init: mount host / (9p, ro) + tmpfs overlay, switch_root to hablk.init=PATH.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
die() { echo "hablk-initramfs: FAILED: $*" >/dev/console; poweroff -f; sleep 5; exit 1; }
for m in /mods/*.ko; do
	[ -e "$m" ] || continue
	insmod "$m" || die "insmod $m"
done
init=/bin/sh
for arg in $(cat /proc/cmdline); do
	case $arg in hablk.init=*) init=${arg#hablk.init=} ;; esac
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower ||
	die "mount 9p hostroot"
mount -t tmpfs -o mode=0755 tmpfs /upper || die "mount tmpfs"
mkdir -p /upper/upper /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/upper,workdir=/upper/work overlay /newroot ||
	die "mount overlay"
[ -x "/newroot$init" ] || die "init $init not found/executable in host root"
# keep the plain host root reachable (/.host): the guest mounts tmpfs over /tmp and /run
mkdir -p /newroot/.host && mount --move /lower /newroot/.host || die "move /lower"
for fs in dev proc sys; do mount --move /$fs /newroot/$fs || die "move /$fs"; done
exec switch_root /newroot "$init"
EOF
chmod 755 "$stage/init"

mkdir -p "$cache"
tmp=$(mktemp "$cache/.initramfs.XXXXXX")
(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet | gzip -1) >"$tmp"
chmod 644 "$tmp"
mv -f "$tmp" "$cached"
[[ $cached -ef $out ]] || cp "$cached" "$out"
