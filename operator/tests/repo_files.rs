//! The files of the kind path that cannot run here (no Docker engine): e2e/kind/kind-config.yaml,
//! the CI workflow that runs e2e/kind/e2e.sh, and the images e2e/kind/up.sh builds and
//! loads, checked against what the scripts rely on and what the operator renders.

use std::{fs, path::PathBuf};

use operator::{
    crd::DEFAULT_JAEGER_IMAGE,
    render::{
        component::{App, Store},
        gateway,
    },
};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &str) -> Value {
    yaml_serde::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn kind_config_is_a_cluster_mapping_the_frontends_node_port_to_the_hosts_8080() {
    let config = yaml("e2e/kind/kind-config.yaml");
    assert_eq!(config["apiVersion"], "kind.x-k8s.io/v1alpha4");
    assert_eq!(config["kind"], "Cluster");
    // The scripts read the cluster's name from this file (`name: ...`).
    assert_eq!(config["name"], "microshop");
    assert!(
        read("e2e/kind/kind-config.yaml")
            .lines()
            .any(|l| l == "name: microshop"),
        "a top-level `name:` line, as the scripts' sed expects"
    );
    let nodes = config["nodes"].as_array().unwrap();
    let control_plane = nodes
        .iter()
        .find(|n| n["role"] == "control-plane")
        .expect("a control-plane node");
    let mappings = control_plane["extraPortMappings"].as_array().unwrap();
    assert!(
        mappings.iter().any(|m| m["containerPort"] == 30080
            && m["hostPort"] == 8080
            && m["protocol"].as_str().unwrap_or("TCP") == "TCP"),
        "the smoke test asks http://127.0.0.1:8080/ for the frontend: {mappings:?}"
    );
    // ...which is the node port the kind Shop pins.
    let shop = yaml("e2e/kind/shop.yaml");
    assert_eq!(shop["spec"]["exposure"]["type"], "NodePort");
    assert_eq!(shop["spec"]["exposure"]["nodePort"], 30080);
    assert_eq!(
        shop["spec"]["imagePullPolicy"], "Never",
        "images are loaded into the node, never pulled"
    );
}

#[test]
fn the_e2e_workflow_runs_the_kind_script_and_keeps_its_logs() {
    let workflow = yaml(".github/workflows/e2e.yaml");
    let on = &workflow["on"];
    assert!(
        on.is_object(),
        "`on` parsed as a key, with triggers: {on:?}"
    );
    assert!(on.get("pull_request").is_some() && on.get("push").is_some());
    let jobs = workflow["jobs"].as_object().unwrap();
    let (name, job) = jobs
        .iter()
        .find(|(_, job)| {
            job["steps"].as_array().is_some_and(|steps| {
                steps.iter().any(|s| {
                    s["run"]
                        .as_str()
                        .is_some_and(|r| r.trim() == "./e2e/kind/e2e.sh")
                })
            })
        })
        .expect("a job that runs ./e2e/kind/e2e.sh");
    assert!(
        job["runs-on"].as_str().unwrap().starts_with("ubuntu-"),
        "{name}: a hosted runner with Docker"
    );
    let steps = job["steps"].as_array().unwrap();
    let uses = |prefix: &str| {
        steps
            .iter()
            .position(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(prefix)))
    };
    let run_at = steps
        .iter()
        .position(|s| s["run"].as_str().map(str::trim) == Some("./e2e/kind/e2e.sh"))
        .unwrap();
    let checkout = uses("actions/checkout@").expect("checkout");
    let go = uses("actions/setup-go@").expect("setup-go: kind is built with go install");
    assert!(checkout < run_at && go < run_at);

    let upload_at = uses("actions/upload-artifact@").expect("the logs uploaded");
    let upload = &steps[upload_at];
    assert!(upload_at > run_at);
    assert_eq!(
        upload["if"], "always()",
        "kept when the test fails above all"
    );
    // The script writes its logs to $KIND_E2E_LOGS; the artifact is that directory.
    let logs = job["env"]["KIND_E2E_LOGS"]
        .as_str()
        .expect("KIND_E2E_LOGS set");
    let path = upload["with"]["path"].as_str().unwrap();
    assert!(logs.ends_with(path), "uploads {path}, logs go to {logs}");
    assert!(
        read("e2e/kind/e2e.sh").contains("KIND_E2E_LOGS"),
        "the script honours KIND_E2E_LOGS"
    );
}

/// The array assigned to `name=(...)` in a bash script.
fn bash_array(script: &str, name: &str) -> Vec<String> {
    let start = script
        .find(&format!("\n{name}=("))
        .unwrap_or_else(|| panic!("no {name}=( in the script"));
    let rest = &script[start + name.len() + 3..];
    rest[..rest.find(')').unwrap()]
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn kind_up_builds_and_loads_every_image_the_operator_runs() {
    let up = read("e2e/kind/up.sh");
    let dockerfile = read("Dockerfile");
    let targets = bash_array(&up, "TARGETS");
    // One image per app the project builds (the gateway is KrakenD's), and the operator.
    let mut expected: Vec<String> = App::ALL
        .iter()
        .filter(|app| **app != App::Gateway)
        .map(|app| app.name().to_owned())
        .collect();
    expected.push("operator".into());
    assert_eq!(targets, expected);
    for target in &targets {
        assert!(
            dockerfile.contains(&format!("\nFROM runtime AS {target}\n")),
            "no Dockerfile target {target}"
        );
    }
    assert!(up.contains("REGISTRY=ghcr.io/microshop"));
    assert_eq!(operator::crd::DEFAULT_IMAGE_REGISTRY, "ghcr.io/microshop");

    let mut third_party: Vec<String> = Store::ALL
        .iter()
        .map(|s| s.default_image().to_owned())
        .collect();
    third_party.extend([gateway::IMAGE.to_owned(), DEFAULT_JAEGER_IMAGE.to_owned()]);
    third_party.dedup();
    assert_eq!(bash_array(&up, "THIRD_PARTY"), third_party);
}

#[test]
fn the_docker_build_context_holds_every_workspace_member() {
    let dockerfile = read("Dockerfile");
    let ignore = read(".dockerignore");
    for member in workspace_members(&read("Cargo.toml")) {
        let top = member.split('/').next().unwrap();
        assert!(
            dockerfile.contains(&format!("COPY {member} "))
                || dockerfile.contains(&format!("COPY {top} ")),
            "the Dockerfile copies no {member}: cargo cannot load the workspace without it"
        );
        if ignore.lines().any(|l| l == format!("{top}/*")) {
            assert!(
                ignore.lines().any(|l| l == format!("!{member}")),
                ".dockerignore leaves {member} out of the build context"
            );
        }
    }
}

/// The `members` of the workspace's Cargo.toml (one line, as it is written there).
fn workspace_members(manifest: &str) -> Vec<String> {
    let line = manifest
        .lines()
        .find(|l| l.starts_with("members = ["))
        .expect("a one-line `members = [...]`");
    line["members = [".len()..line.rfind(']').unwrap()]
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}
