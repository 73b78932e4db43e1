//! Starting a conversation: find people by name, pick one for a direct chat
//! or several (and a title) for a group. Plain forms underneath: a GET search
//! and a POST to the server function, so it works without JavaScript too.

use crate::api::chat::{StartConversation, search_people};
use crate::protocol::UserSummary;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn NewChat() -> impl IntoView {
    let query = use_query_map();
    let initial = query.with_untracked(|q| q.get("q").unwrap_or_default());
    let search = RwSignal::new(initial.clone());
    let opened = !initial.is_empty();
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
                Ok(list) => view! { <PeopleChoices people=list/> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
            }
        })
    };
    view! {
        <details class="new-chat" open=opened>
            <summary class="button primary">"New chat"</summary>
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
                            value=initial
                            on:input=move |ev| search.set(event_target_value(&ev))
                        />
                        <button type="submit" class="button subtle search-button">"Search"</button>
                    </div>
                </form>
                <ActionForm action=start attr:class="start-form">
                    <Transition fallback=|| view! { <p class="hint">"Searching…"</p> }>{results}</Transition>
                    <label for="group-title">"Group name"</label>
                    <input id="group-title" name="title" type="text" maxlength="100" placeholder="Only for groups (optional)"/>
                    {error}
                    <button type="submit" class="button primary">"Start chat"</button>
                </ActionForm>
            </div>
        </details>
    }
}

#[component]
fn PeopleChoices(people: Vec<UserSummary>) -> impl IntoView {
    view! {
        <fieldset class="people">
            <legend>"Choose one person, or several for a group"</legend>
            <ul>
                {people
                    .into_iter()
                    .map(|p| {
                        let id = format!("pick-{}", p.user_id);
                        view! {
                            <li>
                                <input type="checkbox" id=id.clone() name="participants[]" value=p.user_id.to_string()/>
                                <label for=id>{p.username}</label>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </fieldset>
    }
}
