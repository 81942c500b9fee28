#!/usr/bin/env bash
# A real one-node Kubernetes cluster on this machine (DESIGN.md, tests tier 5): the control
# plane of e2e/local/cluster.sh, a kubelet and kube-proxy (iptables mode) from the same
# k8s.io/kubernetes module, Debian's containerd, runc and CNI plugins, CoreDNS as cluster DNS
# and rancher's local-path provisioner as the default StorageClass, and kube-router's
# NetworkPolicy controller (only that: no routing, no service proxy) enforcing the
# NetworkPolicies on the host's iptables. Every image is built here (e2e/lib/image.sh):
# nothing is pulled.
#
#   e2e/local/node.sh up     start it (installs Debian's packages when missing; builds once)
#   e2e/local/node.sh env    print `export KUBECONFIG=... PATH=... CONTAINERD_ADDRESS=...`
#   e2e/local/node.sh down   stop it and put the machine back as it was (the logs are kept)
#
# Traffic stays on this machine: pods live on a bridge of their own (10.244.0.0/24, the
# host is 10.244.0.1, also the API server's address and the only NodePort address), with
# forwarding on for that bridge only, no masquerading, and a FORWARD chain dropping
# whatever would leave the bridge. Its own ports, state directory (~/.cache/microshop/node)
# and containerd (config, root, state, socket), so e2e/local/cluster.sh can run beside it.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=e2e/lib/need.sh
source "$root/e2e/lib/need.sh"
# shellcheck source=e2e/lib/image.sh
source "$root/e2e/lib/image.sh"
# shellcheck source=e2e/lib/node-host.sh
source "$root/e2e/lib/node-host.sh"
# shellcheck source=e2e/lib/processes.sh
source "$root/e2e/lib/processes.sh"

cache="${MICROSHOP_CACHE:-$HOME/.cache/microshop}"
state="${NODE_STATE:-$cache/node}"
run="$state/run"
logs="$state/logs"
pki="$state/cluster/pki"
sock="$state/containerd/containerd.sock"
node=microshop-node
bridge=microshop0
node_ip=10.244.0.1
pod_subnet=10.244.0.0/24
# e2e/local/cluster.sh's Service range.
service_cidr=10.96.0.0/16
dns_ip=10.96.0.10
kubelet_port="${NODE_KUBELET_PORT:-20250}"
kubelet_healthz_port="${NODE_KUBELET_HEALTHZ_PORT:-20248}"
proxy_healthz_port="${NODE_PROXY_HEALTHZ_PORT:-20256}"
proxy_metrics_port="${NODE_PROXY_METRICS_PORT:-20249}"
export CLUSTER_STATE="$state/cluster" CLUSTER_ADDRESS="$node_ip" CLUSTER_NODES=0
export CLUSTER_APISERVER_PORT="${NODE_APISERVER_PORT:-16443}"
export CLUSTER_ETCD_PORT="${NODE_ETCD_PORT:-22379}" CLUSTER_ETCD_PEER_PORT="${NODE_ETCD_PEER_PORT:-22380}"
export CLUSTER_CONTROLLER_MANAGER_PORT="${NODE_CONTROLLER_MANAGER_PORT:-20257}"
export CLUSTER_SCHEDULER_PORT="${NODE_SCHEDULER_PORT:-20259}"
kubeconfig="$state/cluster/kubeconfig"
# The test images' names: never pulled, imported into containerd.
pause_image=microshop.test/pause:3.10
coredns_image=microshop.test/coredns:1.15.0
local_path_image=microshop.test/local-path-provisioner:0.0.30
helper_image=microshop.test/busybox:1

log() { echo "node: $*" >&2; }
# What wait_for watches (e2e/lib/processes.sh).
components=(containerd kubelet kube-proxy kube-router)

k() { kubectl --kubeconfig "$kubeconfig" "$@"; }
ctr_() { ctr --address "$sock" --namespace k8s.io "$@"; }

# ---- what runs on the host ---------------------------------------------------------------

