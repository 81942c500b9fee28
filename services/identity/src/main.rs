//! The identity binary: [`identity::Identity`] run by the shared skeleton.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    serving::run::<identity::Identity>().await
}
