//! `GET /api/v1/search`, continued: cursor paging, the 400s and the 429
//! of the contract (3.17), the page's server function, and every way the
//! server answers a newest-first search (a walk of the newest messages, a
//! wider one, the GIN index within a time, all the GIN index's matches)
//! giving the database's own answer, also to someone whose chats were
//! quiet while the rest of the server was busy.

use crate::common::{TestServer, TestUser, conversation};
use crate::search::{ids, say, search};
use natter::protocol::ConversationId;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn the_cursor_pages_through_every_match_once_while_new_ones_arrive() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let chat = server.conversation(&alice, &[&bob]).await;
    let other = server
        .conversation(&alice, &[&server.user("carol").await])
        .await;
    let mut a = alice.ws().await;
    let mut sent = Vec::new();
    for n in 0..25 {
        let where_ = if n % 3 == 0 { other } else { chat };
        // Some say it more often: a different rank for each count.
        let text = format!("{} number {n}", "apple ".repeat(1 + n % 4));
        sent.push(say(&mut a, &alice, where_, &text).await);
    }
    say(&mut a, &alice, chat, "pear only").await;

    for sort in ["newest", "rank"] {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        for page_number in 0.. {
            let mut params = vec![("q", "apple"), ("limit", "10"), ("sort", sort)];
            if let Some(c) = &cursor {
                params.push(("cursor", c));
            }
            let (status, page) = search(&alice, &params).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert!(ids(&page).len() <= 10);
            seen.extend(ids(&page));
            // New matches arrive between pages: they are not on later ones.
            say(
                &mut a,
                &alice,
                chat,
                &format!("apple late {sort} {page_number}"),
            )
            .await;
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
            assert!(page_number < 10, "paging never ends");
        }
        let expected: Vec<String> = sent.iter().rev().cloned().collect();
        if sort == "rank" {
            // By rank a match that arrived meanwhile may rank below the
            // cursor and show on a later page; none is ever listed twice.
            let mut once = seen.clone();
            once.sort();
            once.dedup();
            assert_eq!(once.len(), seen.len(), "{sort}: none twice");
            for id in &sent {
                assert!(seen.contains(id), "{sort}: {id} found");
            }
            // More apples rank higher: the first four say it four times.
            for id in &seen[..4] {
                let n = sent.iter().position(|s| s == id).unwrap();
                assert_eq!(n % 4, 3, "{sort}: {n}");
            }
        } else {
            assert_eq!(seen, expected, "{sort}: every match once, newest first");
        }
    }
}

