//! The account record (every seed's users): the row, its validated fields,
//! password rules and hashing, and the operations other slices compose into
//! their own units of work (`service`). No routes: profiles and the
//! directory are `profiles`, signing in is `auth`.

mod credentials_store;
pub mod error;
pub mod fields;
pub mod model;
pub mod password;
pub mod service;
mod store;

pub use error::CreateUserError;
pub use model::{Audience, NewUser, User, UserView};
pub use service::{hash_password, insert_user};
