//! Message search for the page (`GET /api/v1/search`'s operation).

use super::encoding::Json;
use crate::protocol::{ApiError, SearchPage};
use leptos::server;

/// A page of 20 results of `q` (`sort`: `newest`, the default, or `rank`),
/// after `cursor` (a page's `next_cursor`).
#[server(endpoint = "search", input = Json, output = Json)]
pub(crate) async fn search_messages(
    q: String,
    #[server(default)] sort: Option<String>,
    #[server(default)] cursor: Option<String>,
) -> Result<SearchPage, ApiError> {
    use crate::protocol::{SEARCH_PAGE, SearchSort};
    use crate::server::search;
    let (state, _, me) = super::context::signed_in().await?;
    let sort = SearchSort::parse(sort.as_deref())?;
    search::search(&state, &me, &q, sort, cursor.as_deref(), SEARCH_PAGE)
        .await
        .map_err(|e| e.to_api())
}
