//! Who is in each conversation, cached in memory.
//!
//! Every send and every history request checks membership, and every send
//! needs the member list for fan-out; the cache answers both without a query.
//! Membership is only ever set when a conversation is created (there is no
//! join or leave operation yet), so an entry never goes stale. The map is bounded: past
//! `capacity` entries it is cleared and refills from the database on demand.

use crate::protocol::{ConversationId, UserId};
use crate::server::db;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A conversation's members, sorted (membership is a binary search).
#[derive(Clone, Debug)]
pub(crate) struct Members(Arc<[UserId]>);

impl Members {
    pub(crate) fn new(mut ids: Vec<UserId>) -> Self {
        ids.sort_unstable();
        ids.dedup();
        Self(ids.into())
    }

    pub(crate) fn contains(&self, user: UserId) -> bool {
        self.0.binary_search(&user).is_ok()
    }

    pub(crate) fn ids(&self) -> &[UserId] {
        &self.0
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
        let ids = db::conversations::member_ids(db, conversation).await?;
        if ids.is_empty() {
            return Ok(None);
        }
        let members = Members::new(ids);
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
        let members = Members::new(vec![b, a, b]);
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
                Members::new(vec![UserId::new_v7()]),
            );
            assert!(cache.read().len() <= 2);
        }
    }
}
