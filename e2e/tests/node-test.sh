#!/usr/bin/env bash
# The shop on a real node (DESIGN.md, tests tier 5): e2e/local/node.sh's one-node cluster, the
# shop's images (e2e/local/images.sh) and the test images of the third-party programs
# (e2e/local/test-images.sh) imported into its containerd, the operator's chart installed with
# `helm install` (the operator running from its image as its ServiceAccount), and a Shop
# in a namespace that enforces the `restricted` Pod Security Standard, which must become
# Ready with every pod really running and passing its probes. Then the frontend answers on
# its NodePort, the Shop's NetworkPolicies are shown enforced (kube-router, started by
# node.sh), and the API scenarios (e2e/tests/scenarios) run through the gateway under them,
# a cart surviving the deletion of Redis's pod and orders completing although RabbitMQ's
# pod was deleted during checkouts among them. At the end the Shop is deleted, which
# leaves only the volumes and the store Secrets they own, and made again on them: it must
# sell again with the old data's passwords.
#
# On failure it keeps every pod's logs and the events under e2e/artifacts/node/. The node
# is torn down at the end unless NODE_KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

artifacts="$root/e2e/artifacts/node"
shop=shop
ns="shop-node-test"
began=$SECONDS

log() { echo "node-test: $*" >&2; }

keep_artifacts() {
  rm -rf "$artifacts" && mkdir -p "$artifacts"
  kubectl get events -A --sort-by=.lastTimestamp >"$artifacts/events.txt" 2>&1 || true
  kubectl get all,pvc,pv,shop -A -o wide >"$artifacts/objects.txt" 2>&1 || true
  kubectl get shop -A -o yaml >"$artifacts/shops.yaml" 2>&1 || true
  local pod namespace
  while read -r namespace pod; do
    kubectl -n "$namespace" describe pod "$pod" >"$artifacts/$namespace.$pod.describe.txt" 2>&1 || true
    kubectl -n "$namespace" logs "$pod" --all-containers --prefix >"$artifacts/$namespace.$pod.log" 2>&1 || true
    kubectl -n "$namespace" logs "$pod" --all-containers --prefix --previous \
      >"$artifacts/$namespace.$pod.previous.log" 2>/dev/null || rm -f "$artifacts/$namespace.$pod.previous.log"
  done < <(kubectl get pods -A --no-headers -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name 2>/dev/null)
  cp -r "${MICROSHOP_CACHE:-$HOME/.cache/microshop}/node/logs" "$artifacts/node-logs" 2>/dev/null || true
  log "kept pod logs and events in $artifacts"
}

finish() {
  local status=$?
  ((status == 0)) || keep_artifacts
  [ "${NODE_KEEP:-0}" = 1 ] || ./e2e/local/node.sh down || true
  log "$( ((status == 0)) && echo passed || echo FAILED) in $((SECONDS - began)) s"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT TERM

./e2e/local/node.sh up
eval "$(./e2e/local/node.sh env)"

log "images"
import() { ctr --address "$CONTAINERD_ADDRESS" -n k8s.io images import "$1" >/dev/null; }
declare -A test_image
while read -r ref archive; do import "$archive"; done < <(./e2e/local/images.sh build)
# The images the node runs are the Dockerfile's targets (built again from the cache).
./e2e/local/images.sh check >&2
while read -r component ref archive; do
  import "$archive"
  test_image[$component]=$ref
done < <(./e2e/local/test-images.sh build userDb catalogDb redis rabbitmq gateway)
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)

log "helm install (the operator from microshop.test/operator:$version)"
helm install microshop charts/microshop-operator --namespace microshop-system --create-namespace \
  --set image.repository=microshop.test/operator --set image.tag="$version" \
  --set image.pullPolicy=Never --wait --timeout 180s

kubectl create namespace "$ns"
kubectl label namespace "$ns" pod-security.kubernetes.io/enforce=restricted \
  pod-security.kubernetes.io/enforce-version=latest
shop_manifest() {
  cat <<YAML
apiVersion: microshop.dev/v1alpha1
kind: Shop
metadata: {name: $shop}
spec:
  imageRegistry: microshop.test
  imagePullPolicy: Never
  gateway: {image: ${test_image[gateway]}}
  userDb: {image: ${test_image[userDb]}, storage: {size: 2Gi}}
  catalogDb: {image: ${test_image[catalogDb]}, storage: {size: 2Gi}}
  redis: {image: ${test_image[redis]}, storage: {size: 1Gi}}
  rabbitmq: {image: ${test_image[rabbitmq]}, storage: {size: 2Gi}}
  exposure: {type: NodePort}
YAML
}
applied=$SECONDS
shop_manifest | kubectl -n "$ns" apply -f -

