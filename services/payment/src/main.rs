//! The payment binary: [`payment::Payment`] run by the shared skeleton.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    serving::run::<payment::Payment>().await
}
