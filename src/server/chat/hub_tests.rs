use super::*;

fn connect(hub: &Hub, user: UserId, queue: usize) -> (ConnectionHandle, mpsc::Receiver<Frame>) {
    let (tx, rx) = mpsc::channel(queue);
    let handle = ConnectionHandle::new(user, [7; 32], tx);
    hub.register(handle.clone(), 10);
    hub.check_invariants();
    (handle, rx)
}

#[test]
fn delivery_reaches_every_tab_but_the_origin() {
    let hub = Hub::default();
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let (a1, mut a1_rx) = connect(&hub, alice, 8);
    let (_a2, mut a2_rx) = connect(&hub, alice, 8);
    let (_b1, mut b1_rx) = connect(&hub, bob, 8);
    let frame = Frame::from("hello");
    assert_eq!(hub.deliver(&[alice, bob], Some(a1.id()), &frame), 2);
    assert!(a1_rx.try_recv().is_err());
    assert_eq!(a2_rx.try_recv().unwrap(), frame);
    assert_eq!(b1_rx.try_recv().unwrap(), frame);
}

#[test]
fn a_full_queue_kicks_only_that_connection() {
    let hub = Hub::default();
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let (slow, _slow_rx) = connect(&hub, alice, 1);
    let (_fast, mut fast_rx) = connect(&hub, bob, 8);
    for n in 0..3 {
        hub.deliver(&[alice, bob], None, &Frame::from(format!("m{n}")));
    }
    assert_eq!(
        Kick::from_u8(slow.0.kick.load(Ordering::Acquire)),
        Kick::TooSlow
    );
    for n in 0..3 {
        assert_eq!(fast_rx.try_recv().unwrap(), format!("m{n}").as_str());
    }
}

#[test]
fn an_offer_skips_the_offerer_and_a_full_queue_loses_it_without_a_kick() {
    let hub = Hub::default();
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let (_a1, mut a1_rx) = connect(&hub, alice, 8);
    let (slow, mut slow_rx) = connect(&hub, bob, 1);
    let (_b2, mut b2_rx) = connect(&hub, bob, 8);
    assert_eq!(hub.offer(&[alice, bob], alice, &Frame::from("t1")), 2);
    assert!(a1_rx.try_recv().is_err(), "not to the typist's own tabs");
    assert_eq!(hub.offer(&[alice, bob], alice, &Frame::from("t2")), 1);
    assert_eq!(
        Kick::from_u8(slow.0.kick.load(Ordering::Acquire)),
        Kick::None,
        "a slow connection loses a typing notice, not its connection"
    );
    assert_eq!(slow_rx.try_recv().unwrap(), "t1");
    assert!(slow_rx.try_recv().is_err());
    assert_eq!(b2_rx.try_recv().unwrap(), "t1");
    assert_eq!(b2_rx.try_recv().unwrap(), "t2");
}

#[test]
fn unregister_keeps_both_indexes_in_step() {
    let hub = Hub::default();
    let alice = UserId::new_v7();
    let (tx, _r1) = mpsc::channel(8);
    let a1 = ConnectionHandle::new(alice, [7; 32], tx);
    assert!(hub.register(a1.clone(), 10), "her first connection here");
    let (a2, _r2) = connect(&hub, alice, 8);
    assert!(!hub.unregister(a1.id()), "not her last");
    hub.check_invariants();
    assert!(hub.is_online(alice));
    assert!(hub.unregister(a2.id()), "her last");
    assert!(!hub.unregister(a2.id()), "gone already");
    hub.check_invariants();
    assert!(!hub.is_online(alice));
    assert_eq!(hub.connection_count(), 0);
}

#[test]
fn the_oldest_connection_goes_when_a_user_has_too_many() {
    let hub = Hub::default();
    let alice = UserId::new_v7();
    let (tx, _rx) = mpsc::channel(1);
    let first = ConnectionHandle::new(alice, [1; 32], tx.clone());
    let second = ConnectionHandle::new(alice, [1; 32], tx.clone());
    let third = ConnectionHandle::new(alice, [1; 32], tx);
    hub.register(first.clone(), 2);
    hub.register(second.clone(), 2);
    hub.register(third.clone(), 2);
    hub.check_invariants();
    let reason = |h: &ConnectionHandle| Kick::from_u8(h.0.kick.load(Ordering::Acquire));
    assert_eq!(reason(&first), Kick::Replaced);
    assert_eq!(reason(&second), Kick::None);
    assert_eq!(reason(&third), Kick::None);
}

#[tokio::test]
async fn logout_kicks_the_sessions_connections_only() {
    let hub = Hub::default();
    let alice = UserId::new_v7();
    let (tx, _rx) = mpsc::channel(1);
    let laptop = ConnectionHandle::new(alice, [1; 32], tx.clone());
    let phone = ConnectionHandle::new(alice, [2; 32], tx);
    hub.register(laptop.clone(), 10);
    hub.register(phone.clone(), 10);
    hub.kick_session(alice, &[1; 32], Kick::SignedOut);
    assert_eq!(laptop.kicked().await, Kick::SignedOut);
    assert_eq!(
        Kick::from_u8(phone.0.kick.load(Ordering::Acquire)),
        Kick::None
    );
}
