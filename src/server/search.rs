//! Message search, written once for the JSON API (`GET /api/v1/search`)
//! and the page's server function (`/api/search`).

use super::auth::CurrentUser;
use super::db;
use super::db::search::SearchCursor;
use super::error::AppResult;
use super::limits::Action;
use super::state::AppState;
use crate::protocol::{ApiError, SEARCH_MAX_PAGE, SearchPage, SearchQuery, SearchSort};
use std::time::Duration;

/// How long a search waits at most for the messages committed before it
/// to be indexed (they are, at once, unless the database is struggling).
const INDEX_WAIT: Duration = Duration::from_secs(2);

/// A page of `me`'s search `q`: up to `limit` messages of the
/// conversations they are in now, newest first or best first, after
/// `cursor`. The checks in the contract's order: `limit`, `q`, `cursor`,
/// then the budget.
pub(crate) async fn search(
    state: &AppState,
    me: &CurrentUser,
    q: &str,
    sort: SearchSort,
    cursor: Option<&str>,
    limit: i64,
) -> AppResult<SearchPage> {
    if !(1..=SEARCH_MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid("limit", limit_words()).into());
    }
    let query = SearchQuery::parse(q)?;
    let ranked = sort == SearchSort::Rank;
    let after = match cursor.filter(|c| !c.is_empty()) {
        Some(text) => Some(
            SearchCursor::parse(text, ranked)
                .ok_or_else(|| ApiError::invalid("cursor", "cursor is not one this search gave"))?,
        ),
        None => None,
    };
    state.limits.check(me.id, Action::MessageSearch)?;
    // Every message acknowledged here before this search, indexed.
    state.chat.indexer.caught_up(INDEX_WAIT).await;
    let (results, next) =
        db::search::search(&state.db, me.id, &query, ranked, after, limit).await?;
    Ok(SearchPage {
        results,
        next_cursor: next.map(|c| c.to_string()),
    })
}

/// The words for a `limit` out of range or not a number.
pub(crate) fn limit_words() -> String {
    format!("limit must be 1 to {SEARCH_MAX_PAGE}")
}
