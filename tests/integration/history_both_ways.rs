//! History pages that page both ways (contract 3.8): `around=` holds the
//! message with a cursor each way, `after=` pages newer to the newest
//! without repeats while messages arrive, the refusals of `after`, and the
//! page's `/api/history_window`.

use crate::common::{TestServer, TestUser};
use crate::history::{get, ids_of, send_all};
use natter::protocol::ConversationId;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn page_at(user: &TestUser, conversation: ConversationId, query: &str) -> Value {
    let (status, page) = get(user, &format!("/api/v1/chat/{conversation}?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    page
}

#[tokio::test]
async fn around_pages_both_ways_and_after_pages_newer_to_the_newest_without_repeats() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut ws = alice.ws().await;
    let m = send_all(
        &mut ws,
        &alice,
        conversation,
        (0..60).map(|n| format!("m{n}")),
    )
    .await;
    let newest_first =
        |from: usize, to: usize| -> Vec<String> { m[from..=to].iter().rev().cloned().collect() };

    // A page around m20: four newer, the message, five older; a cursor
    // each way.
    let page = page_at(&bob, conversation, &format!("around={}&limit=10", m[20])).await;
    assert_eq!(ids_of(&page), newest_first(15, 24));
    assert_eq!(page["next_cursor"], m[15].as_str());
    assert_eq!(page["newer_cursor"], m[24].as_str());
    // Older from there, as ever.
    let older = page_at(&bob, conversation, &format!("cursor={}&limit=10", m[15])).await;
    assert_eq!(ids_of(&older), newest_first(5, 14));
    assert!(
        older.get("newer_cursor").is_none(),
        "a cursor page is as it was"
    );

    // Newer, page by page, while more arrive: each message once, in order.
    let mut seen = ids_of(&page);
    let mut after = page["newer_cursor"].as_str().unwrap().to_owned();
    let mut arrived = Vec::new();
    for round in 0.. {
        let page = page_at(&bob, conversation, &format!("after={after}&limit=10")).await;
        let ids = ids_of(&page);
        assert!(ids.len() <= 10);
        // Newest first within the page; the page right above the last.
        let mut in_order = ids.clone();
        in_order.reverse();
        seen.splice(0..0, ids.iter().cloned());
        assert_eq!(
            page["next_cursor"],
            json!(ids.last()),
            "its oldest, for paging back"
        );
        if round == 1 {
            arrived = send_all(
                &mut ws,
                &alice,
                conversation,
                (0..3).map(|n| format!("late {n}")),
            )
            .await;
        }
        match page["newer_cursor"].as_str() {
            Some(next) => {
                assert_eq!(Some(next), ids.first().map(String::as_str));
                after = next.to_owned();
            }
            None => break,
        }
        assert!(round < 20, "paging never ends");
    }
    let mut all = m.clone();
    all.extend(arrived);
    let expected: Vec<String> = all[15..].iter().rev().cloned().collect();
    assert_eq!(seen, expected, "every newer message once, up to the newest");

    // After the newest: nothing, and nothing either way.
    let last = page_at(
        &bob,
        conversation,
        &format!("after={}", all.last().unwrap()),
    )
    .await;
    assert_eq!(last["messages"], json!([]));
    assert_eq!(last["next_cursor"], Value::Null);
    assert_eq!(last["newer_cursor"], Value::Null);
    // Around the newest: no newer cursor; around the oldest: no older one.
    let top = page_at(
        &bob,
        conversation,
        &format!("around={}&limit=5", all.last().unwrap()),
    )
    .await;
    assert_eq!(top["newer_cursor"], Value::Null);
    let bottom = page_at(&bob, conversation, &format!("around={}&limit=5", m[0])).await;
    assert_eq!(bottom["next_cursor"], Value::Null);
    assert_eq!(bottom["newer_cursor"], m[2].as_str());
}

#[tokio::test]
async fn after_is_refused_with_another_window_or_a_message_of_elsewhere() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let with_bob = server.conversation(&alice, &[&bob]).await;
    let with_carol = server.conversation(&alice, &[&carol]).await;
    let mut ws = alice.ws().await;
    let here = send_all(&mut ws, &alice, with_bob, ["here".to_owned()]).await;
    let elsewhere = send_all(&mut ws, &alice, with_carol, ["there".to_owned()]).await;
    for (query, words) in [
        (
            format!("after={}&cursor={}", here[0], here[0]),
            "give only one of cursor, around and after",
        ),
        (
            format!("after={}&around={}", here[0], here[0]),
            "give only one of cursor, around and after",
        ),
        (
            format!("after={}", elsewhere[0]),
            "after is not a message of this conversation",
        ),
        (
            "after=not%20an%20id".to_owned(),
            "after is not a message of this conversation",
        ),
    ] {
        let (status, error) = get(&alice, &format!("/api/v1/chat/{with_bob}?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            error,
            json!({"code": "invalid_payload", "message": words, "field": "after"}),
            "{query}"
        );
    }
    // Not a member: the same 404 as ever, whatever the window.
    let (status, _) = get(
        &carol,
        &format!("/api/v1/chat/{with_bob}?after={}", here[0]),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_pages_history_window_pages_both_ways_like_the_json_api() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut ws = alice.ws().await;
    let m = send_all(
        &mut ws,
        &alice,
        conversation,
        (0..120).map(|n| format!("m{n}")),
    )
    .await;
    let call = |body: Value| {
        let bob = bob.clone();
        async move {
            let answer = bob.post("/api/history_window", &body).await;
            assert_eq!(answer.status(), StatusCode::OK);
            answer.json::<Value>().await.unwrap()
        }
    };
    let around = call(json!({"id": conversation, "around": m[60]})).await;
    let (_, api) = get(
        &bob,
        &format!("/api/v1/chat/{conversation}?around={}&limit=50", m[60]),
    )
    .await;
    assert_eq!(around, api);
    assert_eq!(around["newer_cursor"], m[84].as_str());
    let after = call(json!({"id": conversation, "after": m[84]})).await;
    assert_eq!(
        ids_of(&after),
        m[85..=119].iter().rev().cloned().collect::<Vec<_>>()
    );
    assert_eq!(after["newer_cursor"], Value::Null);
    let newest = call(json!({"id": conversation})).await;
    assert_eq!(newest["newer_cursor"], Value::Null);
    assert_eq!(newest["next_cursor"], m[70].as_str());
}

/// Opening a conversation (`/api/conversation`, as the page does) with
/// more than a page unread starts where the reader left off: their read
/// marker and a few read messages above it, the unread ones below, and
/// the cursor for the newer pages. Otherwise, or asked for the newest, the
/// newest page.
#[tokio::test]
async fn opening_with_more_than_a_page_unread_starts_where_i_left_off() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let (mut to_alice, mut to_bob) = (alice.ws().await, bob.ws().await);
    let old = send_all(
        &mut to_alice,
        &alice,
        conversation,
        (0..10).map(|n| format!("old {n}")),
    )
    .await;
    // Bob's own message moves his read marker to it.
    let mine = send_all(
        &mut to_bob,
        &bob,
        conversation,
        ["read up to here".to_owned()],
    )
    .await;
    let new = send_all(
        &mut to_alice,
        &alice,
        conversation,
        (0..90).map(|n| format!("new {n}")),
    )
    .await;
    let open = |user: &TestUser, body: Value| {
        let user = user.clone();
        async move {
            let answer = user.post("/api/conversation", &body).await;
            assert_eq!(answer.status(), StatusCode::OK);
            answer.json::<Value>().await.unwrap()
        }
    };

    let view = open(&bob, json!({"id": conversation})).await;
    let mut expected: Vec<String> = old[5..].to_vec();
    expected.extend(mine.iter().cloned());
    expected.extend(new[..44].iter().cloned());
    expected.reverse();
    assert_eq!(
        ids_of(&view["page"]),
        expected,
        "5 read, the marker, 44 unread"
    );
    assert_eq!(view["newer"], new[43].as_str());
    assert_eq!(view["page"]["next_cursor"], old[5].as_str());

    // Asked for the newest ("Jump to latest"): the newest page.
    let newest = open(&bob, json!({"id": conversation, "newest": true})).await;
    let newest_ids = ids_of(&newest["page"]);
    assert_eq!(newest_ids.first(), new.last());
    assert_eq!(newest["newer"], Value::Null);
    // Alice read everything she sent: her newest page.
    let hers = open(&alice, json!({"id": conversation})).await;
    assert_eq!(ids_of(&hers["page"]), newest_ids);
    assert_eq!(hers["newer"], Value::Null);

    // Once Bob's marker is inside the newest page, the newest page again.
    send_all(&mut to_bob, &bob, conversation, ["caught up".to_owned()]).await;
    let again = open(&bob, json!({"id": conversation})).await;
    assert_eq!(again["newer"], Value::Null);
    assert_eq!(ids_of(&again["page"]).len(), 40);
}
