use leptos::prelude::*;
use leptos_meta::Title;

/// A proper 404 inside the app (a conversation that is not yours, or gone):
/// the status on the server, a way back for the person.
#[component]
pub(crate) fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <div class="centered">
            <section class="card not-found">
                <h1>"Not found"</h1>
                <p>"There is nothing here, or it is not yours to see."</p>
                <a class="button" href="/">"Back to your chats"</a>
            </section>
        </div>
    }
}

/// A path no route knows: the same 404, as a whole page.
#[component]
pub(crate) fn NotFoundPage() -> impl IntoView {
    view! {
        <main class="page">
            <NotFound/>
        </main>
    }
}
