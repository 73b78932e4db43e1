//! A message's text as the reader sees it (docs/protocol.md, 5.4): the
//! spans of [`crate::model::markup`] built into elements and text nodes,
//! never HTML read from the text, so nothing a person types can become
//! markup. The server's render and the hydrated page build the same nodes
//! from the same spans.

use crate::model::markup::Span;
use leptos::prelude::*;

/// The text of a message. `me` is the reader's username: a mention of them
/// stands out (`.mention.to-me`).
pub(crate) fn message_text(spans: Vec<Span>, me: &str) -> AnyView {
    // A <pre> cannot sit in a <p>: the browser's parser would end the <p>
    // before it, and hydration would meet other nodes than the server sent.
    let blocks = spans.iter().any(|span| matches!(span, Span::CodeBlock(_)));
    let children = spans_view(spans, me);
    if blocks {
        view! { <div class="text">{children}</div> }.into_any()
    } else {
        view! { <p class="text">{children}</p> }.into_any()
    }
}

fn spans_view(spans: Vec<Span>, me: &str) -> Vec<AnyView> {
    spans.into_iter().map(|span| span_view(span, me)).collect()
}

/// One span; bold and italic recurse, at most `markup::MAX_OPEN` deep.
fn span_view(span: Span, me: &str) -> AnyView {
    match span {
        Span::Text(text) => text.into_any(),
        Span::Bold(children) => view! { <strong>{spans_view(children, me)}</strong> }.into_any(),
        Span::Italic(children) => view! { <em>{spans_view(children, me)}</em> }.into_any(),
        Span::Code(code) => view! { <code>{code}</code> }.into_any(),
        // Focusable: a block wider than the bubble scrolls sideways, and a
        // keyboard must be able to scroll it too.
        Span::CodeBlock(code) => view! { <pre tabindex="0"><code>{code}</code></pre> }.into_any(),
        // A new tab that cannot reach back into this page (`noopener`) nor
        // learn which conversation it was opened from (`noreferrer`).
        Span::Link { href, text } => view! {
            <a href=href rel="noopener noreferrer" target="_blank">{text}</a>
        }
        .into_any(),
        Span::Mention { text, username } => {
            let class = if username == me {
                "mention to-me"
            } else {
                "mention"
            };
            view! { <span class=class>{text}</span> }.into_any()
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::message_text;
    use crate::model::markup::parse;
    use leptos::prelude::*;

    fn html(text: &str, me: &str) -> String {
        // Without Leptos's hydration markers: the elements alone.
        let html = message_text(parse(text), me).to_html();
        let mut out = String::new();
        let mut rest = html.as_str();
        while let Some(start) = rest.find("<!") {
            out.push_str(&rest[..start]);
            rest = rest[start..].split_once('>').map_or("", |(_, r)| r);
        }
        out + rest
    }

    #[test]
    fn the_server_writes_elements_and_escaped_text() {
        assert_eq!(
            html(
                "<img src=x onerror=alert(1)> & *b* _i_ `c` https://a.test/?x=1&y=\"2",
                "bob"
            ),
            "<p class=\"text\">&lt;img src=x onerror=alert(1)&gt; &amp; <strong>b</strong> \
             <em>i</em> <code>c</code> <a href=\"https://a.test/?x=1&amp;y=\" \
             rel=\"noopener noreferrer\" target=\"_blank\">https://a.test/?x=1&amp;y=</a>\"2</p>"
        );
    }

    #[test]
    fn a_block_is_in_a_div_and_mentions_of_me_stand_out() {
        assert_eq!(
            html("hi @bob and @carol\n```\n<b>\n```", "bob"),
            "<div class=\"text\">hi <span class=\"mention to-me\">@bob</span> and \
             <span class=\"mention\">@carol</span><pre tabindex=\"0\"><code>&lt;b&gt;</code></pre></div>"
        );
    }
}
