//! The HTML shell and the routes.

use crate::pages::{
    ChatRoute, ConversationRoute, LoginRoute, NewChatRoute, NoConversation, NotFoundPage,
    RegisterRoute, SearchRoute,
};
use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

#[cfg(feature = "ssr")]
pub(crate) fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::{HashedStylesheet, MetaTags};
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Every page is rendered whole before the first byte is sent
/// (`SsrMode::Async`): the HTML holds the inbox and the history, redirects
/// and 404s get their real status, and the page works without JavaScript.
#[component]
pub(crate) fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|text: String| if text.is_empty() { "natter".to_owned() } else { format!("{text} · natter") }/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/register") view={Lazy::<RegisterRoute>::new()} ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view={Lazy::<ChatRoute>::new()} ssr=SsrMode::Async>
                    <Route path=path!("") view=NoConversation ssr=SsrMode::Async/>
                    <Route path=path!("new") view={Lazy::<NewChatRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("c/:id") view={Lazy::<ConversationRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("search") view={Lazy::<SearchRoute>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
