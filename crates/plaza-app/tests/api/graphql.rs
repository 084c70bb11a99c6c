//! `/graphql` over HTTP (seed 004): the ten operations and the rest of
//! the schema, wrong input, strangers, limits, batching, persisted
//! queries and uploads. Subscriptions are in `graphql_ws.rs`.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, Tokens, header};
use crate::on_both_databases;

/// Runs `query` as `token`; the body, after checking that every error
/// has the spec's shape and REST's `type`, `code` and `requestId`.
pub async fn gql(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut req = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "GraphQL answers 200 with errors[]");
    let request_id = header(&res, "x-request-id").expect("x-request-id");
    let body: Value = res.json().await.unwrap();
    for e in body["errors"].as_array().into_iter().flatten() {
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
        let ext = &e["extensions"];
        assert_eq!(ext["requestId"], request_id.as_str(), "{e}");
        assert!(ext["type"].as_str().is_some(), "{e}");
        let code = ext["code"].as_str().expect("code");
        assert!(code.contains('.'), "{e}");
        assert!(ext["status"].as_u64().is_some(), "{e}");
    }
    body
}

/// The data of an answer without errors.
pub fn ok(body: &Value) -> &Value {
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    &body["data"]
}

/// The code of the first error, and that there is one.
pub fn code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error: {body}"))
        .to_owned()
}

async fn sign_up(app: &TestApp, email: &str) -> Tokens {
    let body = gql(
        app,
        None,
        "mutation($e: String!, $p: String!) { registerUser(email: $e, password: $p) { accessToken refreshToken user { id email username } } }",
        json!({"e": email, "p": PASSWORD}),
    )
    .await;
    let payload = &ok(&body)["registerUser"];
    Tokens {
        access: payload["accessToken"].as_str().unwrap().to_owned(),
        refresh: payload["refreshToken"].as_str().unwrap().to_owned(),
        user_id: payload["user"]["id"].as_str().unwrap().to_owned(),
        body: payload.clone(),
    }
}

const CREATE_CHAT: &str = "mutation($d: ChatInput!) { createChat(data: $d) { id type name myRole memberCount members { userId role user { username } } } }";
const SEND: &str = "mutation($c: ID!, $t: String!) { sendMessage(chatId: $c, content: $t) { id seq content chatId sender { id username } } }";

