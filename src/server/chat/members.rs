//! Who is in each conversation, cached in memory.
//!
//! Every send and every history request checks membership, and every send
//! needs the member list for fan-out; the cache answers both without a query.
//! Membership changes when someone leaves a group and a direct chat's
//! blocked flag when one of its two blocks the other: then the entry is
//! dropped here and, through the fan-out, on every other node, and refills
//! from the database on its next use. The map is bounded: past
//! `capacity` entries it is cleared and refills from the database on demand.

use crate::protocol::{ConversationId, UserId};
use crate::server::db;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A conversation's members, sorted (membership is a binary search), and
/// whether it is a direct chat one of whose two has blocked the other.
#[derive(Clone, Debug)]
pub(crate) struct Members {
    ids: Arc<[UserId]>,
    blocked: bool,
}

impl Members {
    pub(crate) fn new(mut ids: Vec<UserId>, blocked: bool) -> Self {
        ids.sort_unstable();
        ids.dedup();
        Self {
            ids: ids.into(),
            blocked,
        }
    }

    pub(crate) fn contains(&self, user: UserId) -> bool {
        self.ids.binary_search(&user).is_ok()
    }

    pub(crate) fn ids(&self) -> &[UserId] {
        &self.ids
    }

    pub(crate) fn blocked(&self) -> bool {
        self.blocked
    }
}

pub(crate) struct MemberCache {
    map: RwLock<HashMap<ConversationId, Members>>,
    capacity: usize,
}

impl MemberCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    /// The members, or `None` when the conversation does not exist.
    pub(crate) async fn get(
        &self,
        db: &PgPool,
        conversation: ConversationId,
    ) -> sqlx::Result<Option<Members>> {
        if let Some(hit) = self.read().get(&conversation) {
            return Ok(Some(hit.clone()));
        }
        let rows = db::conversations::members(db, conversation).await?;
        if rows.ids.is_empty() {
            return Ok(None);
        }
        let members = Members::new(rows.ids, rows.blocked);
        self.insert(conversation, members.clone());
        Ok(Some(members))
    }

    pub(crate) fn insert(&self, conversation: ConversationId, members: Members) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(conversation, members);
    }

    /// Forgets `conversation`'s members (they changed); the next use reads
    /// them again.
    pub(crate) fn invalidate(&self, conversation: ConversationId) {
        self.map
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&conversation);
    }

    /// Forgets everything (after missing news of changes).
    pub(crate) fn clear(&self) {
        self.map.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ConversationId, Members>> {
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_is_exact() {
        let (a, b, c) = (UserId::new_v7(), UserId::new_v7(), UserId::new_v7());
        let members = Members::new(vec![b, a, b], false);
        assert_eq!(members.ids().len(), 2);
        assert!(members.contains(a) && members.contains(b));
        assert!(!members.contains(c));
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = MemberCache::new(2);
        for _ in 0..5 {
            cache.insert(
                ConversationId::new_v7(),
                Members::new(vec![UserId::new_v7()], false),
            );
            assert!(cache.read().len() <= 2);
        }
    }
}