#[tokio::test]
async fn a_bad_limit_sort_q_or_cursor_is_400_and_no_session_is_401() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let long = "a".repeat(201);
    for (params, field, words) in [
        (
            vec![("q", "x"), ("limit", "0")],
            "limit",
            "limit must be 1 to 50",
        ),
        (
            vec![("q", "x"), ("limit", "51")],
            "limit",
            "limit must be 1 to 50",
        ),
        (
            vec![("q", "x"), ("limit", "ten")],
            "limit",
            "limit must be 1 to 50",
        ),
        (
            vec![("q", "x"), ("limit", "")],
            "limit",
            "limit must be 1 to 50",
        ),
        (
            vec![("q", "x"), ("sort", "oldest")],
            "sort",
            "sort must be newest or rank",
        ),
        (vec![], "q", "q must be 1 to 200 characters"),
        (vec![("q", " ")], "q", "q must be 1 to 200 characters"),
        (
            vec![("q", long.as_str())],
            "q",
            "q must be 1 to 200 characters",
        ),
        (
            vec![("q", "a\u{0}b")],
            "q",
            "q must not hold control characters",
        ),
        (vec![("q", "from:bob")], "q", "search for at least one word"),
        (
            vec![("q", "in:conv_nope x")],
            "q",
            "in: must name a conversation (in:conv_…)",
        ),
        (
            vec![("q", "from:b! x")],
            "q",
            "from: must name a person (from:username)",
        ),
        (
            vec![("q", "x"), ("cursor", "nope")],
            "cursor",
            "cursor is not one this search gave",
        ),
        (
            vec![
                ("q", "x"),
                ("cursor", "1_2_conv_0190a6f8c2b47cc1a1b2c3d4e5f60718"),
                ("sort", "rank"),
            ],
            "cursor",
            "cursor is not one this search gave",
        ),
    ] {
        let (status, body) = search(&alice, &params).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{params:?}: {body}");
        assert_eq!(
            body,
            json!({"code": "invalid_payload", "message": words, "field": field}),
            "{params:?}"
        );
    }
    let anonymous = reqwest::get(server.url("/api/v1/search?q=x"))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn searches_have_a_budget_of_their_own() {
    let server = TestServer::start_with(&[(
        "NATTER_MESSAGE_SEARCH_BUDGET",
        "{ per-minute = 3, burst = 3 }",
    )])
    .await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    for _ in 0..3 {
        assert_eq!(search(&alice, &[("q", "x")]).await.0, StatusCode::OK);
    }
    // A bad request is refused before it costs anything.
    assert_eq!(
        search(&alice, &[("q", "")]).await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, body) = search(&alice, &[("q", "x")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        body,
        json!({"code": "rate_limited", "message": "too many message searches; wait a moment"})
    );
    assert_eq!(search(&bob, &[("q", "x")]).await.0, StatusCode::OK);
    // People search is another budget.
    assert_eq!(
        alice.get("/api/v1/users?q=bo").await.status(),
        StatusCode::OK
    );
    server.state.limits.clock().advance(Duration::from_secs(60));
    assert_eq!(search(&alice, &[("q", "x")]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_pages_server_function_answers_as_the_json_api() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut a = alice.ws().await;
    say(&mut a, &alice, chat, "meet at the station").await;
    let (_, api) = search(&bob, &[("q", "stat")]).await;
    let answer = bob.post("/api/search", &json!({"q": "stat"})).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.json::<Value>().await.unwrap(), api);
    let refused = bob
        .post("/api/search", &json!({"q": "x", "sort": "best"}))
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(refused.json::<Value>().await.unwrap()["field"], "sort");
}

/// Every page of `user`'s search for `q`, `limit` at a time, followed by
/// its cursor to the end: the ids, in the order given.
async fn every_page(user: &TestUser, q: &str, limit: &str, matches: usize) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut params = vec![("q", q), ("limit", limit)];
        if let Some(c) = &cursor {
            params.push(("cursor", c));
        }
        let (status, page) = search(user, &params).await;
        assert_eq!(status, StatusCode::OK, "{q}: {page}");
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
        assert!(seen.len() <= matches, "{q}: more pages than matches");
    }
}

