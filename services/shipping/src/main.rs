//! The shipping binary: [`shipping::Shipping`] run by the shared skeleton.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    serving::run::<shipping::Shipping>().await
}
