use super::*;
use crate::protocol::ServerEvent;
use crate::server::chat::hub::Frame;
use tokio::sync::mpsc;

const GRACE: Duration = Duration::from_secs(10);

fn follower(presence: &Presence, people: &[UserId]) -> mpsc::Receiver<Frame> {
    let (tx, rx) = mpsc::channel(64);
    let handle = ConnectionHandle::new(UserId::new_v7(), [1; 32], tx);
    presence.follow(&handle, people.iter().map(|u| (*u, None)).collect());
    rx
}

/// Every `presence` frame queued, as (user, online, last_seen).
fn heard(rx: &mut mpsc::Receiver<Frame>) -> Vec<(UserId, bool, Option<i64>)> {
    let mut frames = Vec::new();
    while let Ok(frame) = rx.try_recv() {
        match ServerEvent::from_json(&frame).unwrap() {
            ServerEvent::Presence(p) => frames.push((p.user_id, p.online, p.last_seen)),
            other => panic!("unexpected {other:?}"),
        }
    }
    frames
}

#[test]
fn a_reload_within_the_grace_is_no_transition_at_all() {
    let presence = Presence::new(GRACE);
    let bob = UserId::new_v7();
    let mut alice = follower(&presence, &[bob]);
    let t0 = Instant::now();

    assert!(presence.came(bob).is_some(), "the other nodes hear of it");
    assert_eq!(heard(&mut alice), [(bob, true, None)]);
    presence.left(bob, 1_000, t0);
    assert!(presence.came(bob).is_none(), "nobody heard he was leaving");
    assert_eq!(presence.expire(t0 + GRACE * 2), Expired::default());
    assert_eq!(heard(&mut alice), []);
    assert!(presence.is_online(bob));
}

#[test]
fn after_the_grace_a_user_goes_offline_once_with_when_they_left() {
    let presence = Presence::new(GRACE);
    let bob = UserId::new_v7();
    let mut alice = follower(&presence, &[bob]);
    let t0 = Instant::now();
    presence.came(bob);
    heard(&mut alice);

    presence.left(bob, 5_000, t0);
    assert_eq!(presence.next_deadline(), Some(t0 + GRACE));
    assert_eq!(presence.expire(t0 + GRACE / 2).gone, []);
    let expired = presence.expire(t0 + GRACE);
    assert_eq!(expired.gone, [(bob, 5_000)], "one last-seen to store");
    assert_eq!(
        expired.events,
        [NodeEvent::Presence {
            user: bob,
            online: false,
            last_seen: Some(5_000)
        }]
    );
    assert_eq!(heard(&mut alice), [(bob, false, Some(5_000))]);
    assert_eq!(presence.expire(t0 + GRACE * 3), Expired::default());
    // A new follower is told when he was last seen, without the database.
    let (tx, _rx) = mpsc::channel(1);
    let carol = ConnectionHandle::new(UserId::new_v7(), [2; 32], tx);
    let state = presence.follow(&carol, vec![(bob, Some(4_000))]);
    assert_eq!(
        state.people,
        [PresencePayload {
            user_id: bob,
            online: false,
            last_seen: Some(5_000)
        }]
    );
}

#[test]
fn a_user_online_on_another_node_stays_online_until_gone_everywhere() {
    let presence = Presence::new(GRACE);
    let (bob, node) = (UserId::new_v7(), Uuid::now_v7());
    let mut alice = follower(&presence, &[bob]);
    let t0 = Instant::now();

    presence.remote(node, bob, true, 0, t0);
    assert_eq!(heard(&mut alice), [(bob, true, None)]);
    presence.came(bob);
    presence.left(bob, 1_000, t0);
    presence.expire(t0 + GRACE);
    assert_eq!(heard(&mut alice), [], "still there on the other node");
    presence.remote(node, bob, false, 2_000, t0);
    assert_eq!(heard(&mut alice), [(bob, false, Some(2_000))]);
}

#[test]
fn a_node_gone_silent_takes_its_users_offline_and_a_snapshot_replaces_a_nodes_list() {
    let presence = Presence::new(GRACE);
    let (bob, carol, node) = (UserId::new_v7(), UserId::new_v7(), Uuid::now_v7());
    let mut alice = follower(&presence, &[bob, carol]);
    let t0 = Instant::now();

    presence.remote_snapshot(node, &[bob, carol], true, 0, t0);
    assert_eq!(heard(&mut alice).len(), 2);
    // After a listener outage the node lists only Carol: Bob left meanwhile.
    presence.remote_snapshot(node, &[carol], true, 3_000, t0);
    assert_eq!(heard(&mut alice), [(bob, false, Some(3_000))]);

    presence.heard(node, t0);
    presence.forget_silent(t0, 9_000, t0 + Duration::from_secs(1));
    assert!(presence.is_online(carol), "heard at the limit: still there");
    presence.forget_silent(
        t0 + Duration::from_millis(1),
        9_000,
        t0 + Duration::from_secs(1),
    );
    assert_eq!(heard(&mut alice), [(carol, false, Some(8_000))]);
    assert!(!presence.is_online(carol));
}

#[test]
fn following_replaces_the_list_and_a_closed_connection_follows_nobody() {
    let presence = Presence::new(GRACE);
    let (bob, carol) = (UserId::new_v7(), UserId::new_v7());
    let (tx, mut rx) = mpsc::channel(8);
    let alice = ConnectionHandle::new(UserId::new_v7(), [1; 32], tx);
    presence.follow(&alice, vec![(bob, None)]);
    presence.follow(&alice, vec![(carol, None)]);
    presence.came(bob);
    presence.came(carol);
    assert_eq!(heard(&mut rx), [(carol, true, None)]);
    presence.unfollow(alice.id());
    let t0 = Instant::now();
    presence.left(carol, 1, t0);
    presence.expire(t0 + GRACE);
    assert_eq!(heard(&mut rx), []);
    assert!(presence.lock().followers.is_empty());
}

#[test]
fn a_snapshot_is_chunked_and_never_empty() {
    let presence = Presence::new(GRACE);
    assert_eq!(
        presence.snapshot(),
        [NodeEvent::PresenceSnapshot {
            users: vec![],
            first: true
        }]
    );
    for _ in 0..SNAPSHOT_CHUNK + 1 {
        presence.came(UserId::new_v7());
    }
    let events = presence.snapshot();
    assert_eq!(events.len(), 2);
    for (i, event) in events.iter().enumerate() {
        let NodeEvent::PresenceSnapshot { users, first } = event else {
            panic!("{event:?}");
        };
        assert_eq!(*first, i == 0);
        assert!(serde_json::to_string(event).unwrap().len() < 7_000);
        assert!(!users.is_empty());
    }
}
