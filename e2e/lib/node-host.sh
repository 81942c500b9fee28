# shellcheck shell=bash
# shellcheck disable=SC2154 # state, bridge, node_ip, pod_subnet, sock: set by e2e/local/node.sh
# What e2e/local/node.sh changes on the host, and how it puts it back: sysctls, the bridge, a
# FORWARD chain, iptables chains and ipsets the node's programs make, mounts, cgroups and
# the fixed paths that kubelet, containerd and the CNI plugins use whatever their
# configuration.
# Sourced by e2e/local/node.sh, which defines state, bridge, node_ip, pod_subnet, sock, ctr_, log.

# Set by kubelet (protectKernelDefaults: false) or by this script; saved before, put back.
node_sysctls=(kernel/panic kernel/panic_on_oops vm/overcommit_memory
  net/bridge/bridge-nf-call-iptables net/bridge/bridge-nf-call-ip6tables
  net/ipv4/conf/all/route_localnet net/ipv4/ip_forward)
# Paths fixed in the programs: removed on teardown when they were not there before.
node_fixed_paths=(/var/lib/kubelet /var/log/containers /var/log/pods /var/lib/cni
  /run/containerd /etc/cni /opt/cni)
node_chain=MICROSHOP-NODE

host_up() {
  local saved="$state/host.saved" p
  {
    for p in "${node_sysctls[@]}"; do
      [ ! -e "/proc/sys/$p" ] || echo "sysctl $p $(cat "/proc/sys/$p")"
    done
    for p in "${node_fixed_paths[@]}"; do [ -e "$p" ] || echo "absent $p"; done
    for p in /sys/fs/cgroup/*/; do [ -e "$p/kubepods" ] || echo "absent ${p}kubepods"; done
  } >"$saved.part"
  mv "$saved.part" "$saved"
  iptables-save 2>/dev/null | sed -e 's/\[[0-9]*:[0-9]*\]//' -e '/^#/d' >"$state/iptables.before"
  ip6tables-save 2>/dev/null | sed -e 's/\[[0-9]*:[0-9]*\]//' -e '/^#/d' >"$state/ip6tables.before"
  ipsets >"$state/ipsets.before"

  ip link add "$bridge" type bridge
  echo 1 >"/proc/sys/net/ipv6/conf/$bridge/disable_ipv6"
  ip addr add "$node_ip/${pod_subnet#*/}" dev "$bridge"
  ip link set "$bridge" up
  # Forwarding for packets that arrive on the bridge only (pod to Service to pod), not
  # for the machine's other interfaces; bridged pod traffic through iptables so that
  # kube-proxy's DNAT is undone on the way back.
  echo 1 >"/proc/sys/net/ipv4/conf/$bridge/forwarding"
  echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
  iptables -N "$node_chain"
  iptables -A "$node_chain" -i "$bridge" -o "$bridge" -j ACCEPT
  iptables -A "$node_chain" -i "$bridge" -j DROP
  iptables -A "$node_chain" -o "$bridge" -j DROP
  iptables -I FORWARD 1 -j "$node_chain"
  # kube-router keeps its own jump first in filter's FORWARD and ACCEPTs there whatever a
  # policy allows (a pod without policies: everything), before the chain above could drop
  # it: the guard that keeps pod traffic on the bridge is also in mangle's FORWARD, which
  # every forwarded packet passes before filter's.
  iptables -t mangle -N "$node_chain"
  iptables -t mangle -A "$node_chain" -i "$bridge" ! -o "$bridge" -j DROP
  iptables -t mangle -A "$node_chain" -o "$bridge" ! -i "$bridge" -j DROP
  iptables -t mangle -I FORWARD 1 -j "$node_chain"
}

# The host's ipsets by name (none when ipset is not installed yet).
ipsets() {
  if command -v ipset >/dev/null; then ipset list -n 2>/dev/null | sort; fi
}

# Every container of the node's containerd, killed and removed while it still runs.
containers_down() {
  local id
  for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$id" 2>/dev/null || true; done
  for _ in $(seq 50); do
    [ -z "$(ctr_ tasks ls -q 2>/dev/null | head -1)" ] && break
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true; done
    sleep 0.2
  done
  for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers rm "$id" >/dev/null 2>&1 || true; done
}

