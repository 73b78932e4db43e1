//! Links (docs/protocol.md 5.4): which URLs become links, where they end,
//! and that nothing typed can become an attribute or an element.

use super::{bold, code, italic, link, plain, text};
use crate::model::markup::parse;

#[test]
fn links_http_https_mailto() {
    assert_eq!(
        parse("https://example.com"),
        vec![link("https://example.com")]
    );
    assert_eq!(
        parse("see http://a.example/path?q=1&r=2#top for it"),
        vec![
            text("see "),
            link("http://a.example/path?q=1&r=2#top"),
            text(" for it")
        ]
    );
    assert_eq!(
        parse("mail mailto:bob@example.com"),
        vec![text("mail "), link("mailto:bob@example.com")]
    );
    assert_eq!(
        parse("HTTPS://EXAMPLE.COM"),
        vec![link("HTTPS://EXAMPLE.COM")]
    );
    assert_eq!(
        parse("https://de.wikipedia.org/wiki/Straße"),
        vec![link("https://de.wikipedia.org/wiki/Straße")]
    );
    assert_eq!(
        parse("http://a.example/*x*/_y_/z"),
        vec![link("http://a.example/*x*/_y_/z")]
    );
}

#[test]
fn trailing_punctuation_is_the_sentence_s() {
    assert_eq!(
        parse("go to https://a.example."),
        vec![text("go to "), link("https://a.example"), text(".")]
    );
    assert_eq!(
        parse("https://a.example/x, https://b.example/y!?"),
        vec![
            link("https://a.example/x"),
            text(", "),
            link("https://b.example/y"),
            text("!?")
        ]
    );
    assert_eq!(
        parse("(see https://a.example/x)."),
        vec![text("(see "), link("https://a.example/x"), text(").")]
    );
    assert_eq!(
        parse("https://en.wikipedia.org/wiki/Rust_(programming_language)"),
        vec![link(
            "https://en.wikipedia.org/wiki/Rust_(programming_language)"
        )]
    );
    assert_eq!(
        parse("(https://en.wikipedia.org/wiki/Rust_(language))"),
        vec![
            text("("),
            link("https://en.wikipedia.org/wiki/Rust_(language)"),
            text(")")
        ]
    );
    assert_eq!(
        parse("[https://a.example/[1]]"),
        vec![text("["), link("https://a.example/[1]"), text("]")]
    );
    assert_eq!(
        parse("'https://a.example'"),
        vec![text("'"), link("https://a.example"), text("'")]
    );
    assert_eq!(
        parse("*https://a.example*"),
        vec![bold(vec![link("https://a.example")])]
    );
    assert_eq!(
        parse("_https://a.example_"),
        vec![italic(vec![link("https://a.example")])]
    );
    assert_eq!(
        parse("<https://a.example>"),
        vec![text("<"), link("https://a.example"), text(">")]
    );
}

#[test]
fn not_links() {
    plain("http://");
    plain("https://.");
    plain("mailto:");
    plain("xhttps://a.example");
    plain("javascript:alert(1)");
    plain("JavaScript:alert(document.cookie)");
    plain("data:text/html,<script>alert(1)</script>");
    plain("vbscript:msgbox(1)");
    plain("ftp://a.example");
    plain("www.example.com");
    // No markdown links: the brackets are text, and only an http(s) URL
    // in them is a link.
    plain("[x](javascript:alert(1))");
    assert_eq!(
        parse("[x](http://a.example)"),
        vec![text("[x]("), link("http://a.example"), text(")")]
    );
    // A scheme later in a word does not smuggle the word in.
    assert_eq!(
        parse("javascript:http://a.example"),
        vec![text("javascript:"), link("http://a.example")]
    );
}

#[test]
fn a_url_cannot_break_out_of_its_attribute() {
    assert_eq!(
        parse("http://a\"onmouseover=alert(1)"),
        vec![link("http://a"), text("\"onmouseover=alert(1)")]
    );
    assert_eq!(
        parse("http://a<script>alert(1)</script>"),
        vec![link("http://a"), text("<script>alert(1)</script>")]
    );
    assert_eq!(
        parse("http://a\tb http://c\u{1}d"),
        vec![
            link("http://a"),
            text("\tb "),
            link("http://c"),
            text("\u{1}d")
        ]
    );
    assert_eq!(parse("http://a`b`"), vec![link("http://a"), code("b")]);
}

#[test]
fn html_is_text() {
    plain("<script>alert(1)</script>");
    plain("<img src=x onerror=alert(1)>");
    plain("&lt;b&gt; &amp; <b>bold?</b>");
    plain("<a href=\"javascript:alert(1)\">x</a>");
}
