//! argon2id with the argon2 crate's defaults (m=19456 KiB, t=2, p=1: OWASP's minimum),
//! stored as a PHC string. One hash is tens of milliseconds of CPU, so it runs on the
//! blocking pool, never on the async workers, and at most one per core at once: each
//! holds 19 MiB while it runs, so more at once would only add memory (and wait for a
//! core anyway). The others wait their turn.

use std::{num::NonZero, sync::LazyLock};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{self, SaltString, rand_core::OsRng},
};
use serving::Problem;
use tokio::sync::Semaphore;

use crate::domain::Password;

/// What a login with an unknown e-mail is checked against, so it costs one full
/// verification like a wrong password does and timing does not tell which accounts
/// exist. Random salt, same parameters as real hashes; nothing ever matches it usefully
/// because its answer is thrown away.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_now("timing equaliser, never a real password").expect("hashing with default parameters")
});

/// One permit per core the process may use (its CPU limit included).
static HASHING: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(1, NonZero::get)));

/// Computes the dummy hash ahead of the first login that needs it.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

/// Hashes a new password with a fresh random salt.
pub async fn hash(password: Password) -> Result<String, Problem> {
    blocking(move || hash_now(password.expose())).await
}

/// Whether `password` matches `stored`; with no stored hash (unknown account) it does
/// the same work against the dummy hash and answers `false`.
pub async fn verify(password: Password, stored: Option<String>) -> Result<bool, Problem> {
    blocking(move || match stored {
        Some(stored) => verify_now(password.expose(), &stored),
        None => verify_now(password.expose(), &DUMMY_HASH).map(|_| false),
    })
    .await
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, password_hash::Error> + Send + 'static,
) -> Result<T, Problem> {
    let turn = HASHING
        .acquire()
        .await
        .map_err(|err| Problem::internal(&err))?;
    // The permit goes with the work: a request given up on still hashes to the end.
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    })
    .await
    .map_err(|err| Problem::internal(&err))?
    .map_err(|err| Problem::internal(&err))
}

fn hash_now(password: &str) -> Result<String, password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// A mismatch is `Ok(false)`; a stored value that is not a usable PHC string is an error
/// (a bug or a corrupted row), not a wrong password.
fn verify_now(password: &str, stored: &str) -> Result<bool, password_hash::Error> {
    let parsed = PasswordHash::new(stored)?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(password_hash::Error::Password) => Ok(false),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_a_fresh_salt() {
        let first = hash_now("correct horse battery").unwrap();
        let second = hash_now("correct horse battery").unwrap();
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second, "each hash has its own salt");
    }

    #[test]
    fn only_the_right_password_verifies() {
        let stored = hash_now("correct horse battery").unwrap();
        assert!(verify_now("correct horse battery", &stored).unwrap());
        assert!(!verify_now("correct horse battery!", &stored).unwrap());
    }

    #[test]
    fn a_corrupted_stored_hash_is_an_error_not_a_mismatch() {
        assert!(verify_now("correct horse battery", "not a phc string").is_err());
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let password =
            Password::try_from("timing equaliser, never a real password".to_owned()).unwrap();
        assert!(!verify(password, None).await.unwrap());
    }
}
