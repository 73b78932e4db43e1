//! The outbox in localStorage: one key per message
//! (`natter.outbox.<user>.<message_id>`), so that tabs sharing the storage
//! add and remove their own entries without overwriting each other's.

use crate::protocol::{MessageId, MessagePayload, UserId};

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn prefix(user: UserId) -> String {
    format!("natter.outbox.{user}.")
}

pub(crate) fn save(user: UserId, message: &MessagePayload) {
    if let (Some(storage), Ok(json)) = (storage(), serde_json::to_string(message)) {
        let _ = storage.set_item(&format!("{}{}", prefix(user), message.message_id), &json);
    }
}

pub(crate) fn remove(user: UserId, id: &MessageId) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&format!("{}{id}", prefix(user)));
    }
}

/// Everything `user` left unsent, oldest first (message ids are UUIDv7, so
/// they sort by creation time).
pub(crate) fn load(user: UserId) -> Vec<MessagePayload> {
    let Some(storage) = storage() else {
        return Vec::new();
    };
    let prefix = prefix(user);
    let count = storage.length().unwrap_or(0);
    let found = (0..count)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| key.starts_with(&prefix))
        .filter_map(|key| storage.get_item(&key).ok().flatten())
        .filter_map(|json| serde_json::from_str(&json).ok())
        .filter(|m: &MessagePayload| m.sender_id == user);
    // Each put in its place as it is read (after any with the same id, as a
    // stable sort leaves them): an outbox holds a few messages, and a sort
    // of these would add kilobytes to the bundle.
    let mut pending: Vec<MessagePayload> = Vec::new();
    for message in found {
        let at = pending.partition_point(|m| m.message_id <= message.message_id);
        pending.insert(at, message);
    }
    pending
}

/// Forgets everything `user` left unsent (log-out: the next person at this
/// browser finds none of it).
pub(crate) fn clear(user: UserId) {
    let Some(storage) = storage() else { return };
    let prefix = prefix(user);
    let count = storage.length().unwrap_or(0);
    let keys: Vec<String> = (0..count)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| key.starts_with(&prefix))
        .collect();
    for key in keys {
        let _ = storage.remove_item(&key);
    }
}
