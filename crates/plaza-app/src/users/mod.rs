//! User accounts. The foundation holds what `plaza admin create-user` needs:
//! the account record, password rules and hashing; sign-up, sign-in and
//! profiles build on it.

pub mod model;
pub mod password;
pub mod service;
pub mod store;

pub use model::{Audience, NewUser, User, UserView};
pub use service::{CreateUserError, create_user, hash_password, insert_user, profile};
