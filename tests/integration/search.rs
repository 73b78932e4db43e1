//! `GET /api/v1/search`: message search over the conversations one is in
//! now, its filters, phrases, exclusions and prefixes, input that must
//! never break it, snippets that are plain text, edits and deletions
//! (contract 3.17; paging and errors in `search_pages`).

use crate::actions::{acked, action_id, delete, edit};
use crate::common::{TestServer, TestUser, WsClient, conversation, message_id};
use natter::protocol::ConversationId;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `/api/v1/search` with these query parameters, properly encoded.
pub(crate) fn search_path(params: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://natter/api/v1/search").unwrap();
    url.query_pairs_mut().extend_pairs(params);
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

pub(crate) async fn search(user: &TestUser, params: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = user.get(&search_path(params)).await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The ids found for `q`, newest first.
pub(crate) async fn found(user: &TestUser, q: &str) -> Vec<String> {
    let (status, page) = search(user, &[("q", q)]).await;
    assert_eq!(status, StatusCode::OK, "{q}: {page}");
    ids(&page)
}

pub(crate) fn ids(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["message_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Sends `text` as `me` and waits for its ack (skipping what others sent).
pub(crate) async fn say(
    ws: &mut WsClient,
    me: &TestUser,
    chat: ConversationId,
    text: &str,
) -> String {
    let id = message_id();
    ws.send_json(&me.send_frame(chat, &id, text)).await;
    loop {
        let frame = ws.recv().await;
        if frame["event"] == "message.ack" && frame["payload"]["message_id"] == id.as_str() {
            return id;
        }
        assert_eq!(frame["event"], "message.receive", "{frame}");
    }
}

#[tokio::test]
async fn a_search_finds_only_the_conversations_one_is_in_now() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    let direct = server.conversation(&alice, &[&bob]).await;
    let group =
        ConversationId::parse(&conversation(&alice, &[&bob, &carol], Some("Trip")).await).unwrap();
    let others = server.conversation(&carol, &[&dave]).await;
    let (mut a, mut b, mut c) = (alice.ws().await, bob.ws().await, carol.ws().await);
    let in_direct = say(&mut a, &alice, direct, "banana bread tonight").await;
    let in_group = say(&mut b, &bob, group, "who brings the banana?").await;
    say(&mut c, &carol, others, "banana split for us two").await;

    let (status, page) = search(&alice, &[("q", "banana")]).await;
    assert_eq!(status, StatusCode::OK);
    // Whole-value equality: each field as the contract writes it.
    let timestamp = page["results"][0]["timestamp"].clone();
    assert!(timestamp.is_i64());
    assert_eq!(
        page["results"][0],
        json!({"message_id": in_group, "conversation_id": group, "kind": "group",
               "title": "Trip", "participant_name": null, "sender_id": bob.id,
               "sender_name": bob.username, "timestamp": timestamp,
               "snippet": [{"text": "who brings the ", "hit": false},
                           {"text": "banana", "hit": true}, {"text": "?", "hit": false}]})
    );
    let direct_hit = &page["results"][1];
    assert_eq!(direct_hit["message_id"], in_direct.as_str());
    assert_eq!(direct_hit["kind"], "direct");
    assert_eq!(direct_hit["title"], Value::Null);
    assert_eq!(direct_hit["participant_name"], bob.username.as_str());
    assert_eq!(ids(&page).len(), 2, "not carol and dave's");
    assert_eq!(page["next_cursor"], Value::Null);
    assert_eq!(found(&dave, "banana").await.len(), 1);

    // Bob leaves the group: its messages are no longer his to find.
    let left = bob
        .post(&format!("/api/v1/conversations/{group}/leave"), &json!({}))
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    assert_eq!(found(&bob, "banana").await, vec![in_direct.clone()]);
    assert_eq!(
        found(&bob, &format!("in:{group} banana")).await,
        Vec::<String>::new()
    );
    assert_eq!(found(&alice, "banana").await, [in_group, in_direct]);
}

#[tokio::test]
async fn phrases_or_exclusions_filters_and_the_word_being_typed() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let chat = server.conversation(&alice, &[&bob]).await;
    let elsewhere = server
        .conversation(&alice, &[&server.user("carol").await])
        .await;
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    let m1 = say(&mut a, &alice, chat, "the pull request is ready").await;
    let m2 = say(&mut b, &bob, chat, "pull the request later").await;
    let m3 = say(&mut b, &bob, chat, "Coffee or tea?").await;
    let m4 = say(&mut a, &alice, chat, "lunch at noon").await;
    let m5 = say(&mut b, &bob, chat, "my lunchbox is here").await;
    let m6 = say(&mut a, &alice, elsewhere, "pull request over there").await;

    let cases: Vec<(String, Vec<&String>)> = vec![
        ("\"pull request\"".into(), vec![&m6, &m1]),
        (format!("\"pull request\" in:{chat}"), vec![&m1]),
        // `request` is the word being typed: `request*`, anywhere.
        (format!("pull request in:{chat}"), vec![&m2, &m1]),
        (format!("in:{chat} pull -ready"), vec![&m2]),
        (format!("from:{} pull in:{chat}", bob.username), vec![&m2]),
        (
            format!("FROM:{} pull", alice.username.to_uppercase()),
            vec![&m6, &m1],
        ),
        (format!("from:@{} request", alice.username), vec![&m6, &m1]),
        ("from:nobody_at_all pull".into(), vec![]),
        ("coffee or lunch".into(), vec![&m5, &m4, &m3]),
        ("coffee or lunch ".into(), vec![&m4, &m3]),
        ("LUN".into(), vec![&m5, &m4]),
        ("lunch -lunchbox".into(), vec![&m4]),
        ("tea".into(), vec![&m3]),
    ];
    for (q, expected) in cases {
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(found(&alice, &q).await, expected, "{q}");
    }
    // A conversation one is not in finds nothing, like one with no match.
    let not_mine = ConversationId::new_v7();
    assert_eq!(
        found(&bob, &format!("in:{not_mine} pull")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        found(&bob, &format!("in:{elsewhere} pull")).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn odd_input_is_a_clean_answer_never_an_error_of_ours() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut a = alice.ws().await;
    let plain = say(&mut a, &alice, chat, "it's a (test) of a:b & c|d!").await;
    for q in [
        "&|!:*()",
        "a & b",
        "'",
        "\\",
        "\\'",
        ":*",
        "test:*",
        "((test",
        "test))",
        "\"unclosed",
        "\"\"test\"\"",
        "a<->b",
        "!test",
        "-test",
        "--test",
        "or",
        "or test",
        "test or",
        "test:",
        "in::",
        "'test'",
        "test\\",
        "é:*",
        "test & !",
        "\u{E000}test\u{E001}",
        "x'::tsquery--",
        "%",
        "_",
        "test\u{0}",
        "日本語",
    ] {
        let (status, body) = search(&alice, &[("q", q)]).await;
        match status {
            StatusCode::OK => assert!(body["results"].is_array(), "{q}: {body}"),
            StatusCode::BAD_REQUEST => {
                assert_eq!(body["code"], "invalid_payload", "{q}: {body}");
                assert_eq!(body["field"], "q", "{q}: {body}");
            }
            other => panic!("{q}: {other} {body}"),
        }
    }
    assert_eq!(found(&alice, "test").await, vec![plain.clone()]);
    assert_eq!(found(&alice, "((test").await, vec![plain.clone()]);
    assert_eq!(found(&alice, "a:b").await, [plain]);
    assert_eq!(
        found(&alice, "-test").await,
        Vec::<String>::new(),
        "only an exclusion"
    );
}

#[tokio::test]
async fn snippets_are_plain_text_pieces_whatever_the_message_holds() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut a = alice.ws().await;
    let text = "<script>alert(\"x\")</script> the link \u{E000}forged\u{E001} &amp; <b>bold</b>";
    let id = say(&mut a, &alice, chat, text).await;
    let (status, page) = search(&bob, &[("q", "link")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&page), [id]);
    assert_eq!(
        page["results"][0]["snippet"],
        json!([{"text": "<script>alert(\"x\")</script> the ", "hit": false},
               {"text": "link", "hit": true},
               {"text": " forged &amp; <b>bold</b>", "hit": false}])
    );
    // The forged marks mark nothing: only what matched is a hit.
    let (_, page) = search(&bob, &[("q", "bold")]).await;
    let pieces = page["results"][0]["snippet"].as_array().unwrap().clone();
    let hits: Vec<&Value> = pieces.iter().filter(|p| p["hit"] == true).collect();
    assert_eq!(hits, [&json!({"text": "bold", "hit": true})]);
    assert!(!page.to_string().contains('\u{E000}'));

    // A long message: the part around the match, not the whole text.
    let long = format!("{} needle {}", "hay ".repeat(300), "straw ".repeat(300));
    say(&mut a, &alice, chat, &long).await;
    let (_, page) = search(&bob, &[("q", "needle")]).await;
    let snippet: String = page["results"][0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert!(
        snippet.contains("needle") && snippet.len() < 400,
        "{snippet}"
    );
}

#[tokio::test]
async fn edited_messages_match_their_new_text_and_deleted_ones_nothing() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut a = alice.ws().await;
    let m = say(&mut a, &alice, chat, "hello wrold").await;
    assert_eq!(found(&bob, "wrold").await, vec![m.clone()]);
    acked(&mut a, &edit(&action_id(), chat, &m, "hello world")).await;
    a.expect_event("message.edited").await;
    assert_eq!(found(&bob, "wrold").await, Vec::<String>::new());
    assert_eq!(found(&bob, "world").await, vec![m.clone()]);
    acked(&mut a, &delete(&action_id(), chat, &m)).await;
    assert_eq!(found(&bob, "world").await, Vec::<String>::new());
    assert_eq!(found(&bob, "hello").await, Vec::<String>::new());
}
