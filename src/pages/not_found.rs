use leptos::prelude::*;
use leptos_meta::Title;

/// A proper 404: the status on the server, a way back for the person.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="centered">
            <section class="card not-found">
                <h1>"Not found"</h1>
                <p>"There is nothing here, or it is not yours to see."</p>
                <a class="button" href="/">"Back to your chats"</a>
            </section>
        </main>
    }
}
