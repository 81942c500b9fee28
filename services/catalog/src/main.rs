//! The catalog binary: [`catalog::Catalog`] run by the shared skeleton.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    serving::run::<catalog::Catalog>().await
}
