//! Account creation (what `plaza admin create-user` runs).

use plaza_app::auth::accounts::create_user;
use plaza_app::users::password::Password;
use plaza_app::users::{CreateUserError, NewUser};
use plaza_core::{Email, Role, Username};

use crate::helpers::TestApp;

fn new_user(email: &str, username: Option<&str>) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        username: username.map(|u| Username::parse(u).unwrap()),
        display_name: None,
        password: Some(Password::parse("correct horse battery").unwrap()),
        email_verified: false,
        role: Role::User,
    }
}

crate::on_both_databases! {
    async fn emails_and_usernames_are_unique_regardless_of_case(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = create_user(&app.state, new_user("Ana@Example.com", None)).await.unwrap();
        assert_eq!(ana.email.as_str(), "Ana@example.com");
        assert_eq!(ana.username.as_str(), "ana");
        assert_eq!(ana.role, Role::User);

        let err = create_user(&app.state, new_user("ana@EXAMPLE.COM", None)).await.unwrap_err();
        assert!(matches!(err, CreateUserError::EmailTaken), "{err}");
        let err = create_user(&app.state, new_user("other@example.com", Some("ANA"))).await.unwrap_err();
        assert!(matches!(err, CreateUserError::UsernameTaken), "{err}");

        // A generated username that is taken gets a number.
        let second = create_user(&app.state, new_user("ana@elsewhere.org", None)).await.unwrap();
        assert!(second.username.as_str().starts_with("ana") && second.username.as_str().len() == 7, "{:?}", second.username);

        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(app.state.db.reader()).await.unwrap();
        assert_eq!(count, 2, "the refused ones left nothing behind");
        let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(ana.id)
            .fetch_one(app.state.db.reader())
            .await
            .unwrap();
        assert!(app.state.passwords.verify("correct horse battery", &hash).await.unwrap());
    }
}
