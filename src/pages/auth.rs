//! `/login` and `/register`: plain forms that post to server functions, so
//! they work with JavaScript off; hydrated, the same forms submit in place.
//! (Not leptos's `ActionForm`: it reads the form through a query-string
//! decoder that would be a sizeable part of every page's bundle.)

use crate::api::accounts::{Login, Register, current_user};
use crate::protocol::{ApiError, PASSWORD_MIN, USERNAME_MAX, USERNAME_MIN};
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::{LazyRoute, lazy_route};

/// `/login`: its code is a part of the WebAssembly bundle of its own,
/// loaded when the page is.
pub(crate) struct LoginRoute;

#[lazy_route]
impl LazyRoute for LoginRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <LoginPage/> }.into_any()
    }
}

/// `/register`, likewise.
pub(crate) struct RegisterRoute;

#[lazy_route]
impl LazyRoute for RegisterRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <RegisterPage/> }.into_any()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Login,
    Register,
}

/// Sends a signed-in visitor on to the inbox.
#[component]
fn RedirectIfSignedIn() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    move || {
        Suspend::new(async move {
            matches!(user.await, Ok(Some(_))).then(|| view! { <Redirect path="/"/> })
        })
    }
}

fn error_view(error: Option<ApiError>) -> impl IntoView {
    error.map(|e| {
        view! {
            <p class="form-error" role="alert" id="form-error">
                {e.message}
            </p>
        }
    })
}

/// The form's two inputs, read when it is submitted in place.
#[derive(Clone, Copy, Default)]
struct Inputs {
    username: NodeRef<Input>,
    password: NodeRef<Input>,
}

impl Inputs {
    /// A submit handler that hands what was typed to `dispatch` instead of
    /// posting the form (which is what happens before hydration).
    fn on_submit(self, dispatch: impl Fn(String, String)) -> impl Fn(SubmitEvent) {
        move |ev| {
            if let (Some(username), Some(password)) = (self.username.get(), self.password.get()) {
                ev.prevent_default();
                dispatch(username.value(), password.value());
            }
        }
    }
}

#[component]
fn Fields(
    mode: Mode,
    inputs: Inputs,
    error: Signal<Option<ApiError>>,
    pending: Signal<bool>,
) -> impl IntoView {
    let (password_hint, autocomplete) = match mode {
        Mode::Login => (None, "current-password"),
        Mode::Register => (
            Some(format!("At least {PASSWORD_MIN} characters.")),
            "new-password",
        ),
    };
    let username_hint = (mode == Mode::Register)
        .then(|| format!("{USERNAME_MIN}–{USERNAME_MAX} lowercase letters, digits or _."));
    view! {
        <div class="field">
            <label for="username">"Username"</label>
            <input
                id="username"
                name="username"
                type="text"
                autocomplete="username"
                autocapitalize="none"
                spellcheck="false"
                required
                autofocus
                node_ref=inputs.username
            />
            {username_hint.map(|hint| view! { <small class="hint">{hint}</small> })}
        </div>
        <div class="field">
            <label for="password">"Password"</label>
            <input
                id="password"
                name="password"
                type="password"
                autocomplete=autocomplete
                required
                node_ref=inputs.password
            />
            {password_hint.map(|hint| view! { <small class="hint">{hint}</small> })}
        </div>
        {move || error_view(error.get())}
        <button type="submit" class="button primary" disabled=move || pending.get()>
            {if mode == Mode::Login { "Log in" } else { "Sign up" }}
        </button>
    }
}

#[component]
fn AuthCard(mode: Mode, children: Children) -> impl IntoView {
    let (title, other) = match mode {
        Mode::Login => (
            "Log in",
            view! { "New to natter? " <a href="/register">"Create an account"</a> }.into_any(),
        ),
        Mode::Register => (
            "Sign up",
            view! { "Already have an account? " <a href="/login">"Log in"</a> }.into_any(),
        ),
    };
    view! {
        <Title text=title/>
        <RedirectIfSignedIn/>
        <main class="centered auth-page">
            <section class="card auth-card" aria-labelledby="auth-title">
                <div class="brand"><span class="brand-mark" aria-hidden="true">"n"</span>"natter"</div>
                <h1 id="auth-title">{title}</h1>
                {children()}
                <p class="switch">{other}</p>
            </section>
        </main>
    }
}

#[component]
pub(crate) fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let pending = action.pending().into();
    let inputs = Inputs::default();
    let on_submit = inputs.on_submit(move |username, password| {
        action.dispatch(Login { username, password });
    });
    view! {
        <AuthCard mode=Mode::Login>
            <form class="auth-form" action=Login::url() method="post" on:submit=on_submit>
                <Fields mode=Mode::Login inputs error pending/>
            </form>
        </AuthCard>
    }
}

#[component]
pub(crate) fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let pending = action.pending().into();
    let inputs = Inputs::default();
    let on_submit = inputs.on_submit(move |username, password| {
        action.dispatch(Register { username, password });
    });
    view! {
        <AuthCard mode=Mode::Register>
            <form class="auth-form" action=Register::url() method="post" on:submit=on_submit>
                <Fields mode=Mode::Register inputs error pending/>
            </form>
        </AuthCard>
    }
}
