//! The checkout binary: [`checkout::Checkout`] run by the shared skeleton.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    serving::run::<checkout::Checkout>().await
}
