//! Many shops at once: one operator, twenty namespaces.

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;

use crate::{harness::operator, namespace::TestNamespace};

const SHOPS: usize = 20;

#[tokio::test]
#[ignore = "needs a cluster: e2e/tests/cluster-test.sh"]
async fn twenty_shops_in_twenty_namespaces_all_become_ready() {
    operator();
    let prefixes: Vec<String> = (0..SHOPS).map(|i| format!("scale-{i}")).collect();
    let namespaces = join_all(prefixes.iter().map(|p| TestNamespace::create(p))).await;
    let started = Instant::now();
    join_all(namespaces.iter().map(|ns| ns.apply_shop("shop", json!({})))).await;
    let shops = join_all(
        namespaces
            .iter()
            .map(|ns| ns.wait_ready("shop", Duration::from_secs(600))),
    )
    .await;
    println!(
        "{SHOPS} shops Ready {:.1} s after they were applied",
        started.elapsed().as_secs_f64()
    );
    for shop in shops {
        assert_eq!(
            shop.status.unwrap().components_ready.as_deref(),
            Some("13/13")
        );
    }
    join_all(namespaces.into_iter().map(TestNamespace::delete)).await;
}
