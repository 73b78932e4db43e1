//! `GET /api/v1/search?q=&sort=&cursor=&limit=`: message search.

use crate::protocol::{ApiError, SEARCH_PAGE, SearchPage, SearchSort};
use crate::server::auth::CurrentUser;
use crate::server::error::AppResult;
use crate::server::search;
use crate::server::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct SearchParams {
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

pub(crate) async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<SearchParams>,
) -> AppResult<Json<SearchPage>> {
    let limit = match params.limit.as_deref() {
        None => SEARCH_PAGE,
        Some(text) => text
            .parse()
            .map_err(|_| ApiError::invalid("limit", search::limit_words()))?,
    };
    let sort = SearchSort::parse(params.sort.as_deref())?;
    Ok(Json(
        search::search(
            &state,
            &user,
            params.q.as_deref().unwrap_or(""),
            sort,
            params.cursor.as_deref(),
            limit,
        )
        .await?,
    ))
}
