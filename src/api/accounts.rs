//! Sign up, log in, log out, who is signed in, and finding people.

use super::encoding::Json;
use crate::protocol::{ApiError, UserSummary};
#[cfg(feature = "ssr")]
use crate::protocol::{Password, Username};
use leptos::server;

/// The signed-in user, or `None` for a visitor.
#[server(endpoint = "session", input = Json, output = Json)]
pub(crate) async fn current_user() -> Result<Option<UserSummary>, ApiError> {
    use crate::server::auth;
    let (state, headers) = super::context::request()?;
    let user = auth::current_user(&state, &headers)
        .await
        .map_err(|e| e.to_api())?;
    Ok(user.map(|u| UserSummary {
        user_id: u.id,
        username: u.username,
    }))
}

#[cfg(feature = "ssr")]
fn start_session(
    state: &crate::server::state::AppState,
    headers: &axum::http::HeaderMap,
    token: &str,
) {
    use crate::server::auth;
    let cookie = auth::session_cookie(
        token,
        state.settings.session_lifetime().new_session_secs(),
        headers,
    );
    super::context::set_header(axum::http::header::SET_COOKIE, cookie);
    leptos_axum::redirect("/");
}

/// Signs in and goes to the inbox. Works as a plain form post too.
#[server(endpoint = "login", output = Json)]
pub(crate) async fn login(username: String, password: String) -> Result<(), ApiError> {
    use crate::server::accounts;
    let (state, headers) = super::context::request()?;
    // Names are lowercase; sign-up lowercases what was typed too.
    let session = accounts::login(&state, &username.trim().to_lowercase(), &password)
        .await
        .map_err(|e| e.to_api())?;
    start_session(&state, &headers, &session.token);
    Ok(())
}

/// Creates the account, signs in and goes to the inbox.
#[server(endpoint = "register", output = Json)]
pub(crate) async fn register(username: String, password: String) -> Result<(), ApiError> {
    use crate::server::accounts;
    let (state, headers) = super::context::request()?;
    let username = Username::parse_typed(&username)?;
    let password = Password::parse(&password)?;
    let session = accounts::register(&state, &username, &password)
        .await
        .map_err(|e| e.to_api())?;
    start_session(&state, &headers, &session.token);
    Ok(())
}

/// Ends the session everywhere and goes to the login page.
#[server(endpoint = "logout", output = Json)]
pub(crate) async fn logout() -> Result<(), ApiError> {
    use crate::server::{accounts, auth};
    let (state, headers) = super::context::request()?;
    if let Some(user) = auth::current_user(&state, &headers)
        .await
        .map_err(|e| e.to_api())?
    {
        accounts::logout(&state, &user)
            .await
            .map_err(|e| e.to_api())?;
    }
    super::context::set_header(axum::http::header::SET_COOKIE, auth::clear_cookie(&headers));
    leptos_axum::redirect("/login");
    Ok(())
}

/// People whose name starts with `q`.
#[server(endpoint = "people", input = Json, output = Json)]
pub(crate) async fn search_people(q: String) -> Result<Vec<UserSummary>, ApiError> {
    use crate::server::accounts;
    let (state, _, me) = super::context::signed_in().await?;
    let mut people = accounts::search(&state, &me, &q)
        .await
        .map_err(|e| e.to_api())?;
    people.retain(|p| p.user_id != me.id);
    Ok(people)
}