on_both_databases! {
    async fn the_ten_operations_of_seed_004(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = sign_up(&app, "ana@example.com").await;
        let bo = sign_up(&app, "bo@example.com").await;

        // loginUser gives the same tokens as REST sign-in.
        let body = gql(&app, None,
            "mutation($e: String, $p: String!) { loginUser(email: $e, password: $p) { mfaRequired tokens { accessToken tokenType expiresIn user { id } } } }",
            json!({"e": "ana@example.com", "p": PASSWORD})).await;
        let login = &ok(&body)["loginUser"];
        assert_eq!(login["mfaRequired"], false);
        assert_eq!(login["tokens"]["tokenType"], "Bearer");
        assert_eq!(login["tokens"]["user"]["id"], ana.user_id.as_str());
        let me = app.get_as("/api/auth/me", login["tokens"]["accessToken"].as_str().unwrap()).await;
        assert_eq!(me.status(), 200, "a GraphQL token works over REST");

        // getUser: the email to oneself only.
        let q = "query($id: ID!) { getUser(id: $id) { id username email } }";
        let own = gql(&app, Some(&ana.access), q, json!({"id": ana.user_id})).await;
        assert_eq!(ok(&own)["getUser"]["email"], "ana@example.com");
        let other = gql(&app, Some(&bo.access), q, json!({"id": ana.user_id})).await;
        assert_eq!(ok(&other)["getUser"]["email"], Value::Null);

        // updateUser with UserInput; null clears.
        let q = "mutation($id: ID!, $d: UserInput!) { updateUser(id: $id, data: $d) { displayName bio timezone } }";
        let body = gql(&app, Some(&ana.access), q, json!({"id": ana.user_id, "d": {"displayName": "Ana", "bio": "hi", "timezone": "Europe/Moscow"}})).await;
        assert_eq!(ok(&body)["updateUser"], json!({"displayName": "Ana", "bio": "hi", "timezone": "Europe/Moscow"}));
        let body = gql(&app, Some(&ana.access), q, json!({"id": ana.user_id, "d": {"bio": null}})).await;
        assert_eq!(ok(&body)["updateUser"]["bio"], Value::Null);
        assert_eq!(ok(&body)["updateUser"]["displayName"], "Ana", "absent fields stay");

        // createChat: one other person and no name is a direct chat, found again.
        let body = gql(&app, Some(&ana.access), CREATE_CHAT, json!({"d": {"memberIds": [bo.user_id]}})).await;
        let chat = ok(&body)["createChat"].clone();
        assert_eq!(chat["type"], "DIRECT");
        assert_eq!(chat["myRole"], "MEMBER", "a direct chat has no owner");
        assert_eq!(chat["memberCount"], 2);
        let again = gql(&app, Some(&bo.access), CREATE_CHAT, json!({"d": {"memberIds": [ana.user_id]}})).await;
        assert_eq!(ok(&again)["createChat"]["id"], chat["id"]);
        let chat_id = chat["id"].as_str().unwrap().to_owned();

        // sendMessage, and getMessages paging by seq.
        for i in 1..=7 {
            let body = gql(&app, Some(&ana.access), SEND, json!({"c": chat_id, "t": format!("m{i}")})).await;
            let m = &ok(&body)["sendMessage"];
            assert_eq!(m["seq"], i);
            assert_eq!(m["sender"]["username"], "ana");
        }
        let q = "query($c: ID!, $f: Int, $a: String, $l: Int, $b: String) { getMessages(chatId: $c, first: $f, after: $a, last: $l, before: $b) { edges { cursor node { seq content } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
        let newest = gql(&app, Some(&bo.access), q, json!({"c": chat_id, "l": 3})).await;
        let page = &ok(&newest)["getMessages"];
        let seqs: Vec<i64> = page["edges"].as_array().unwrap().iter().map(|e| e["node"]["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, [5, 6, 7]);
        assert_eq!(page["pageInfo"]["hasPreviousPage"], true);
        assert_eq!(page["pageInfo"]["startCursor"], "5");
        let older = gql(&app, Some(&bo.access), q, json!({"c": chat_id, "l": 3, "b": "5"})).await;
        let seqs: Vec<i64> = ok(&older)["getMessages"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, [2, 3, 4]);
        let forward = gql(&app, Some(&bo.access), q, json!({"c": chat_id, "f": 4, "a": "2"})).await;
        let page = &ok(&forward)["getMessages"];
        let seqs: Vec<i64> = page["edges"].as_array().unwrap().iter().map(|e| e["node"]["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, [3, 4, 5, 6]);
        assert_eq!(page["pageInfo"]["hasNextPage"], true);
        assert_eq!(page["pageInfo"]["endCursor"], "6");

        // getChats: the last message and the unread count.
        let q = "{ getChats(first: 10) { edges { node { id unreadCount lastReadSeq lastMessage { seq content sender { username } } } } pageInfo { hasNextPage } } }";
        let body = gql(&app, Some(&bo.access), q, json!({})).await;
        let node = &ok(&body)["getChats"]["edges"][0]["node"];
        assert_eq!(node["id"], chat_id.as_str());
        assert_eq!(node["unreadCount"], 7);
        assert_eq!(node["lastMessage"]["content"], "m7");
        assert_eq!(node["lastMessage"]["sender"]["username"], "ana");
        let marked = gql(&app, Some(&bo.access), "mutation($c: ID!) { markRead(chatId: $c, seq: 7) }", json!({"c": chat_id})).await;
        assert_eq!(ok(&marked)["markRead"], 7);
        let body = gql(&app, Some(&bo.access), q, json!({})).await;
        assert_eq!(ok(&body)["getChats"]["edges"][0]["node"]["unreadCount"], 0);

        // logoutUser ends the session: the token is refused after.
        let body = gql(&app, Some(&bo.access), "mutation { logoutUser }", json!({})).await;
        assert_eq!(ok(&body)["logoutUser"], true);
        let body = gql(&app, Some(&bo.access), "{ me { id } }", json!({})).await;
        assert_eq!(code(&body), "auth.token_invalid");

        // deleteUser: someone else's is refused, one's own goes.
        let body = gql(&app, Some(&ana.access), "mutation($id: ID!) { deleteUser(id: $id) }", json!({"id": bo.user_id})).await;
        assert_eq!(code(&body), "profiles.forbidden");
        let body = gql(&app, Some(&ana.access), "mutation($id: ID!) { deleteUser(id: $id) }", json!({"id": ana.user_id})).await;
        assert_eq!(ok(&body)["deleteUser"], true);
        let res = app.post_json("/api/auth/login", &json!({"email": "ana@example.com", "password": PASSWORD})).await;
        assert_eq!(res.status(), 401, "a deleted account cannot sign in");
    }
}

on_both_databases! {
    async fn the_rest_of_a_messenger(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = sign_up(&app, "ana@example.com").await;
        let bo = sign_up(&app, "bob@example.com").await;
        let cy = sign_up(&app, "cyd@example.com").await;
        let body = gql(&app, Some(&ana.access), CREATE_CHAT, json!({"d": {"type": "GROUP", "name": "Team", "memberIds": [bo.user_id]}})).await;
        let chat = ok(&body)["createChat"]["id"].as_str().unwrap().to_owned();

        // Members and roles.
        let body = gql(&app, Some(&ana.access), "mutation($c: ID!, $u: [ID!]!) { addMembers(chatId: $c, userIds: $u) { userId role } }", json!({"c": chat, "u": [cy.user_id]})).await;
        let members = ok(&body)["addMembers"].as_array().unwrap();
        assert_eq!(members.len(), 3, "the members now");
        assert_eq!(members[2], json!({"userId": cy.user_id, "role": "MEMBER"}));
        let body = gql(&app, Some(&ana.access), "mutation($c: ID!, $u: ID!) { changeRole(chatId: $c, userId: $u, role: ADMIN) }", json!({"c": chat, "u": bo.user_id})).await;
        assert_eq!(ok(&body)["changeRole"], true);
        let body = gql(&app, Some(&cy.access), "query($c: ID!) { getMembers(chatId: $c) { username role } }", json!({"c": chat})).await;
        let roles: Vec<(String, String)> = ok(&body)["getMembers"].as_array().unwrap().iter()
            .map(|m| (m["username"].as_str().unwrap().into(), m["role"].as_str().unwrap().into())).collect();
        assert_eq!(roles, [("ana".into(), "OWNER".into()), ("bob".into(), "ADMIN".into()), ("cyd".into(), "MEMBER".into())]);

        // Edit, delete, react, reply.
        let body = gql(&app, Some(&bo.access), SEND, json!({"c": chat, "t": "hello team"})).await;
        let root = ok(&body)["sendMessage"]["id"].as_str().unwrap().to_owned();
        let body = gql(&app, Some(&bo.access), "mutation($c: ID!, $m: ID!) { editMessage(chatId: $c, messageId: $m, content: \"hello all\") { content editedAt } }", json!({"c": chat, "m": root})).await;
        assert_eq!(ok(&body)["editMessage"]["content"], "hello all");
        let body = gql(&app, Some(&cy.access), "mutation($c: ID!, $m: ID!) { editMessage(chatId: $c, messageId: $m, content: \"mine now\") { content } }", json!({"c": chat, "m": root})).await;
        assert_eq!(code(&body), "chat.forbidden", "only the author edits");
        let body = gql(&app, Some(&cy.access), "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"👍\") { emoji count me } }", json!({"m": root})).await;
        assert_eq!(ok(&body)["addReaction"], json!([{"emoji": "👍", "count": 1, "me": true}]));
        let body = gql(&app, Some(&cy.access), "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"not an emoji at all\") { emoji } }", json!({"m": root})).await;
        assert_eq!(code(&body), "input.invalid");
        let q = "mutation($c: ID!, $t: String!, $r: ID) { sendMessage(chatId: $c, content: $t, replyTo: $r) { replyTo } }";
        let body = gql(&app, Some(&ana.access), q, json!({"c": chat, "t": "a reply", "r": root})).await;
        assert_eq!(ok(&body)["sendMessage"]["replyTo"], root.as_str());
        let body = gql(&app, Some(&bo.access), "query($c: ID!, $m: ID!) { getReplies(chatId: $c, messageId: $m) { total unreadCount items { content } } }", json!({"c": chat, "m": root})).await;
        assert_eq!(ok(&body)["getReplies"]["total"], 1);
        assert_eq!(ok(&body)["getReplies"]["unreadCount"], 1);
        let body = gql(&app, Some(&bo.access), "mutation($c: ID!, $m: ID!) { deleteMessage(chatId: $c, messageId: $m) { deleted content } }", json!({"c": chat, "m": root})).await;
        assert_eq!(ok(&body)["deleteMessage"], json!({"deleted": true, "content": null}));

        // A retried send with the same clientId is one message.
        let q = "mutation($c: ID!) { sendMessage(chatId: $c, content: \"once\", clientId: \"k-1\") { id seq } }";
        let first = gql(&app, Some(&ana.access), q, json!({"c": chat})).await;
        let retry = gql(&app, Some(&ana.access), q, json!({"c": chat})).await;
        assert_eq!(ok(&first)["sendMessage"], ok(&retry)["sendMessage"]);

        // Search people and messages.
        let body = gql(&app, Some(&ana.access), "{ searchUsers(query: \"b\") { edges { node { username email } } } }", json!({})).await;
        assert_eq!(ok(&body)["searchUsers"]["edges"][0]["node"], json!({"username": "bob", "email": null}));
        let body = gql(&app, Some(&cy.access), "{ searchMessages(query: \"once\") { edges { node { content } } } }", json!({})).await;
        assert_eq!(ok(&body)["searchMessages"]["edges"][0]["node"]["content"], "once");

        // Sessions and refresh.
        let body = gql(&app, Some(&ana.access), "{ sessions { id current } }", json!({})).await;
        assert_eq!(ok(&body)["sessions"][0]["current"], true);
        let body = gql(&app, None, "mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken refreshToken } }", json!({"r": ana.refresh})).await;
        assert!(ok(&body)["refreshToken"]["accessToken"].is_string());
        app.clock.advance(app.state.config.auth.refresh_grace.0 + std::time::Duration::from_secs(1));
        let body = gql(&app, None, "mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }", json!({"r": ana.refresh})).await;
        assert_eq!(code(&body), "auth.refresh_reused", "a refresh token is spent once");

        // Notifications: the welcome of registration, read and counted.
        let q = "{ notifications(first: 5) { edges { cursor node { id type read } } } unreadNotificationCount }";
        let mut body = Value::Null;
        for _ in 0..50 {
            body = gql(&app, Some(&cy.access), q, json!({})).await;
            if ok(&body)["unreadNotificationCount"].as_i64() > Some(0) { break; }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let first = &ok(&body)["notifications"]["edges"][0]["node"];
        assert_eq!(first["type"], "user.registered");
        let body = gql(&app, Some(&cy.access), "mutation($id: ID!) { markNotificationRead(id: $id) { read readAt } }", json!({"id": first["id"]})).await;
        assert_eq!(ok(&body)["markNotificationRead"]["read"], true);
        let body = gql(&app, Some(&cy.access), "{ unreadNotificationCount }", json!({})).await;
        assert_eq!(ok(&body)["unreadNotificationCount"], 0);

        // Leaving.
        let body = gql(&app, Some(&cy.access), "mutation($c: ID!) { leaveChat(chatId: $c) }", json!({"c": chat})).await;
        assert_eq!(ok(&body)["leaveChat"], true);
        let body = gql(&app, Some(&cy.access), "query($c: ID!) { getChat(id: $c) { id } }", json!({"c": chat})).await;
        assert_eq!(code(&body), "chat.not_found");
    }
}

#[tokio::test]
async fn wrong_input_gets_rest_codes_with_the_field_and_path() {
    let app = TestApp::spawn().await;
    let body = gql(
        &app,
        None,
        "mutation { registerUser(email: \"not-an-email\", password: \"correct horse battery staple\") { accessToken } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&body), "input.invalid");
    let e = &body["errors"][0];
    assert_eq!(e["path"], json!(["registerUser"]));
    assert!(e["locations"][0]["line"].is_number(), "{e}");
    assert_eq!(e["extensions"]["type"], "validation_error");
    assert_eq!(e["extensions"]["status"], 422);
    assert!(
        e["extensions"]["details"]["fields"]["email"].is_string(),
        "{e}"
    );
    assert!(body["data"].is_null(), "nothing is half-written: {body}");
    let res = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "not-an-email", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 401);

    let body = gql(
        &app,
        None,
        "mutation { registerUser(email: \"a@example.com\", password: \"short\") { accessToken } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&body), "input.invalid");
    assert!(body["errors"][0]["extensions"]["details"]["fields"]["password"].is_string());

    // Signed out: 401's code; a bad token: the token's.
    let body = gql(&app, None, "{ me { id } }", json!({})).await;
    assert_eq!(code(&body), "auth.token_missing");
    assert_eq!(
        body["errors"][0]["extensions"]["type"],
        "authentication_error"
    );
    let body = gql(
        &app,
        Some("nonsense"),
        "{ getChats { edges { cursor } } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&body), "auth.token_invalid");

    let ana = sign_up(&app, "ana@example.com").await;
    for (query, expected) in [
        ("{ getChat(id: \"not-an-id\") { id } }", "chat.not_found"),
        (
            "{ getMessages(chatId: \"0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b\") { edges { cursor } } }",
            "chat.not_found",
        ),
        (
            "{ getChats(first: 101) { edges { cursor } } }",
            "input.invalid",
        ),
        (
            "{ getChats(first: 0) { edges { cursor } } }",
            "input.invalid",
        ),
        (
            "{ getChats(after: \"x\") { edges { cursor } } }",
            "input.invalid",
        ),
        ("{ getUser(id: \"nobody\") { id } }", "users.not_found"),
        (
            "mutation { sendMessage(chatId: \"nope\", content: \"hi\") { id } }",
            "chat.not_found",
        ),
        (
            "mutation { markNotificationRead(id: \"nope\") { id } }",
            "notifications.not_found",
        ),
        ("{ file(id: \"nope\") { id } }", "files.not_found"),
        (
            "mutation { createChat(data: {type: GROUP, memberIds: []}) { id } }",
            "input.invalid",
        ),
        (
            "mutation { createChat(data: {memberIds: [\"x\"]}) { id } }",
            "input.invalid",
        ),
        ("{ getChats { edges { nosuchfield } } }", "graphql.invalid"),
        (
            "{ getChats(first: \"ten\") { edges { cursor } } }",
            "graphql.invalid",
        ),
        ("query {", "graphql.invalid"),
    ] {
        let body = gql(&app, Some(&ana.access), query, json!({})).await;
        assert_eq!(code(&body), expected, "{query}: {body}");
    }

    // A message too long, with NUL, or empty: refused like REST, nothing stored.
    let body = gql(
        &app,
        Some(&ana.access),
        CREATE_CHAT,
        json!({"d": {"type": "GROUP", "name": "Solo"}}),
    )
    .await;
    let chat = ok(&body)["createChat"]["id"].as_str().unwrap().to_owned();
    let long = "x".repeat(4001);
    for text in [long.as_str(), "", "   "] {
        let body = gql(&app, Some(&ana.access), SEND, json!({"c": chat, "t": text})).await;
        assert_eq!(code(&body), "input.invalid", "{body}");
    }
    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&ana.access)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"query": "{}", "variables": {{"c": "{chat}", "t": "a\u0000b"}}}}"#,
            SEND.replace('"', "\\\"")
        ))
        .send()
        .await
        .unwrap();
    let body = crate::helpers::error_body(res, 422, "validation_error").await;
    assert_eq!(body["code"], "input.invalid");
    let body = gql(
        &app,
        Some(&ana.access),
        "query($c: ID!) { getChat(id: $c) { lastSeq } }",
        json!({"c": chat}),
    )
    .await;
    assert_eq!(ok(&body)["getChat"]["lastSeq"], 0, "nothing was stored");

    // Not JSON, not GraphQL.
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body("{ me { id } }")
        .send()
        .await
        .unwrap();
    crate::helpers::error_body(res, 415, "unsupported_media_type").await;
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    crate::helpers::error_body(res, 400, "validation_error").await;
}

#[tokio::test]
async fn limits_batching_get_and_introspection() {
    let app = TestApp::spawn().await;
    let ana = sign_up(&app, "ana@example.com").await;

    // Depth.
    let deep =
        "{ getChats { edges { node { lastMessage { sender { id } } members { user { id } } } } } }";
    let body = gql(&app, Some(&ana.access), deep, json!({})).await;
    assert!(body.get("errors").is_none(), "depth 7 is fine: {body}");

    // Complexity: a hundred chats of a hundred messages' fields is too much.
    let wide = "{ getChats(first: 100) { edges { node { id name type lastSeq lastMessage { id content seq sender { id username displayName bio avatarUrl } } members { userId username role user { id username } } } } } }";
    let body = gql(&app, Some(&ana.access), wide, json!({})).await;
    assert_eq!(code(&body), "graphql.too_complex");

    // Query size.
    let huge = format!("{{ me {{ id }} }} # {}", "x".repeat(40 * 1024));
    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&ana.access)
        .json(&json!({"query": huge}))
        .send()
        .await
        .unwrap();
    let body = crate::helpers::error_body(res, 413, "payload_too_large").await;
    assert_eq!(body["code"], "graphql.query_too_large");

    // Batching is off by default.
    let batch = json!([{"query": "{ me { id } }"}, {"query": "{ me { username } }"}]);
    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&ana.access)
        .json(&batch)
        .send()
        .await
        .unwrap();
    let body = crate::helpers::error_body(res, 400, "validation_error").await;
    assert_eq!(body["code"], "graphql.batching_off");

    // GET runs queries, not mutations.
    let res = app
        .client
        .get(app.url("/graphql?query=%7Bme%7Bid%7D%7D"))
        .bearer_auth(&ana.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(ok(&body)["me"]["id"], ana.user_id.as_str());
    let res = app
        .client
        .get(app.url("/graphql?query=mutation%7BlogoutUser%7D"))
        .bearer_auth(&ana.access)
        .send()
        .await
        .unwrap();
    let body = crate::helpers::error_body(res, 405, "method_not_allowed").await;
    assert_eq!(body["code"], "route.method_not_allowed");
    let body = gql(&app, Some(&ana.access), "{ me { id } }", json!({})).await;
    assert!(
        ok(&body)["me"]["id"].is_string(),
        "the session survived the refused GET"
    );

    // Operations are counted and timed by name.
    let body = gql(
        &app,
        Some(&ana.access),
        "query MyProfile { me { id } }",
        json!({}),
    )
    .await;
    ok(&body);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let counted = metrics.lines().any(|l| {
        l.starts_with("plaza_graphql_operations_total")
            && l.contains(r#"operation="MyProfile""#)
            && l.contains(r#"kind="query""#)
            && l.contains(r#"outcome="ok""#)
    });
    assert!(counted, "{metrics}");
    assert!(
        metrics.contains("plaza_graphql_operation_duration_seconds"),
        "{metrics}"
    );

    // Introspection is on in the embedded mode.
    let body = gql(&app, None, "{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(ok(&body)["__schema"]["queryType"]["name"], "Query");

    // The explorer, with no outside assets.
    let res = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csp = header(&res, "content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let page = res.text().await.unwrap();
    assert!(page.contains("/graphql/explorer.js"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no outside assets"
    );
    let js = app.get("/graphql/explorer.js").await;
    assert_eq!(js.status(), 200);
    assert!(!js.text().await.unwrap().contains("https://"));
}

#[tokio::test]
async fn introspection_off_and_batching_on_when_configured() {
    let app = TestApp::builder()
        .config(|c| {
            c.graphql.introspection = Some(false);
            c.graphql.max_batch = 2;
            c.graphql.max_depth = 4;
        })
        .spawn()
        .await;
    let body = gql(&app, None, "{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(code(&body), "graphql.invalid");
    assert!(body["data"].is_null(), "{body}");
    let body = gql(
        &app,
        None,
        "{ __type(name: \"Query\") { name } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&body), "graphql.invalid");
    let body = gql(&app, None, "{ __typename }", json!({})).await;
    assert_eq!(
        ok(&body)["__typename"],
        "Query",
        "__typename is not introspection"
    );
    let ana = sign_up(&app, "ana@example.com").await;
    let deep = "{ getChats { edges { node { lastMessage { sender { id } } } } } }";
    let body = gql(&app, Some(&ana.access), deep, json!({})).await;
    assert_eq!(code(&body), "graphql.too_deep");
    assert_eq!(body["errors"][0]["extensions"]["type"], "validation_error");
    let batch = json!([{"query": "{ me { id } }"}, {"query": "{ me { username } }"}]);
    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&ana.access)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body[1]["data"]["me"]["username"], "ana");
    let three =
        json!([{"query": "{ me { id } }"}, {"query": "{ me { id } }"}, {"query": "{ me { id } }"}]);
    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&ana.access)
        .json(&three)
        .send()
        .await
        .unwrap();
    crate::helpers::error_body(res, 400, "validation_error").await;
}

#[tokio::test]
async fn automatic_persisted_queries() {
    use sha2::Digest;
    let app = TestApp::spawn().await;
    let ana = sign_up(&app, "ana@example.com").await;
    let query = "query Me { me { username } }";
    let hash: String = sha2::Sha256::digest(query.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let apq = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    let post = |body: Value| {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&ana.access)
            .json(&body)
            .send()
    };
    // The hash alone, unseen: Apollo's error, with plaza's code.
    let body: Value = post(json!({"extensions": apq}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "graphql.persisted_query_not_found"
    );
    // With the text once, then by hash alone.
    let body: Value = post(json!({"query": query, "extensions": apq}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok(&body)["me"]["username"], "ana");
    let body: Value = post(json!({"extensions": apq}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok(&body)["me"]["username"], "ana");
    // A hash that does not match its text is refused.
    let wrong = json!({"persistedQuery": {"version": 1, "sha256Hash": "00"}});
    let body: Value = post(json!({"query": query, "extensions": wrong}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["errors"].is_array(), "{body}");
}

#[tokio::test]
async fn uploads_follow_the_multipart_request_spec() {
    let app = TestApp::spawn().await;
    let ana = sign_up(&app, "ana@example.com").await;
    let bo = sign_up(&app, "bo@example.com").await;
    let upload = |token: String, bytes: Vec<u8>| {
        let operations = json!({"query": "mutation($f: Upload!) { uploadFile(file: $f) { id url contentType byteSize name } }", "variables": {"f": null}});
        let form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", json!({"0": ["variables.f"]}).to_string())
            .part(
                "0",
                reqwest::multipart::Part::bytes(bytes).file_name("notes.txt"),
            );
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(token)
            .multipart(form)
            .send()
    };
    let res = upload(ana.access.clone(), b"hello file".to_vec())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let file = ok(&body)["uploadFile"].clone();
    assert_eq!(file["byteSize"], 10);
    assert_eq!(file["name"], "notes.txt");
    let id = file["id"].as_str().unwrap().to_owned();

    // Attached to a message, its URL serves the bytes to members.
    let body = gql(
        &app,
        Some(&ana.access),
        CREATE_CHAT,
        json!({"d": {"memberIds": [bo.user_id]}}),
    )
    .await;
    let chat = ok(&body)["createChat"]["id"].as_str().unwrap().to_owned();
    let q = "mutation($c: ID!, $a: [ID!]!) { sendMessage(chatId: $c, content: \"see file\", attachmentIds: $a) { attachments { id url } } }";
    let body = gql(&app, Some(&ana.access), q, json!({"c": chat, "a": [id]})).await;
    let url = ok(&body)["sendMessage"]["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app.get_as(&url, &bo.access).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"hello file");

    // Too large for storage.max_file_size: refused before anything is stored.
    let max = usize::try_from(app.state.config.storage.max_file_size.0).unwrap();
    let res = upload(ana.access.clone(), vec![b'x'; max + 1])
        .await
        .unwrap();
    let body = crate::helpers::error_body(res, 413, "payload_too_large").await;
    assert_eq!(body["code"], "input.too_large");
    // Signed out: no upload.
    let res = upload("nonsense".into(), b"x".to_vec()).await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(code(&body), "auth.token_invalid");
}

#[tokio::test]
async fn sign_in_is_rate_limited_as_over_rest() {
    let app = TestApp::builder()
        .config(|c| {
            c.rate_limit.auth =
                plaza_platform::config::Rate::new(3, std::time::Duration::from_secs(60))
        })
        .spawn()
        .await;
    let q = "mutation { loginUser(email: \"x@example.com\", password: \"wrong password here\") { mfaRequired } }";
    for _ in 0..3 {
        let body = gql(&app, None, q, json!({})).await;
        assert_eq!(code(&body), "auth.invalid_credentials");
    }
    let body = gql(&app, None, q, json!({})).await;
    assert_eq!(code(&body), "rate.limited");
    assert_eq!(body["errors"][0]["extensions"]["status"], 429);
    assert!(body["errors"][0]["extensions"]["details"]["retry_after_seconds"].is_number());
    // The same budget as REST's sign-in.
    let res = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "x@example.com", "password": "whatever it is"}),
        )
        .await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn a_second_factor_by_mailed_code() {
    let app = TestApp::spawn().await;
    let ana = sign_up(&app, "ana@example.com").await;
    // Email sign-in codes need a verified address.
    let verify = crate::helpers::link_token(&app.mail_to("ana@example.com", "verify-email").await);
    app.post_json("/api/auth/verify-email", &json!({"token": verify}))
        .await;
    let res = app
        .post_as(
            "/api/auth/2fa/email/enable",
            &ana.access,
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let q = "mutation { loginUser(email: \"ana@example.com\", password: \"correct horse battery staple\") { mfaRequired mfaToken methods tokens { accessToken } } }";
    let body = gql(&app, None, q, json!({})).await;
    let login = &ok(&body)["loginUser"];
    assert_eq!(login["mfaRequired"], true);
    assert!(login["tokens"].is_null());
    assert_eq!(login["methods"], json!(["email", "recovery"]));
    let token = login["mfaToken"].as_str().unwrap().to_owned();
    let mail = app.mail_to("ana@example.com", "sign-in code").await;
    let at = mail.find("code is ").unwrap() + "code is ".len();
    let mailed = mail[at..at + 6].to_owned();
    let finish = "mutation($t: String!, $c: String!) { loginSecondFactor(mfaToken: $t, method: \"email\", code: $c) { accessToken user { id } } }";
    let body = gql(&app, None, finish, json!({"t": token, "c": "000000"})).await;
    assert_eq!(code(&body), "auth.wrong_code");
    let body = gql(&app, None, finish, json!({"t": token, "c": mailed})).await;
    assert_eq!(
        ok(&body)["loginSecondFactor"]["user"]["id"],
        ana.user_id.as_str()
    );

    // A code mailed again on request; a forged challenge is refused.
    let body = gql(&app, None, q, json!({})).await;
    let token = ok(&body)["loginUser"]["mfaToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = gql(
        &app,
        None,
        "mutation($t: String!) { sendLoginCode(mfaToken: $t) }",
        json!({"t": token}),
    )
    .await;
    assert_eq!(ok(&body)["sendLoginCode"], true);
    let body = gql(
        &app,
        None,
        "mutation { sendLoginCode(mfaToken: \"forged\") }",
        json!({}),
    )
    .await;
    assert_eq!(code(&body), "auth.challenge_invalid");
}

/// Every query and mutation that names something, asked by someone who
/// may not see it: "not found" (or, for a profile anyone may read,
/// "forbidden" to change), and never the other person's data.
#[tokio::test]
async fn a_stranger_sees_nothing_of_anyone_else() {
    let app = TestApp::spawn().await;
    let ana = sign_up(&app, "ana@example.com").await;
    let bo = sign_up(&app, "bo@example.com").await;
    let eve = sign_up(&app, "eve@example.com").await;
    let body = gql(
        &app,
        Some(&ana.access),
        CREATE_CHAT,
        json!({"d": {"memberIds": [bo.user_id]}}),
    )
    .await;
    let chat = ok(&body)["createChat"]["id"].as_str().unwrap().to_owned();
    let body = gql(
        &app,
        Some(&ana.access),
        SEND,
        json!({"c": chat, "t": "secret"}),
    )
    .await;
    let message = ok(&body)["sendMessage"]["id"].as_str().unwrap().to_owned();
    let body = gql(
        &app,
        Some(&bo.access),
        "{ notifications { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let mut notification = ok(&body)["notifications"]["edges"][0]["node"]["id"]
        .as_str()
        .map(str::to_owned);
    for _ in 0..50 {
        if notification.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let body = gql(
            &app,
            Some(&bo.access),
            "{ notifications { edges { node { id } } } }",
            json!({}),
        )
        .await;
        notification = ok(&body)["notifications"]["edges"][0]["node"]["id"]
            .as_str()
            .map(str::to_owned);
    }
    let notification = notification.expect("bo's welcome notification");
    let sessions = app
        .get_as("/api/auth/sessions", &ana.access)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let session = sessions["items"][0]["id"].as_str().unwrap().to_owned();

    let vars = json!({"c": chat, "m": message, "u": ana.user_id, "n": notification, "s": session});
    let cases: &[(&str, &str)] = &[
        (
            "query($c: ID!) { getChat(id: $c) { id name } }",
            "chat.not_found",
        ),
        (
            "query($c: ID!) { getMessages(chatId: $c) { edges { node { content } } } }",
            "chat.not_found",
        ),
        (
            "query($c: ID!) { getMembers(chatId: $c) { userId } }",
            "chat.not_found",
        ),
        (
            "query($c: ID!, $m: ID!) { getReplies(chatId: $c, messageId: $m) { total } }",
            "chat.not_found",
        ),
        (
            "mutation($c: ID!) { sendMessage(chatId: $c, content: \"hi\") { id } }",
            "chat.not_found",
        ),
        (
            "mutation($c: ID!, $m: ID!) { editMessage(chatId: $c, messageId: $m, content: \"x\") { id } }",
            "chat.not_found",
        ),
        (
            "mutation($c: ID!, $m: ID!) { deleteMessage(chatId: $c, messageId: $m) { id } }",
            "chat.not_found",
        ),
        (
            "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"👍\") { count } }",
            "chat.message_not_found",
        ),
        (
            "mutation($m: ID!) { removeReaction(messageId: $m, emoji: \"👍\") { count } }",
            "chat.message_not_found",
        ),
        (
            "mutation($c: ID!) { markRead(chatId: $c, seq: 1) }",
            "chat.not_found",
        ),
        (
            "mutation($c: ID!, $m: ID!) { markThreadRead(chatId: $c, messageId: $m, seq: 1) { total } }",
            "chat.not_found",
        ),
        ("mutation($c: ID!) { typing(chatId: $c) }", "chat.not_found"),
        (
            "mutation($c: ID!, $u: ID!) { addMembers(chatId: $c, userIds: [$u]) { userId } }",
            "chat.not_found",
        ),
        (
            "mutation($c: ID!, $u: ID!) { changeRole(chatId: $c, userId: $u, role: MEMBER) }",
            "chat.not_found",
        ),
        (
            "mutation($c: ID!, $u: ID!) { removeMember(chatId: $c, userId: $u) }",
            "chat.not_found",
        ),
        (
            "mutation($c: ID!) { leaveChat(chatId: $c) }",
            "chat.not_found",
        ),
        (
            "mutation($c: ID!) { joinChat(chatId: $c) }",
            "chat.not_found",
        ),
        (
            "mutation($u: ID!) { updateUser(id: $u, data: {bio: \"pwned\"}) { id } }",
            "profiles.forbidden",
        ),
        (
            "mutation($u: ID!) { deleteUser(id: $u) }",
            "profiles.forbidden",
        ),
        (
            "mutation($n: ID!) { markNotificationRead(id: $n) { id } }",
            "notifications.not_found",
        ),
        (
            "mutation($n: ID!) { deleteNotification(id: $n) }",
            "notifications.not_found",
        ),
        (
            "mutation($s: ID!) { revokeSession(id: $s) }",
            "auth.session_not_found",
        ),
    ];
    for (query, expected) in cases {
        let body = gql(&app, Some(&eve.access), query, vars.clone()).await;
        assert_eq!(code(&body), *expected, "{query}: {body}");
        assert!(
            !body.to_string().contains("secret"),
            "{query} leaked: {body}"
        );
    }
    // Lists of one's own show nothing of others.
    let body = gql(&app, Some(&eve.access), "query($c: ID!) { getChats { edges { node { id } } } searchMessages(query: \"secret\") { edges { node { id } } } inChat: searchMessages(query: \"secret\", chatId: $c) { edges { node { id } } } notifications { edges { node { id } } } sessions { id } }", json!({"c": chat})).await;
    let data = ok(&body);
    assert_eq!(data["getChats"]["edges"], json!([]));
    assert_eq!(data["searchMessages"]["edges"], json!([]));
    assert_eq!(data["inChat"]["edges"], json!([]));
    assert!(!data.to_string().contains(&notification));
    assert!(!data.to_string().contains(&session));
    // And nothing changed for the owners.
    let body = gql(
        &app,
        Some(&bo.access),
        "query($c: ID!) { getMessages(chatId: $c) { edges { node { content } } } }",
        json!({"c": chat}),
    )
    .await;
    assert_eq!(
        ok(&body)["getMessages"]["edges"][0]["node"]["content"],
        "secret"
    );
    let body = gql(&app, Some(&ana.access), "{ me { bio } }", json!({})).await;
    assert_eq!(ok(&body)["me"]["bio"], Value::Null);
}

#[test]
fn the_committed_schema_is_the_servers() {
    let committed = include_str!("../../../../docs/schema.graphql");
    let now = plaza_app::graphql::sdl();
    assert!(
        committed == now,
        "docs/schema.graphql is stale: run `cargo run -- graphql schema > docs/schema.graphql`"
    );
}

on_both_databases! {
    async fn meditation_over_graphql(backend: Backend) {
        let app = TestApp::on(backend).await;
        let ana = sign_up(&app, "ana@example.com").await;
        let start = "mutation($t: String, $p: Int) { startMeditation(type: $t, plannedDurationSec: $p) { id type plannedDurationSec endedAt } }";
        let body = gql(&app, Some(&ana.access), start, json!({"t": "yoga", "p": 600})).await;
        assert_eq!(code(&body), "input.invalid");
        let body = gql(&app, Some(&ana.access), start, json!({"t": "breathing", "p": 0})).await;
        assert_eq!(code(&body), "input.invalid");
        let body = gql(&app, Some(&ana.access), start, json!({"t": "breathing", "p": 600})).await;
        let session = ok(&body)["startMeditation"].clone();
        assert_eq!(session["type"], "breathing");
        assert_eq!(session["endedAt"], Value::Null);
        let body = gql(&app, Some(&ana.access), start, json!({"t": "sleep"})).await;
        assert_eq!(code(&body), "meditation.session_active", "one at a time");
        app.clock.advance(std::time::Duration::from_secs(300));
        let end = "mutation($b: Int, $a: Int) { endMeditation(moodBefore: $b, moodAfter: $a) { id durationSec moodAfter } }";
        let body = gql(&app, Some(&ana.access), end, json!({"b": 2, "a": 9})).await;
        assert_eq!(code(&body), "input.invalid");
        let body = gql(&app, Some(&ana.access), end, json!({"b": 2, "a": 4})).await;
        assert_eq!(ok(&body)["endMeditation"], json!({"id": session["id"], "durationSec": 300, "moodAfter": 4}));
        let body = gql(&app, Some(&ana.access), end, json!({})).await;
        assert_eq!(code(&body), "meditation.none_active");
        let q = "{ meditationSessions(first: 10) { edges { node { id durationSec } } pageInfo { hasNextPage } } meditationStats meditationAnalytics(period: DAILY) }";
        let body = gql(&app, Some(&ana.access), q, json!({})).await;
        let data = ok(&body);
        assert_eq!(data["meditationSessions"]["edges"][0]["node"]["durationSec"], 300);
        assert!(data["meditationStats"].is_object(), "{data}");
        assert!(data["meditationAnalytics"].is_object(), "{data}");
        let body = gql(&app, Some(&ana.access), "{ meditationAnalytics(period: WEEKLY, scope: PLATFORM) }", json!({})).await;
        assert_eq!(code(&body), "meditation.platform_for_admins");
        let body = gql(&app, None, "{ meditationStats }", json!({})).await;
        assert_eq!(code(&body), "auth.token_missing");
    }
}
