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

/// The bytes of a memory quantity written the usual ways (`256Mi`, `1Gi`, `512M`,
/// `1000000`); `None` for forms the operator does not size from (exponents, fractions).
pub fn memory_bytes(quantity: &Quantity) -> Option<u64> {
    let text = quantity.0.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(digits);
    let factor: u64 = match suffix {
        "" => 1,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(factor)
}

/// The container's memory limit in bytes, when it has one the operator can read.
pub fn memory_limit(resources: &ResourceRequirements) -> Option<u64> {
    resources
        .limits
        .as_ref()?
        .get("memory")
        .and_then(memory_bytes)
}

/// `share` percent of `bytes`, in whole MiB (the unit every store's setting takes).
pub fn mebibytes_of(bytes: u64, share: u64) -> u64 {
    bytes.saturating_mul(share) / 100 / (1 << 20)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    use super::memory_bytes;

    #[test]
    fn memory_quantities_are_read_in_binary_and_decimal_units() {
        for (text, bytes) in [
            ("256Mi", Some(256 << 20)),
            ("1Gi", Some(1 << 30)),
            ("512M", Some(512_000_000)),
            ("1000000", Some(1_000_000)),
            ("64Ki", Some(64 << 10)),
            // Forms nobody writes for a limit are not guessed at.
            ("1e9", None),
            ("1.5Gi", None),
            ("", None),
        ] {
            assert_eq!(memory_bytes(&Quantity(text.into())), bytes, "{text}");
        }
    }
}
