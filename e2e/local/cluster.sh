#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for the operator's tests (DESIGN.md, tests
# tier 4): etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, whose
# fake nodes turn scheduled pods Running and Ready without a kubelet.
#
#   e2e/local/cluster.sh up     start it (the binaries come from e2e/tools/control-plane.sh)
#   e2e/local/cluster.sh env    print `export KUBECONFIG=... PATH=...` for a shell: eval "$(e2e/local/cluster.sh env)"
#                         (PATH gains helm; MICROSHOP_CLUSTER is this state directory)
#   e2e/local/cluster.sh down   stop it and remove its state (the logs are kept)
#
# e2e/local/node.sh runs the same control plane for a real kubelet: CLUSTER_STATE (another state
# directory), CLUSTER_ADDRESS (the API server's address, the node's bridge: pods reach it
# as the `kubernetes` Service) and CLUSTER_NODES=0 (no kwok), beside the CLUSTER_*_PORT below.
#
# State in ~/.cache/microshop/cluster: kubeconfig (an admin in system:masters), pki/,
# etcd's data in a temporary directory, logs/<component>.log and logs/audit.log (the
# requests of the service accounts of microshop-system: the operator's API calls).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=e2e/lib/need.sh
source "$root/e2e/lib/need.sh"
# shellcheck source=e2e/lib/processes.sh
source "$root/e2e/lib/processes.sh"
# CLUSTER_STATE: another state directory, for a second cluster beside the first (with
# other CLUSTER_*_PORT values); the binaries stay where they are.
state="${CLUSTER_STATE:-${MICROSHOP_CACHE:-$HOME/.cache/microshop}/cluster}"
pki="$state/pki"
conf="$state/conf"
run="$state/run"
logs="$state/logs"
kubeconfig="$state/kubeconfig"

apiserver_port="${CLUSTER_APISERVER_PORT:-6443}"
etcd_port="${CLUSTER_ETCD_PORT:-12379}"
etcd_peer_port="${CLUSTER_ETCD_PEER_PORT:-12380}"
controller_manager_port="${CLUSTER_CONTROLLER_MANAGER_PORT:-10257}"
scheduler_port="${CLUSTER_SCHEDULER_PORT:-10259}"
nodes="${CLUSTER_NODES:-2}"
address="${CLUSTER_ADDRESS:-127.0.0.1}"
service_cidr=10.96.0.0/16
pod_cidr=10.244.0.0/16
server="https://$address:$apiserver_port"
# Stopped last to first.
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { echo "cluster: $*" >&2; }

bin_dir() { "$root/e2e/tools/control-plane.sh"; }

# The admin's view of the API, for this script's own few calls.
api() {
  curl -sS --fail --max-time 10 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" \
    --key "$pki/admin.key" "$@"
}


# ---- certificates ----------------------------------------------------------------------

# cert NAME SUBJECT EXTENSIONS: a P-256 key and a certificate signed by the cluster's CA
# (or by $CA).
cert() {
  local name=$1 subject=$2 extensions=$3 ca=${CA:-ca}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
  printf '%s\n' "$extensions" >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 30 -extfile "$pki/$name.ext" \
    -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}

client_cert() {
  cert "$1" "$2" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
}