log "waiting for the Shop to be Ready"
kubectl -n "$ns" wait shop/"$shop" --for=condition=Ready --timeout=600s
ready=$((SECONDS - applied))
log "Shop Ready $ready s after apply"

# Ready must mean running: every pod of the shop Running, every container ready.
not_running=$(kubectl -n "$ns" get pods -o json | jq -r '.items[]
  | select(.status.phase != "Running" or any(.status.containerStatuses[]?; .ready | not))
  | .metadata.name')
if [ -n "$not_running" ]; then
  log "Ready, but these pods do not run: $not_running"
  exit 1
fi

node_port=$(kubectl -n "$ns" get service "$shop-frontend" -o jsonpath='{.spec.ports[0].nodePort}')
frontend="http://$NODE_IP:$node_port"
log "frontend at $frontend"
for _ in $(seq 60); do curl -sf --max-time 2 "$frontend/" >/dev/null && break; sleep 1; done
curl -sf --max-time 5 "$frontend/" >/dev/null

# Each container's resident memory: the VmRSS of every process in its memory cgroup (the
# kubelet's rssBytes, cgroup v1's anonymous pages, read 0 for some), beside the kubelet's
# working set. Into e2e/artifacts/node-memory-LABEL.txt.
memory_report() {
  mkdir -p "$root/e2e/artifacts"
  local label=$1 out="$root/e2e/artifacts/node-memory-$1.txt" id pid _ name cgroup rss
  local -a procs files
  local -A task_pid working_set
  while read -r id pid _; do task_pid[$id]=$pid; done < <(ctr --address "$CONTAINERD_ADDRESS" -n k8s.io tasks ls | tail -n +2)
  while read -r name rss; do working_set[$name]=$rss; done < <(
    kubectl get --raw "/api/v1/nodes/microshop-node/proxy/stats/summary" |
      jq -r '.pods[] | .podRef.name as $p | .containers[] | "\($p)/\(.name) \((.memory.workingSetBytes // 0) / 1048576 | floor)"')
  log "memory of each container, $label (resident set of its processes; working set)"
  while read -r name id; do
    pid=${task_pid[$id]:-}
    if [ -z "$pid" ] || [ ! -r "/proc/$pid/cgroup" ]; then continue; fi
    cgroup=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup")
    mapfile -t procs < <(cat "/sys/fs/cgroup/memory$cgroup/cgroup.procs" 2>/dev/null || echo "$pid")
    files=("${procs[@]/#//proc/}")
    rss=$(awk '/^VmRSS:/ { kib += $2 } END { printf "%.1f", kib / 1024 }' \
      "${files[@]/%//status}" 2>/dev/null || true)
    echo "$name rss $rss MiB, working set ${working_set[$name]:-?} MiB, ${#procs[@]} processes"
  done < <(kubectl get pods -A -o json | jq -r --arg ns "$ns" '.items[]
      | select(.metadata.namespace == $ns or .metadata.namespace == "microshop-system")
      | .metadata.name as $p | .status.containerStatuses[]?
      | "\($p)/\(.name) \(.containerID // "" | sub("^containerd://"; ""))"') | sort | tee "$out" >&2
}
memory_report idle || true

# ---- NetworkPolicies, enforced ---------------------------------------------------------
# Probe pods in the shop's namespace, from the busybox helper image node.sh imports: one
# without any label of the shop, and one carrying the labels by which the rendered catalog
# policy admits the gateway (plus the shop's own, under which allow-dns and default-deny
# select the real gateway's pods). Each tries TCP connections to Service addresses, a
# store's pod address behind its headless Service (no DNS involved). What must be refused is first shown reachable from the host, which
# kube-router lets through (traffic from the node itself: kubelet's probes, the scenarios
# through the gateway's ClusterIP, the NodePort): so a refusal is the policy's, not a port
# that nobody listens on. And a probe that must get through shows that the probe itself
# has a network. Without enforcement the refusals fail the test.
#
# probe_pod NAME LABELS: restricted as the namespace demands, and never Ready (its readiness
# probe fails on purpose), so that one with the gateway's labels never becomes an endpoint
# of the gateway's Service.
probe_pod() {
  local name=$1 labels=$2
  kubectl -n "$ns" apply -f - >/dev/null <<JSON
{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "$name", "labels": $labels},
 "spec": {
   "restartPolicy": "Never", "automountServiceAccountToken": false,
   "terminationGracePeriodSeconds": 0,
   "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
                       "seccompProfile": {"type": "RuntimeDefault"}},
   "containers": [{
     "name": "probe", "image": "microshop.test/busybox:1", "imagePullPolicy": "Never",
     "command": ["/bin/busybox", "sleep", "3600"],
     "readinessProbe": {"exec": {"command": ["/bin/busybox", "false"]}, "periodSeconds": 60},
     "resources": {"requests": {"cpu": "10m", "memory": "8Mi"}, "limits": {"memory": "32Mi"}},
     "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                         "capabilities": {"drop": ["ALL"]}}}]}}
JSON
}
probe_running() { [ "$(kubectl -n "$ns" get pod "$1" -o jsonpath='{.status.phase}')" = Running ]; }
address_of() { # COMPONENT: "ADDRESS PORT" of its Service; a store's is headless: its pod's
  local ip port
  read -r ip port <<<"$(kubectl -n "$ns" get service "$shop-$1" -o jsonpath='{.spec.clusterIP} {.spec.ports[0].port}')"
  [ "$ip" != None ] || ip=$(kubectl -n "$ns" get pod "$shop-$1-0" -o jsonpath='{.status.podIP}')
  echo "$ip $port"
}
connects() { # POD COMPONENT: one TCP connection, 3 s at most
  local address
  read -r -a address <<<"$(address_of "$2")"
  kubectl -n "$ns" exec "$1" -- /bin/busybox nc -w 3 "${address[@]}" </dev/null >/dev/null 2>&1
}
host_connects() { # COMPONENT
  local address
  read -r -a address <<<"$(address_of "$1")"
  # shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${address[@]}" 2>/dev/null
}
reaches() { # POD COMPONENT: within 30 s (kube-router syncs a new pod into its sets)
  for _ in $(seq 15); do connects "$1" "$2" && return 0; sleep 2; done
  log "FAILED: $1 cannot reach $2 ($(address_of "$2")), which its policies allow"
  return 1
}
refused() { # POD COMPONENT
  host_connects "$2" || { log "FAILED: the host cannot reach $2 ($(address_of "$2")) either"; return 1; }
  if connects "$1" "$2"; then
    log "FAILED: $1 reached $2 ($(address_of "$2")): the NetworkPolicies are not enforced"
    return 1
  fi
}
log "NetworkPolicies enforced: probe pods in $ns"
unlabelled=netpol-probe-unlabelled gatewayish=netpol-probe-gateway
gateway_labels=$(kubectl -n "$ns" get networkpolicy "$shop-catalog" -o json | jq -c '
  [.spec.ingress[].from[].podSelector.matchLabels
   | select(."app.kubernetes.io/name" == "gateway")][0]')
[ "$gateway_labels" != null ] || { log "the catalog's policy admits no gateway"; exit 1; }
shop_labels=$(kubectl -n "$ns" get networkpolicy "$shop-default-deny" -o json |
  jq -c '.spec.podSelector.matchLabels')
probe_pod "$unlabelled" '{}'
probe_pod "$gatewayish" "$(jq -nc --argjson a "$gateway_labels" --argjson b "$shop_labels" '$a + $b')"
for probe in "$unlabelled" "$gatewayish"; do
  for _ in $(seq 60); do probe_running "$probe" && break; sleep 1; done
  probe_running "$probe"
done
# The frontend's port is open to every pod: the unlabelled probe has a network.
reaches "$unlabelled" frontend
for target in catalog-db user-db redis rabbitmq catalog cart checkout identity; do
  refused "$unlabelled" "$target"
done
reaches "$gatewayish" catalog
reaches "$gatewayish" cart
for target in catalog-db user-db redis rabbitmq; do refused "$gatewayish" "$target"; done
log "a pod without the shop's labels reached the frontend and was refused by catalog-db, user-db, redis, rabbitmq, catalog, cart, checkout and identity; one with the gateway's labels ($gateway_labels) reached catalog and cart, not the stores"
kubectl -n "$ns" delete pod "$unlabelled" "$gatewayish" --wait=true >/dev/null

# The public API is the gateway's (a ClusterIP Service, which the host reaches through
# kube-proxy's rules).
gateway_ip=$(kubectl -n "$ns" get service "$shop-gateway" -o jsonpath='{.spec.clusterIP}')
gateway_port=$(kubectl -n "$ns" get service "$shop-gateway" -o jsonpath='{.spec.ports[0].port}')
log "API scenarios through the gateway at $gateway_ip:$gateway_port"
# The cart scenario deletes Redis's pod: its StatefulSet makes a new one on the same volume,
# whose append-only file must still hold the cart.
restart_redis="kubectl -n $ns delete pod $shop-redis-0 --wait=true >/dev/null &&
  for _ in \$(seq 120); do kubectl -n $ns wait pod/$shop-redis-0 --for=condition=Ready --timeout=1s 2>/dev/null && break; sleep 1; done"
# The broker scenario deletes RabbitMQ's pod while it places orders; its successor finds
# the quorum queues on the same volume. The e-mail service's development outbox (each
# pod's, through the API server's pod proxy: its Service has no endpoint while the pod
# reconnects to the broker) shows one confirmation per order.
restart_rabbitmq="kubectl -n $ns delete pod $shop-rabbitmq-0 --wait=true >/dev/null &&
  for _ in \$(seq 180); do kubectl -n $ns wait pod/$shop-rabbitmq-0 --for=condition=Ready --timeout=1s 2>/dev/null && break; sleep 1; done &&
  kubectl -n $ns wait pod/$shop-rabbitmq-0 --for=condition=Ready --timeout=1s"
emails="for pod in \$(kubectl -n $ns get pods -l app.kubernetes.io/instance=$shop,app.kubernetes.io/name=email -o name); do
  kubectl get --raw /api/v1/namespaces/$ns/pods/\${pod#pod/}:8080/proxy/emails; echo; done"
python3 e2e/tests/scenarios/scenarios.py --api "http://$gateway_ip:$gateway_port/api/v1" \
  --restart-redis "$restart_redis" --restart-rabbitmq "$restart_rabbitmq" --emails-command "$emails"

log "a purchase in headless Chromium through the frontend's NodePort"
e2e/tests/browser/run.sh "$frontend" "$root/e2e/artifacts/node-screenshots"

memory_report after-load || true

log "the operator's pod deleted: its successor still reconciles the shop"
kubectl -n microshop-system delete pod -l app.kubernetes.io/name=microshop-operator --wait=true
kubectl -n microshop-system rollout status deployment --timeout=120s
kubectl -n "$ns" delete service "$shop-cart" --wait=true
for _ in $(seq 120); do
  kubectl -n "$ns" get service "$shop-cart" >/dev/null 2>&1 && break
  sleep 1
done
kubectl -n "$ns" get service "$shop-cart" >/dev/null
kubectl -n "$ns" wait shop/"$shop" --for=condition=Ready --timeout=180s

log "kubectl delete shop: everything goes but the retained volumes"
kubectl -n "$ns" delete shop "$shop" --wait=true --timeout=180s
for _ in $(seq 120); do
  left=$(kubectl -n "$ns" get deployments,statefulsets,services,configmaps,networkpolicies \
    -l app.kubernetes.io/instance="$shop" --no-headers 2>/dev/null | wc -l)
  ((left == 0)) && break
  sleep 1
done
if ((left != 0)); then
  log "left after the Shop was deleted:"
  kubectl -n "$ns" get all,configmaps,networkpolicies -l app.kubernetes.io/instance="$shop" >&2
  exit 1
fi
volumes=$(kubectl -n "$ns" get pvc --no-headers | wc -l)
log "$volumes volumes retained"
((volumes == 4))

log "the store Secrets stay with their volumes, owned by them alone"
claims=$(kubectl -n "$ns" get pvc -o json | jq -c '[.items[].metadata.uid] | sort')
for _ in $(seq 60); do
  owners=$(kubectl -n "$ns" get secrets -l app.kubernetes.io/instance="$shop" -o json |
    jq -c '[.items[].metadata.ownerReferences[]? | .kind + "/" + .uid] | sort')
  [ "$owners" = "$(jq -c 'map("PersistentVolumeClaim/" + .)' <<<"$claims")" ] && break
  sleep 1
done
if [ "$owners" != "$(jq -c 'map("PersistentVolumeClaim/" + .)' <<<"$claims")" ]; then
  log "the Secrets left are owned by $owners, the volumes are $claims"
  exit 1
fi

log "the Shop made again on its retained volumes: every service logs in to the old data"
applied=$SECONDS
shop_manifest | kubectl -n "$ns" apply -f -
kubectl -n "$ns" wait shop/"$shop" --for=condition=Ready --timeout=600s
log "Shop Ready again $((SECONDS - applied)) s after apply"
gateway_ip=$(kubectl -n "$ns" get service "$shop-gateway" -o jsonpath='{.spec.clusterIP}')
python3 e2e/tests/scenarios/scenarios.py --api "http://$gateway_ip:$gateway_port/api/v1" \
  --only guest_purchase registered_purchase