# Shims outlive containerd (they are reparented): found by the socket they were given.
shims_down() {
  local cmdline pid
  for cmdline in /proc/[0-9]*/cmdline; do
    pid=${cmdline#/proc/}
    pid=${pid%/cmdline}
    if tr '\0' ' ' 2>/dev/null <"$cmdline" | grep -q -- "-address $sock "; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
}

# delete_chains TOOL PATTERN: rules of the built-in chains that jump to chains matching
# PATTERN, then those chains, in every table.
delete_chains() {
  local tool=$1 pattern=$2 table rule chain args
  for table in filter nat mangle raw; do
    "$tool-save" -t "$table" 2>/dev/null >/dev/null 2>&1 || continue
    while read -r rule; do
      eval "args=(${rule/#-A/-D})"
      "$tool" -t "$table" "${args[@]}" 2>/dev/null || true
    done < <("$tool-save" -t "$table" 2>/dev/null | grep -E "^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j ($pattern)")
    for chain in $("$tool-save" -t "$table" 2>/dev/null | sed -nE "s/^:(($pattern)[^ ]*) .*/\\1/p"); do
      "$tool" -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $("$tool-save" -t "$table" 2>/dev/null | sed -nE "s/^:(($pattern)[^ ]*) .*/\\1/p"); do
      "$tool" -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

host_down() {
  local saved="$state/host.saved" kind what value target
  # Mounts under the state directory (kubelet's root bind-mounted onto itself, rootfs
  # overlays, network namespaces, volumes), deepest first.
  for target in $(findmnt -rn -o TARGET | grep -E "^($state|/var/lib/kubelet|/run/containerd)(/|$)" | sort -r); do
    umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || true
  done
  ! ip link show "$bridge" >/dev/null 2>&1 || ip link del "$bridge"
  # KUBE- holds kube-router's KUBE-ROUTER-*, KUBE-NWPLCY-* and KUBE-POD-FW-* too.
  delete_chains iptables "KUBE-|CNI-|$node_chain"
  delete_chains ip6tables "KUBE-|CNI-"
  # kube-router's sets (KUBE-SRC-*, KUBE-DST-*; inet6: before an IPv6 one), once no rule
  # refers to them, and only those that were not there before up.
  local set
  for set in $(ipsets | grep -E '^(inet6:)?KUBE-'); do
    grep -qxF "$set" "$state/ipsets.before" 2>/dev/null || ipset destroy "$set" 2>/dev/null || true
  done
  [ -e "$saved" ] || return 0
  while read -r kind what value; do
    case "$kind" in
      sysctl) echo "$value" >"/proc/sys/$what" 2>/dev/null || log "could not put back $what=$value" ;;
      absent)
        if [[ "$what" == /sys/fs/cgroup/* ]]; then
          [ ! -d "$what" ] || find "$what" -depth -type d -exec rmdir {} + 2>/dev/null || true
        else
          rm -rf "$what"
        fi
        ;;
    esac
  done <"$saved"
  # Tables that iptables-nft made for the node's rules and that are empty again.
  local family tool table
  for family in ip ip6; do
    tool=${family}tables
    for table in filter nat mangle raw; do
      grep -qx "\*$table" "$state/$tool.before" 2>/dev/null && continue
      "$tool-save" -t "$table" 2>/dev/null | grep -q '^-A' && continue
      nft delete table "$family" "$table" 2>/dev/null || true
    done
  done
  local now
  for tool in iptables ip6tables; do
    now="$state/$tool.after"
    "$tool-save" 2>/dev/null | sed -e 's/\[[0-9]*:[0-9]*\]//' -e '/^#/d' >"$now"
    diff "$state/$tool.before" "$now" >/dev/null ||
      log "$tool differ from before up: $(diff "$state/$tool.before" "$now" | head -5)"
  done
  ipsets >"$state/ipsets.after"
  diff "$state/ipsets.before" "$state/ipsets.after" >/dev/null ||
    log "ipsets differ from before up: $(diff "$state/ipsets.before" "$state/ipsets.after" | head -5)"
  rm -f "$saved"
}
