//! What every pod of a shop shares: the `restricted` Pod Security Standard, probes,
//! requests and limits, scratch volumes.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::core::v1::{
        Capabilities, EmptyDirVolumeSource, ExecAction, HTTPGetAction, PodSecurityContext, Probe,
        ResourceRequirements, SeccompProfile, SecurityContext, TCPSocketAction, Volume,
        VolumeMount,
    },
    apimachinery::pkg::{api::resource::Quantity, util::intstr::IntOrString},
};

/// The user our own images run as (distroless `nonroot`).
pub const APP_UID: i64 = 65532;

/// Pod-level half of `restricted`: a numeric non-root user, its group owning volumes,
/// the runtime's default seccomp profile.
pub fn pod_security(uid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(uid),
        fs_group: Some(uid),
        fs_group_change_policy: Some("OnRootMismatch".into()),
        seccomp_profile: Some(runtime_default()),
        ..PodSecurityContext::default()
    }
}

/// Container-level half of `restricted`; `read_only_root` where the program allows it.
pub fn container_security(read_only_root: bool) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: None,
        }),
        read_only_root_filesystem: Some(read_only_root),
        run_as_non_root: Some(true),
        seccomp_profile: Some(runtime_default()),
        ..SecurityContext::default()
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".into(),
        localhost_profile: None,
    }
}

pub fn http_probe(path: &str, period: i32, failures: i32) -> Probe {
    http_probe_on("http", path, period, failures)
}

/// An HTTP GET probe on the container port named `port`.
pub fn http_probe_on(port: &str, path: &str, period: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String(port.into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(3),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

pub fn exec_probe(command: &[&str], period: i32, timeout: i32, failures: i32) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(command.iter().map(|s| (*s).to_owned()).collect()),
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(timeout),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

pub fn tcp_probe(port: &str, period: i32, failures: i32) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::String(port.into()),
            host: None,
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(3),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

/// `cpu`/`memory` requests and limits.
pub fn resources(
    request_cpu: &str,
    request_memory: &str,
    limit_cpu: &str,
    limit_memory: &str,
) -> ResourceRequirements {
    let pair = |cpu: &str, memory: &str| {
        BTreeMap::from([
            ("cpu".to_owned(), Quantity(cpu.into())),
            ("memory".to_owned(), Quantity(memory.into())),
        ])
    };
    ResourceRequirements {
        requests: Some(pair(request_cpu, request_memory)),
        limits: Some(pair(limit_cpu, limit_memory)),
        claims: None,
    }
}

/// A user's resources replace the defaults whole: mixing a user's request with our limit
/// could make a request larger than its limit.
pub fn resources_or(
    user: Option<&ResourceRequirements>,
    default: ResourceRequirements,
) -> ResourceRequirements {
    user.cloned().unwrap_or(default)
}

/// A scratch emptyDir, so a read-only root filesystem still has somewhere to write.
pub fn scratch(name: &str, size: &str) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: Some(Quantity(size.into())),
            medium: None,
            mode: None,
        }),
        ..Volume::default()
    }
}

pub fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..VolumeMount::default()
    }
}
