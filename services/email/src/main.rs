//! The email binary: [`email::Email`] run by the shared skeleton.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    serving::run::<email::Email>().await
}
