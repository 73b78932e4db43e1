//! Search indexing behind the send (migration 0011): a send does not index
//! its message, the indexer does shortly after; yet a search finds every
//! message acknowledged before it, and nothing a node stored is left out of
//! the index for good when that node stops before indexing it.

use crate::common::{TestServer, TestUser, conversation, store_unannounced, test_config};
use crate::search::{found, say};
use natter::protocol::ConversationId;

/// Whether `message_id` has its words in the index yet.
async fn indexed(server: &TestServer, message_id: &str) -> bool {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM message_words w JOIN messages m \
         ON m.conversation_id = w.conversation_id AND m.seq = w.seq WHERE m.message_id = $1)",
    )
    .bind(message_id)
    .fetch_one(&server.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_acknowledged_message_is_found_by_the_next_search_though_indexed_behind_the_send() {
    // The indexer would wait a minute: only the search's asking indexes.
    let server = TestServer::start_with(&[("NATTER_SEARCH_INDEX_LAG_MS", "60000")]).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut ws = alice.ws().await;
    let first = say(&mut ws, &alice, chat, "quarterly figures attached").await;
    let second = say(&mut ws, &alice, chat, "the quarterly figures again").await;
    assert!(
        !indexed(&server, &first).await && !indexed(&server, &second).await,
        "the send itself indexes nothing"
    );
    assert_eq!(
        found(&bob, "quarterly").await,
        vec![second.clone(), first.clone()]
    );
    assert!(indexed(&server, &first).await && indexed(&server, &second).await);
    // Each stored once in the index, whatever asks again.
    let third = say(&mut ws, &alice, chat, "quarterly, the last time").await;
    assert_eq!(found(&alice, "quarterly").await, vec![third, second, first]);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM message_words")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(rows, 3);
}

#[tokio::test]
async fn without_a_search_the_index_catches_up_by_itself() {
    let server = TestServer::start_with(&[("NATTER_SEARCH_INDEX_LAG_MS", "50")]).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let chat = server.conversation(&alice, &[&bob]).await;
    let mut ws = alice.ws().await;
    let id = say(&mut ws, &alice, chat, "indexed on its own").await;
    for _ in 0..100 {
        if indexed(&server, &id).await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("not indexed 5 s after its commit");
}

#[tokio::test]
async fn what_a_node_stored_but_never_indexed_is_found_once_a_node_starts() {
    let first = TestServer::start().await;
    let alice = first.user("alice").await;
    let bob = first.user("bob").await;
    let chat = conversation(&alice, &[&bob], None).await;
    let chat = ConversationId::parse(&chat).unwrap();
    // Committed, then the node died: no ack, no fan-out, no indexing.
    store_unannounced(
        &first.db,
        chat,
        &alice,
        &crate::common::message_id(),
        "orphaned words",
    )
    .await;
    assert_eq!(found(&bob, "orphaned").await, Vec::<String>::new());

    let second = TestServer::start_on(test_config(&[]), first.db.clone()).await;
    let bob_there = TestUser {
        base: second.base.clone(),
        ..bob.clone()
    };
    assert_eq!(
        found(&bob_there, "orphaned").await.len(),
        1,
        "indexed on start-up"
    );
}
