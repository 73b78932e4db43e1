//! Sessions that end everywhere and on time: sockets of an ended session are
//! closed by the next check, ended sessions are deleted, and a browser's
//! cookie lives exactly as long as its session (extended by use, never past
//! the absolute cap).

use crate::common::{PATIENCE, TestServer, TestUser};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use std::time::Duration;

async fn sessions_of(server: &TestServer, user: &TestUser) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
        .bind(user.id)
        .fetch_one(&server.db)
        .await
        .unwrap()
}

async fn set_session(server: &TestServer, user: &TestUser, created_ago: &str, expires_in: &str) {
    sqlx::query(&format!(
        "UPDATE sessions SET created_at = now() - interval '{created_ago}', \
                             expires_at = now() + interval '{expires_in}' \
         WHERE user_id = $1"
    ))
    .bind(user.id)
    .execute(&server.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn the_sockets_of_an_ended_session_close_at_the_next_check_and_it_is_deleted() {
    let server = TestServer::start_with(&[("NATTER_SESSION_CHECK_SECS", "1")]).await;
    let alice = server.user("alice").await;
    let carol = server.user("carol").await;
    let bob = server.user("bob").await;
    let mut alice_tabs = [alice.ws().await, alice.ws().await];
    let mut carol_ws = carol.ws().await;
    let mut bob_ws = bob.ws().await;

    // Alice's session expired; Carol's is within its idle lifetime but
    // began more than 90 days ago (the absolute cap).
    set_session(&server, &alice, "1 day", "-1 second").await;
    set_session(&server, &carol, "91 days", "10 days").await;
    for tab in &mut alice_tabs {
        assert_eq!(tab.next_close().await, Some(4001), "signed out");
    }
    assert_eq!(carol_ws.next_close().await, Some(4001), "past the cap");
    bob_ws.expect_silence(Duration::from_millis(1500)).await;

    let deadline = tokio::time::Instant::now() + PATIENCE;
    while sessions_of(&server, &alice).await + sessions_of(&server, &carol).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "ended sessions are deleted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sessions_of(&server, &bob).await, 1, "a live one stays");
    assert_eq!(
        carol.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The `Max-Age` of the cookie a signed-in page sets.
async fn cookie_max_age(server: &TestServer, user: &TestUser) -> i64 {
    let page = reqwest::Client::new()
        .get(server.url("/"))
        .header(COOKIE, format!("natter_session={}", user.token))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let cookie = page
        .headers()
        .get(SET_COOKIE)
        .expect("the page renews the cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with(&format!("natter_session={};", user.token)),
        "{cookie}"
    );
    cookie
        .split("; ")
        .find_map(|part| part.strip_prefix("Max-Age="))
        .expect("a Max-Age")
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_cookie_lives_as_long_as_the_session_extended_by_use_up_to_the_cap() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let near = |got: i64, want: i64| (got - want).abs() <= 120;

    let fresh = cookie_max_age(&server, &alice).await;
    assert!(near(fresh, 30 * 86_400), "30 days: {fresh}");
    // Used after three idle weeks: 30 days again from now.
    set_session(&server, &alice, "21 days", "9 days").await;
    let renewed = cookie_max_age(&server, &alice).await;
    assert!(near(renewed, 30 * 86_400), "renewed to 30 days: {renewed}");
    // Eighty-nine and a half days in: only the half day to the cap is left,
    // however it is used.
    set_session(&server, &alice, "89 days 12 hours", "1 hour").await;
    let capped = cookie_max_age(&server, &alice).await;
    assert!(near(capped, 12 * 3600), "half a day: {capped}");
    let stored: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM sessions WHERE user_id = $1",
    )
    .bind(alice.id)
    .fetch_one(&server.db)
    .await
    .unwrap();
    assert!((stored - 90.0 * 86_400.0).abs() < 120.0, "{stored}");
    // A bearer client gets no cookie.
    let me = alice.get("/api/v1/me").await;
    assert_eq!(me.status(), StatusCode::OK);
    assert!(me.headers().get(SET_COOKIE).is_none());
}
