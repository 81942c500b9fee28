//! The frontend binary: [`frontend::Frontend`] run by the shared skeleton.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    serving::run::<frontend::Frontend>().await
}