/// The user's matching messages as the database itself orders them:
/// what every page of the search must add up to.
async fn expected(server: &TestServer, user: uuid::Uuid, q: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT m.message_id FROM messages m \
         JOIN participants p ON p.conversation_id = m.conversation_id \
              AND p.user_id = $1 AND p.left_at IS NULL \
         WHERE m.deleted_at IS NULL \
           AND to_tsvector('simple', m.content) @@ search_query($2, true) \
         ORDER BY m.created_at DESC, m.conversation_id DESC, m.seq DESC",
    )
    .bind(user)
    .bind(q)
    .fetch_all(&server.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn every_way_of_answering_gives_the_databases_own_answer() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    // 20 conversations of 1,500 messages, stored straight into the table
    // (the first walk looks at 4,000); Alice in 4 of them, a fifth of the
    // traffic. Words as often as each way of answering needs: `common` in
    // 30 % of messages (the first walk), `middling` in 2 % (a wider
    // walk), `sparse` in 0.5 % (the GIN index within a time), `rare` in
    // 0.05 % (all the GIN index's matches).
    // Frank is in two more, whose messages are two days older than all
    // of these: nothing of his among the newest, so his searches end in
    // the last resort (his own messages, or the GIN index's matches).
    let carol = server.user("carol").await;
    let (dave, erin) = (server.user("dave").await, server.user("erin").await);
    let frank = server.user("frank").await;
    let mut chats = Vec::new();
    for n in 0..22 {
        let title = format!("g{n}");
        let chat = if n < 4 {
            conversation(&alice, &[&bob, &carol], Some(&title)).await
        } else if n < 20 {
            conversation(&bob, &[&dave, &erin], Some(&title)).await
        } else {
            conversation(&frank, &[&bob, &dave], Some(&title)).await
        };
        chats.push(ConversationId::parse(&chat).unwrap().0);
    }
    sqlx::query(
        "WITH c AS (SELECT id, ord FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord)) \
         INSERT INTO messages (conversation_id, seq, change, message_id, sender_id, content, \
                               client_ts, created_at) \
         SELECT c.id, s, s, 'vol_' || c.ord || '_' || s, $2, \
                'note ' || s \
                || CASE WHEN h % 1000 < 300 THEN ' common' ELSE '' END \
                || CASE WHEN h % 997 < 20 THEN ' middling' ELSE '' END \
                || CASE WHEN h % 1009 < 5 THEN ' sparse' ELSE '' END \
                || CASE WHEN h % 10007 < 5 THEN ' rare' ELSE '' END, \
                0, now() - CASE WHEN c.ord > 20 THEN interval '3 days' ELSE interval '1 day' END \
                   + (s * 20 + c.ord) * interval '1 ms' \
         FROM c, generate_series(1, 1500) s, \
         LATERAL (SELECT abs(hashtext(c.ord || '/' || s)) AS h) r",
    )
    .bind(&chats)
    .bind(bob.id.0)
    .execute(&server.db)
    .await
    .unwrap();
    sqlx::query("UPDATE conversations SET last_seq = 1500, last_change = 1500 WHERE id = ANY($1)")
        .bind(&chats)
        .execute(&server.db)
        .await
        .unwrap();
    // Indexed the way the server's indexer does it (it never heard of them).
    sqlx::query("SELECT count(*) FROM index_messages($1, 1500)")
        .bind(&chats)
        .execute(&server.db)
        .await
        .unwrap();
    sqlx::query("VACUUM ANALYZE messages, message_words")
        .execute(&server.db)
        .await
        .unwrap();

    let searches = [
        "common",
        "middling",
        "sparse",
        "rare",
        "note middling",
        "rare or sparse",
    ];
    // Pages of 20 and of 50 take different ways for the same words.
    for (q, limit) in searches.into_iter().flat_map(|q| [(q, "20"), (q, "50")]) {
        let want = expected(&server, alice.id.0, q).await;
        assert!(!want.is_empty(), "{q}: the data holds some");
        let seen = every_page(&alice, q, limit, want.len()).await;
        assert_eq!(seen, want, "{q} by {limit}: every match once, newest first");
    }
    // `common` is in more of the server's messages than Frank's chats
    // hold (his own are read); the others are in fewer (the index's).
    for q in ["common", "rare", "note middling", "common -middling"] {
        let want = expected(&server, frank.id.0, q).await;
        let seen = every_page(&frank, q, "20", want.len()).await;
        assert_eq!(seen, want, "{q}, for Frank: every match once, newest first");
        assert!(
            seen.iter()
                .all(|id| id.starts_with("vol_21_") || id.starts_with("vol_22_"))
        );
    }
    assert!(!expected(&server, frank.id.0, "common").await.is_empty());
    // In one conversation: its matches alone, whatever the others hold.
    let only = ConversationId(chats[1]);
    let all_common = expected(&server, alice.id.0, "common").await;
    let mut in_one: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = format!("in:{only} common");
        let mut params = vec![("q", q.as_str()), ("limit", "50")];
        if let Some(c) = &cursor {
            params.push(("cursor", c));
        }
        let (status, page) = search(&alice, &params).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        in_one.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let want: Vec<String> = all_common
        .into_iter()
        .filter(|id| id.starts_with("vol_2_"))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(in_one, want, "in: one conversation, every match once");
}
