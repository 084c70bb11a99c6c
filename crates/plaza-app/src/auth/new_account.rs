//! A new account, in the caller's unit of work: the record, and seed 003's
//! welcome. Registration, social sign-in and admins all make accounts here.

use plaza_platform::Work;

use crate::notifications::Notice;
use crate::users::{self, CreateUserError, NewUser, User};

/// Creates an account in `work`, with seed 003's welcome (a mail and a
/// notice in the app).
pub async fn insert(
    work: &mut Work<'_>,
    new: NewUser,
    hash: Option<&str>,
) -> Result<User, CreateUserError> {
    let user = users::insert_user(work, new, hash).await?;
    let welcome = Notice::template("user.registered", serde_json::json!({}));
    crate::notifications::send(work, &[user.id], &welcome).await?;
    Ok(user)
}
