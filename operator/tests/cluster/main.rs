//! The operator and its chart against a real API server (DESIGN.md, tests tier 4): the
//! control plane of `e2e/local/cluster.sh` (etcd, kube-apiserver, kube-controller-manager,
//! kube-scheduler) with kwok's fake nodes, where the scheduled pods of a shop become
//! Running and Ready without a kubelet. Run by `e2e/tests/cluster-test.sh`.
//!
//! One operator serves every test, as in a cluster: the chart is installed with Helm and
//! the controller runs in this process as the chart's ServiceAccount.

mod binary;
mod changes;
mod chart;
mod harness;
mod lifecycle;
mod namespace;
mod process;
mod scale;
mod validation;