make_pki() {
  mkdir -p "$pki"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" -subj "/CN=microshop-cluster-ca" -days 30 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  # 10.96.0.1 is the `kubernetes` Service's address in service_cidr.
  cert apiserver "/CN=kube-apiserver" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:$address,IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  client_cert admin "/O=system:masters/CN=microshop-admin"
  # The API server's identity towards kubelets (logs, exec, port-forward).
  client_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  client_cert kube-controller-manager "/CN=system:kube-controller-manager"
  client_cert kube-scheduler "/CN=system:kube-scheduler"
  # kwok plays every kubelet (node and pod status, node leases): a cluster admin.
  client_cert kwok "/O=system:masters/CN=kwok"
  # The aggregation layer's proxy identity (a CA of its own): without it the controller
  # manager and the scheduler keep complaining that the request-header CA is missing.
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$pki/front-proxy-ca.key" -out "$pki/front-proxy-ca.crt" \
    -subj "/CN=microshop-front-proxy-ca" -days 30 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  CA=front-proxy-ca client_cert front-proxy-client "/CN=front-proxy-client"
  # Service-account tokens: signed by the API server (TokenRequest) and the controller
  # manager, verified with the public half.
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$pki/sa.key" 2>/dev/null
  openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  chmod 600 "$pki"/*.key
}

# write_kubeconfig FILE USER: credentials embedded, so the file stands alone.
write_kubeconfig() {
  local file=$1 user=$2
  cat >"$file" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: microshop
    cluster:
      server: $server
      certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
  - name: $user
    user:
      client-certificate-data: $(base64 -w0 "$pki/$user.crt")
      client-key-data: $(base64 -w0 "$pki/$user.key")
contexts:
  - name: microshop
    context: {cluster: microshop, user: $user, namespace: default}
current-context: microshop
YAML
  chmod 600 "$file"
}

# ---- processes ---------------------------------------------------------------------------



healthy() { curl -sS --fail --max-time 5 -k "https://127.0.0.1:$1/healthz"; }

readyz() { api "$server/readyz" | grep -qx ok; }

node_ready() {
  api "$server/api/v1/nodes/$1" |
    jq -e '.status.conditions[]? | select(.type == "Ready") | .status == "True"' | grep -q true
}

default_service_account() { api "$server/api/v1/namespaces/default/serviceaccounts/default"; }

create_node() {
  local name=$1
  api -X POST -H 'Content-Type: application/json' "$server/api/v1/nodes" -d @- >/dev/null <<JSON
{
  "apiVersion": "v1",
  "kind": "Node",
  "metadata": {
    "name": "$name",
    "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
    "labels": {
      "kubernetes.io/hostname": "$name", "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64", "type": "kwok"
    }
  },
  "status": {
    "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "1000"},
    "capacity": {"cpu": "64", "memory": "256Gi", "pods": "1000"}
  }
}
JSON
}

stop_if_failed() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    log "up failed; stopping what started"
    down
  fi
}

up() {
  if [ -e "$run/kube-apiserver.pid" ]; then
    if alive kube-apiserver && readyz; then
      log "already up; KUBECONFIG=$kubeconfig"
      return 0
    fi
    log "a previous cluster is half up; tearing it down first"
    down
  fi
  local bin
  bin=$(bin_dir)
  need curl jq openssl
  for port in "$apiserver_port" "$etcd_port" "$etcd_peer_port" "$controller_manager_port" "$scheduler_port"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      log "port $port on 127.0.0.1 is taken; set CLUSTER_*_PORT (see the top of $0)"
      exit 1
    fi
  done
  rm -rf "$state" && mkdir -p "$conf" "$run" "$logs"
  # Half a cluster is no use: a failure from here on stops what was started.
  trap stop_if_failed EXIT
  make_pki
  write_kubeconfig "$kubeconfig" admin
  for c in kube-controller-manager kube-scheduler kwok; do
    write_kubeconfig "$conf/$c.kubeconfig" "$c"
  done
  # Audit only what the operator's service account does: the benchmark counts its calls.
  cat >"$conf/audit-policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    userGroups: ["system:serviceaccounts:microshop-system"]
  - level: None
YAML

  local data reconciler=none
  # The `kubernetes` Service's endpoint is the API server's address, which must not be
  # loopback: with kwok nothing inside the cluster calls it.
  [ "$address" = 127.0.0.1 ] || reconciler=lease
  data=$(mktemp -d "$state/etcd.XXXXXX")
  # The data is thrown away with the cluster: no fsync.
  start etcd "$bin/etcd" --name microshop --data-dir "$data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "microshop=http://127.0.0.1:$etcd_peer_port" \
    --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn
  wait_for etcd 30 curl -sS --fail --max-time 2 "http://127.0.0.1:$etcd_port/health"

  start kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address "$address" --advertise-address "$address" --secure-port "$apiserver_port" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" \
    --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range "$service_cidr" \
    --requestheader-client-ca-file "$pki/front-proxy-ca.crt" \
    --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User \
    --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$pki/front-proxy-client.crt" \
    --proxy-client-key-file "$pki/front-proxy-client.key" \
    --endpoint-reconciler-type "$reconciler" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,ResourceQuota,NodeRestriction,OwnerReferencesPermissionEnforcement \
    --audit-policy-file "$conf/audit-policy.yaml" --audit-log-path "$logs/audit.log" \
    --profiling=false
  wait_for "the API server's /readyz" 120 readyz

  start kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$conf/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "$conf/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "$conf/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$controller_manager_port" \
    --controllers '*' --use-service-account-credentials \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --service-cluster-ip-range "$service_cidr" \
    --leader-elect=false --kube-api-qps 200 --kube-api-burst 400 \
    --profiling=false
  start kube-scheduler "$bin/kube-scheduler" \
    --kubeconfig "$conf/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "$conf/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig "$conf/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$scheduler_port" \
    --leader-elect=false --profiling=false
  ((nodes == 0)) || start kwok "$bin/kwok" --kubeconfig "$conf/kwok.kubeconfig" \
    --config "$root/e2e/local/kwok/stages.yaml" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds 40 --cidr "$pod_cidr" --node-ip 10.240.0.1

  wait_for kube-controller-manager 60 healthy "$controller_manager_port"
  wait_for kube-scheduler 60 healthy "$scheduler_port"
  for i in $(seq 0 $((nodes - 1))); do create_node "kwok-node-$i"; done
  for i in $(seq 0 $((nodes - 1))); do wait_for "node kwok-node-$i Ready" 60 node_ready "kwok-node-$i"; done
  # The service-account controller has run: namespaces are usable.
  wait_for "the default ServiceAccount" 60 default_service_account
  trap - EXIT
  log "up: $server, $nodes kwok nodes; KUBECONFIG=$kubeconfig"
}

down() {
  local last_first=() i
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do last_first+=("${components[i]}"); done
  stop "${last_first[@]}"
  # Everything but the logs.
  if [ -d "$state" ]; then
    find "$state" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
  fi
  log "down (logs kept in $logs)"
}

env_() {
  printf 'export KUBECONFIG=%q\n' "$kubeconfig"
  printf 'export MICROSHOP_CLUSTER=%q\n' "$state"
  # shellcheck disable=SC2016 # $PATH is for the shell that evaluates this
  printf 'export PATH=%q:"$PATH"\n' "$(bin_dir)"
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
