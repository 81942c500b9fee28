//! The cart binary: [`cart::Cart`] run by the shared skeleton.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    serving::run::<cart::Cart>().await
}
