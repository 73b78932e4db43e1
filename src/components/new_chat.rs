//! Starting a conversation (`/new`, beside the inbox): find people by name,
//! pick one for a direct chat or several (and a title) for a group. Plain
//! forms underneath: a GET search and a POST to the server function, so it
//! works without JavaScript too. Hydrated, the people picked stay picked
//! across searches (as chips). Its code is a part of the bundle of its own,
//! loaded with the page, so the inbox never carries it.

use crate::api::accounts::search_people;
use crate::api::conversations::StartConversation;
use crate::protocol::{Title, UserId, UserSummary};
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub(crate) fn NewChat() -> impl IntoView {
    let query = use_query_map();
    let initial = query.with_untracked(|q| q.get("q").unwrap_or_default());
    let search = RwSignal::new(initial.clone());
    let chosen = RwSignal::new(Vec::<UserSummary>::new());
    let people = Resource::new(
        move || search.get(),
        |q| async move {
            if q.trim().is_empty() {
                Ok(Vec::new())
            } else {
                search_people(q).await
            }
        },
    );
    let start = ServerAction::<StartConversation>::new();
    // Hydrated, the people picked are in `chosen` and the form goes in
    // place (not leptos's `ActionForm`: its form decoder would weigh on
    // every page's bundle). A title the browser cannot vouch for is posted
    // as the form, and the server says what is wrong with it.
    let title_input = NodeRef::<Input>::new();
    let on_submit = move |ev: SubmitEvent| {
        let typed = title_input.get().map(|input| input.value());
        let Ok(title) = Title::parse(typed.as_deref()) else {
            return;
        };
        ev.prevent_default();
        let participants =
            chosen.with_untracked(|c| c.iter().map(|p| p.user_id.to_string()).collect());
        start.dispatch(StartConversation {
            participants,
            title,
        });
    };
    let error = move || {
        start
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })
    };
    let results = move || {
        Suspend::new(async move {
            let list = people.await;
            let q = search.get_untracked();
            match list {
                Ok(list) if list.is_empty() && !q.trim().is_empty() => {
                    view! { <p class="hint">"Nobody's name starts with that."</p> }.into_any()
                }
                Ok(list) if list.is_empty() => {
                    view! { <p class="hint">"Type the start of a name."</p> }.into_any()
                }
                Ok(list) => view! { <PeopleChoices people=list chosen/> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
            }
        })
    };
    view! {
        <Title text="New chat"/>
        <section class="new-chat" aria-labelledby="new-chat-title">
            <header class="conversation-head">
                <a class="back" href="/" aria-label="Back to chats">"‹"</a>
                <div class="conversation-title">
                    <h1 id="new-chat-title">"New chat"</h1>
                    <p class="subtitle">"One person for a direct chat, several for a group"</p>
                </div>
            </header>
            <div class="new-chat-body">
                <form method="get" class="people-search" role="search" on:submit=|ev| ev.prevent_default()>
                    <label for="people-q">"Find people"</label>
                    <div class="inline">
                        <input
                            id="people-q"
                            name="q"
                            type="search"
                            autocomplete="off"
                            placeholder="Name starts with…"
                            autofocus
                            value=initial
                            prop:value=move || search.get()
                            on:input=move |ev| search.set(event_target_value(&ev))
                        />
                        <button type="submit" class="button subtle search-button">"Search"</button>
                    </div>
                </form>
                <form class="start-form" action=StartConversation::url() method="post" on:submit=on_submit>
                    <Chosen chosen/>
                    <Transition fallback=|| view! { <p class="hint">"Searching…"</p> }>{results}</Transition>
                    <label for="group-title">"Group name"</label>
                    <input
                        id="group-title"
                        name="title"
                        type="text"
                        maxlength="100"
                        placeholder="Only for groups (optional)"
                        node_ref=title_input
                    />
                    {error}
                    <button type="submit" class="button primary">"Start chat"</button>
                </form>
            </div>
        </section>
    }
}

/// The people picked so far, each a chip that can be taken back, and each a
/// hidden field of the form.
#[component]
fn Chosen(chosen: RwSignal<Vec<UserSummary>>) -> impl IntoView {
    let chips = move || {
        chosen
            .get()
            .into_iter()
            .map(|person| {
                let id = person.user_id;
                view! {
                    <li class="chip">
                        <input type="hidden" name="participants[]" value=id.to_string()/>
                        {person.username.clone()}
                        <button
                            type="button"
                            class="link"
                            aria-label=format!("Remove {}", person.username)
                            on:click=move |_| chosen.update(|c| c.retain(|p| p.user_id != id))
                        >
                            "×"
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    view! { <ul class="chips" aria-label="Chosen people">{chips}</ul> }
}

#[component]
fn PeopleChoices(people: Vec<UserSummary>, chosen: RwSignal<Vec<UserSummary>>) -> impl IntoView {
    let is_chosen = move |id: UserId| chosen.with(|c| c.iter().any(|p| p.user_id == id));
    view! {
        <fieldset class="people">
            <legend>"Choose one person, or several for a group"</legend>
            <ul>
                {people
                    .into_iter()
                    .map(|p| {
                        let id = p.user_id;
                        let field = format!("pick-{id}");
                        let person = p.clone();
                        let toggle = move |ev: leptos::ev::Event| {
                            let on = event_target_checked(&ev);
                            chosen.update(|c| {
                                c.retain(|x| x.user_id != id);
                                if on {
                                    c.push(person.clone());
                                }
                            });
                        };
                        view! {
                            <li>
                                <input
                                    type="checkbox"
                                    id=field.clone()
                                    name="participants[]"
                                    value=id.to_string()
                                    prop:checked=move || is_chosen(id)
                                    on:change=toggle
                                />
                                <label for=field>{p.username}</label>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </fieldset>
    }
}