packages() {
  local missing=()
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v iptables >/dev/null || missing+=(iptables)
  # kube-router keeps the pods each policy selects in ipsets.
  command -v ipset >/dev/null || missing+=(ipset)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v jq >/dev/null || missing+=(jq)
  command -v envsubst >/dev/null || missing+=(gettext-base)
  command -v openssl >/dev/null || missing+=(openssl)
  # The pause image is compiled here, statically.
  command -v gcc >/dev/null || missing+=(gcc libc6-dev)
  if ((${#missing[@]})); then
    log "installing Debian's ${missing[*]}"
    apt-get update -qq
    # policy-rc.d keeps apt from starting containerd's service: this script starts its own.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  need curl jq openssl envsubst gcc go python3
}

containerd_config() {
  mkdir -p "$state/containerd" "$state/cni/net.d"
  cat >"$state/containerd/config.toml" <<TOML
version = 2
root = "$state/containerd/root"
state = "$state/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$state/cni/net.d"
TOML
  # The bridge is made by host_up; no masquerading: nothing routes out.
  cat >"$state/cni/net.d/10-microshop.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "microshop-node",
  "plugins": [{
    "type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local", "dataDir": "$state/cni/ipam",
      "ranges": [[{"subnet": "$pod_subnet", "gateway": "$node_ip", "rangeStart": "10.244.0.10"}]],
      "routes": [{"dst": "0.0.0.0/0"}]
    }
  }]
}
JSON
}

# The images the node itself runs, each FROM scratch around a binary built here.
node_images() {
  local addons=$1 tree image
  tree=$(mktemp -d) && chmod 755 "$tree"
  install -D "$addons/pause" "$tree/pause/pause"
  install -D "$addons/coredns" "$tree/coredns/coredns"
  install -D "$addons/local-path-provisioner" "$tree/local-path/local-path-provisioner"
  # The provisioner's helper pod runs its setup and teardown scripts with sh.
  install -D /bin/busybox "$tree/busybox/bin/busybox"
  for applet in sh mkdir rm chmod ls; do ln -s busybox "$tree/busybox/bin/$applet"; done
  # Built static (CGO_ENABLED=0) by node-addons.sh; the C library otherwise.
  for image in coredns local-path; do tree_libs "$tree/$image"; done
  chmod -R go+rX "$tree"
  {
    image_archive "$pause_image" "$tree/pause" --user 65535:65535 --entrypoint '["/pause"]'
    image_archive "$coredns_image" "$tree/coredns" --user 65532:65532 \
      --entrypoint '["/coredns"]' --port 53/udp --port 53/tcp
    image_archive "$local_path_image" "$tree/local-path" --user 65532:65532 \
      --entrypoint '["/local-path-provisioner"]'
    image_archive "$helper_image" "$tree/busybox" --env PATH=/bin --entrypoint '["/bin/sh"]'
  } >"$state/node-images"
  rm -rf "$tree"
}

# import ARCHIVE...: into containerd's CRI namespace, where the kubelet looks.
import() {
  for archive; do ctr_ images import "$archive" >/dev/null; done
}

# ---- certificates and configuration of the node ------------------------------------------

node_cert() {
  local name=$1 subject=$2 extensions=$3
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
  printf '%s\n' "$extensions" >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 30 -extfile "$pki/$name.ext" \
    -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
  chmod 600 "$pki/$name.key"
}

# node_kubeconfig NAME: the cluster's admin kubeconfig with NAME's credentials instead.
node_kubeconfig() {
  local file="$state/conf/$1.kubeconfig"
  sed -e "s#client-certificate-data: .*#client-certificate-data: $(base64 -w0 "$pki/$1.crt")#" \
    -e "s#client-key-data: .*#client-key-data: $(base64 -w0 "$pki/$1.key")#" \
    -e "s#name: admin#name: $1#; s#user: admin#user: $1#" "$kubeconfig" >"$file"
  chmod 600 "$file"
  echo "$file"
}

node_config() {
  mkdir -p "$state/conf"
  node_cert kubelet "/O=system:nodes/CN=system:node:$node" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
  node_cert kubelet-serving "/CN=$node" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:$node_ip,DNS:$node"
  node_cert kube-proxy "/CN=system:kube-proxy" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
  # Bound to what it reads by e2e/local/node/kube-router.yaml, nothing more.
  node_cert kube-router "/CN=kube-router" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
  # Pods with dnsPolicy Default (CoreDNS) get no resolver of the host's: nothing leaves.
  echo "nameserver 127.0.0.1" >"$state/conf/resolv.conf"
  cat >"$state/conf/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
port: $kubelet_port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $kubelet_healthz_port
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$sock
# cgroups v1 here: kubelet 1.36 refuses them unless told.
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
# kubelet sets kernel/panic, kernel/panic_on_oops and vm/overcommit_memory itself (put
# back by down); true refuses to start on this machine's values.
protectKernelDefaults: false
clusterDNS: [$dns_ip]
clusterDomain: cluster.local
resolvConf: $state/conf/resolv.conf
podLogsDir: $logs/pods
serializeImagePulls: false
rotateCertificates: false
# The disk is the machine's, shared with build caches that fill most of it: the default
# thresholds (15 % free for images) evict every pod of a busy build machine. And no
# image here can be pulled again, so none is ever garbage-collected (100 turns it off).
evictionHard: {memory.available: 200Mi, nodefs.available: 2Gi, imagefs.available: 2Gi}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
YAML
  cat >"$state/conf/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $(node_kubeconfig kube-proxy)}
hostnameOverride: $node
bindAddress: $node_ip
clusterCIDR: $pod_subnet
healthzBindAddress: 127.0.0.1:$proxy_healthz_port
metricsBindAddress: 127.0.0.1:$proxy_metrics_port
# NodePorts on the bridge's address only, never on the machine's own interfaces, and not
# on 127.0.0.1 (that would need route_localnet).
nodePortAddresses: [$node_ip/32]
iptables: {localhostNodePorts: false, masqueradeAll: false}
# 0: leave the machine's conntrack settings as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
}

node_ready() {
  k get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True
}

# The cluster's own name resolution through the Service address: CoreDNS and kube-proxy.
dns_answers() {
  python3 - "$dns_ip" <<'PY'
import socket, struct, sys
name = b"".join(bytes([len(p)]) + p for p in b"kubernetes.default.svc.cluster.local".split(b".")) + b"\0"
query = struct.pack(">HHHHHH", 0x4d53, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(query, (sys.argv[1], 53))
answer = s.recv(512)
sys.exit(0 if answer[3] & 0xF == 0 and struct.unpack(">H", answer[6:8])[0] > 0 else 1)
PY
}

# kube-router has set up its chains (and jumps to them) and made its first sync.
netpol_ready() {
  iptables -S FORWARD | grep -q -- '-j KUBE-ROUTER-FORWARD' &&
    iptables -S KUBE-NWPLCY-DEFAULT >/dev/null 2>&1
}

# NetworkPolicies enforced on the host: kube-router's policy controller alone, a host
# process with a client certificate of its own. Its flaws reported for v2.1.0 sit in the
# parts left off here (service proxy, BGP; README.md "NetworkPolicies on the node"), and
# it listens on no port (health and metrics off). IPv4 only: the bridge has no IPv6.
netpol() {
  local addons=$1
  k apply -f "$root/e2e/local/node/kube-router.yaml" >/dev/null
  start kube-router "$addons/kube-router" --kubeconfig "$(node_kubeconfig kube-router)" \
    --hostname-override "$node" --run-firewall=true --run-router=false \
    --run-service-proxy=false --run-loadbalancer=false --enable-cni=false \
    --enable-ipv4=true --enable-ipv6=false --service-cluster-ip-range "$service_cidr" \
    --health-port 0 --metrics-port 0
  wait_for "kube-router's NetworkPolicy chains" 60 netpol_ready
}

addons() {
  local vars
  export COREDNS_IMAGE="$coredns_image" DNS_IP="$dns_ip" LOCAL_PATH_IMAGE="$local_path_image"
  export HELPER_IMAGE="$helper_image" VOLUMES="$state/volumes"
  mkdir -p "$VOLUMES"
  # shellcheck disable=SC2016 # the names envsubst replaces, not their values
  vars='${COREDNS_IMAGE} ${DNS_IP} ${LOCAL_PATH_IMAGE} ${HELPER_IMAGE} ${VOLUMES}'
  envsubst "$vars" <"$root/e2e/local/node/coredns.yaml" | k apply -f - >/dev/null
  envsubst "$vars" <"$root/e2e/local/node/local-path.yaml" | k apply -f - >/dev/null
  k -n kube-system rollout status deployment/coredns --timeout 120s >/dev/null
  k -n local-path-storage rollout status deployment/local-path-provisioner --timeout 120s >/dev/null
  wait_for "cluster DNS through $dns_ip" 60 dns_answers
}

# ---- up, down ------------------------------------------------------------------------------

stop_if_failed() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    log "up failed; putting the machine back (logs in $logs)"
    down
  fi
}

up() {
  if alive kubelet && node_ready; then
    log "already up; KUBECONFIG=$kubeconfig"
    return 0
  fi
  [ ! -e "$state/host.saved" ] || { log "a previous node is half up; tearing it down first"; down; }
  local started=$SECONDS bin addons
  packages
  bin=$("$root/e2e/tools/control-plane.sh" node)
  # kubectl and helm of the same build.
  PATH="$bin:$PATH"
  addons=$("$root/e2e/tools/node-addons.sh")
  rm -rf "$logs/pods" && mkdir -p "$run" "$logs"
  trap stop_if_failed EXIT
  host_up
  containerd_config
  node_images "$addons"
  start containerd containerd --config "$state/containerd/config.toml"
  wait_for containerd 30 ctr --address "$sock" version
  # shellcheck disable=SC2046 # one archive a line
  import $(cat "$state/node-images")
  PATH="$bin:$PATH" "$root/e2e/local/cluster.sh" up
  node_config
  start kubelet "$bin/kubelet" --config "$state/conf/kubelet.yaml" \
    --kubeconfig "$(node_kubeconfig kubelet)" --root-dir "$state/kubelet" \
    --cert-dir "$state/kubelet/pki" --hostname-override "$node" --node-ip "$node_ip"
  start kube-proxy "$bin/kube-proxy" --config "$state/conf/kube-proxy.yaml"
  wait_for "node $node Ready" 120 node_ready
  netpol "$addons"
  addons
  trap - EXIT
  log "up in $((SECONDS - started)) s: node $node Ready, DNS $dns_ip, StorageClass local-path, NetworkPolicies enforced; KUBECONFIG=$kubeconfig"
}

down() {
  # First, or it would put back its chains while they are being removed; host_down
  # removes them and its ipsets.
  stop kube-router
  stop kube-proxy
  stop kubelet
  if alive containerd; then
    containers_down
    stop containerd
  fi
  shims_down
  [ ! -x "$cache/bin/k8s-v${K8S_VERSION:-1.36.3}/kube-proxy" ] ||
    "$cache/bin/k8s-v${K8S_VERSION:-1.36.3}/kube-proxy" --cleanup >>"$logs/kube-proxy-cleanup.log" 2>&1 || true
  if [ -e "$state/cluster/run" ]; then
    PATH="$cache/bin/k8s-v${K8S_VERSION:-1.36.3}:$PATH" "$root/e2e/local/cluster.sh" down
  fi
  host_down
  if [ -d "$state" ]; then
    find "$state" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
  fi
  log "down (logs kept in $logs)"
}

env_() {
  printf 'export KUBECONFIG=%q\n' "$kubeconfig"
  printf 'export MICROSHOP_NODE=%q NODE_IP=%q\n' "$state" "$node_ip"
  printf 'export CONTAINERD_ADDRESS=%q CONTAINERD_NAMESPACE=k8s.io\n' "$sock"
  # shellcheck disable=SC2016 # $PATH is for the shell that evaluates this
  printf 'export PATH=%q:"$PATH"\n' "$("$root/e2e/tools/control-plane.sh" node)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) env_ ;;
  *)
    echo "usage: $0 up|down|env" >&2
    exit 2
    ;;
esac
