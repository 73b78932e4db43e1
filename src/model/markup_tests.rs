//! The display rules of docs/protocol.md 5.4, one case at a time.

use super::{Span, mentioned, mentions, parse};
use proptest::prelude::*;

fn text(t: &str) -> Span {
    Span::Text(t.to_owned())
}

fn bold(children: Vec<Span>) -> Span {
    Span::Bold(children)
}

fn italic(children: Vec<Span>) -> Span {
    Span::Italic(children)
}

fn code(t: &str) -> Span {
    Span::Code(t.to_owned())
}

fn block(t: &str) -> Span {
    Span::CodeBlock(t.to_owned())
}

fn link(url: &str) -> Span {
    Span::Link {
        href: url.to_owned(),
        text: url.to_owned(),
    }
}

fn mention(name: &str) -> Span {
    Span::Mention {
        text: format!("@{name}"),
        username: name.to_owned(),
    }
}

#[path = "markup_link_tests.rs"]
mod links;

/// Text that no rule touches comes back as one text span.
fn plain(t: &str) {
    assert_eq!(parse(t), vec![text(t)], "{t:?}");
}

#[test]
fn plain_text_stays_one_span() {
    plain("hey");
    plain("two\nlines\n\nand a gap");
    plain("  spaces kept  ");
    plain("héllo wörld 日本語 🎉👍🏽");
    assert_eq!(parse(""), vec![]);
}

#[test]
fn bold_and_italic() {
    assert_eq!(parse("*bold*"), vec![bold(vec![text("bold")])]);
    assert_eq!(parse("_italic_"), vec![italic(vec![text("italic")])]);
    assert_eq!(
        parse("a *very* fine _day_, really"),
        vec![
            text("a "),
            bold(vec![text("very")]),
            text(" fine "),
            italic(vec![text("day")]),
            text(", really"),
        ]
    );
    assert_eq!(
        parse("(*yes*)"),
        vec![text("("), bold(vec![text("yes")]), text(")")]
    );
    assert_eq!(parse("*two words*"), vec![bold(vec![text("two words")])]);
}

#[test]
fn markers_inside_words_and_numbers_are_text() {
    plain("2*3*4");
    plain("snake_case_name");
    plain("a * b * c");
    plain("a _ b _ c");
    plain("*bold*ly");
    plain("file_name.rs and __init__ and **not bold**");
    plain("x**y**z");
    assert_eq!(
        parse("_snake_case_"),
        vec![italic(vec![text("snake_case")])]
    );
    assert_eq!(parse("*a*b*"), vec![bold(vec![text("a*b")])]);
}

#[test]
fn unclosed_markers_are_text() {
    plain("*unclosed");
    plain("unclosed*");
    plain("_half and *half");
    plain("*");
    plain("_");
    plain("* *");
    plain("*\nnot bold*");
    // A closer with nothing open, then the real pair.
    assert_eq!(parse("a* *b*"), vec![text("a* "), bold(vec![text("b")])]);
}

#[test]
fn markers_pair_like_brackets() {
    assert_eq!(
        parse("*bold _and italic_*"),
        vec![bold(vec![text("bold "), italic(vec![text("and italic")])])]
    );
    assert_eq!(
        parse("_it *and bold*_"),
        vec![italic(vec![text("it "), bold(vec![text("and bold")])])]
    );
    // Crossed: the first to close wins; the marker opened inside it and
    // still open is text, and so is the late closer.
    assert_eq!(
        parse("_a *b_ c*"),
        vec![italic(vec![text("a *b")]), text(" c*")]
    );
    assert_eq!(
        parse("*a _b* c_"),
        vec![bold(vec![text("a _b")]), text(" c_")]
    );
    // Each line on its own.
    assert_eq!(
        parse("*one*\n*two*"),
        vec![bold(vec![text("one")]), text("\n"), bold(vec![text("two")])]
    );
}

#[test]
fn inline_code_is_shown_as_typed() {
    assert_eq!(parse("`x`"), vec![code("x")]);
    assert_eq!(
        parse("run `cargo *build* _now_ https://x.example @bob`"),
        vec![
            text("run "),
            code("cargo *build* _now_ https://x.example @bob")
        ]
    );
    assert_eq!(parse("`<b>&amp;</b>`"), vec![code("<b>&amp;</b>")]);
    plain("a ` alone");
    plain("``");
    plain("`not\nacross lines`");
    assert_eq!(parse("``a`"), vec![text("`"), code("a")]);
    assert_eq!(
        parse("*see `a*b`*"),
        vec![bold(vec![text("see "), code("a*b")])]
    );
}

#[test]
fn fenced_code_blocks() {
    assert_eq!(
        parse("```\nfn main() {\n    *x* = _y_;\n}\n```"),
        vec![block("fn main() {\n    *x* = _y_;\n}")]
    );
    // The breaks around a block are its edges; text around it stays.
    assert_eq!(
        parse("before\n```\ncode\n```\nafter *b*"),
        vec![
            text("before"),
            block("code"),
            text("after "),
            bold(vec![text("b")]),
        ]
    );
    assert_eq!(
        parse("look: ```x```!"),
        vec![text("look: "), block("x"), text("!")]
    );
    assert_eq!(parse("```a```\n\n```b```"), vec![block("a"), block("b")]);
    assert_eq!(
        parse("```a```\n\n\n```b```"),
        vec![block("a"), text("\n"), block("b")]
    );
    // Windows line breaks (a form post's) are breaks too.
    assert_eq!(
        parse("a\r\n```\r\nb\r\n```\r\nc"),
        vec![text("a"), block("b"), text("c")]
    );
    // Nothing is linked or formatted inside.
    assert_eq!(
        parse("```https://x.example @bob `c` <script>```"),
        vec![block("https://x.example @bob `c` <script>")]
    );
    // Blank lines and indentation inside are kept.
    assert_eq!(parse("```\n\n  a\n\n```"), vec![block("\n  a\n")]);
}

#[test]
fn unclosed_or_empty_fences_are_text() {
    plain("``` not closed");
    plain("```\ncode\nnever closed");
    plain("``````");
    plain("```\n```");
    assert_eq!(parse("```a``` ```"), vec![block("a"), text(" ```")]);
}

#[test]
fn mentions_of_usernames() {
    assert_eq!(parse("@bob"), vec![mention("bob")]);
    assert_eq!(
        parse("hi @alice_1, and (@carol)."),
        vec![
            text("hi "),
            mention("alice_1"),
            text(", and ("),
            mention("carol"),
            text(")."),
        ]
    );
    assert_eq!(parse("*@bob*"), vec![bold(vec![mention("bob")])]);
    assert_eq!(parse("@bob_"), vec![mention("bob_")]);
    // Typed with capitals: shown as typed, meaning the lowercase name.
    assert_eq!(
        parse("@Bob and @bobSmith"),
        vec![
            Span::Mention {
                text: "@Bob".to_owned(),
                username: "bob".to_owned()
            },
            text(" and "),
            Span::Mention {
                text: "@bobSmith".to_owned(),
                username: "bobsmith".to_owned()
            },
        ]
    );
    assert_eq!(
        parse(&format!("@{}", "a".repeat(32))),
        vec![mention(&"a".repeat(32))]
    );
}

#[test]
fn not_mentions() {
    plain("@");
    plain("@ bob");
    plain("@bo");
    plain("_@bob");
    plain("@bobé");
    plain("bob@example.com");
    plain("x@bob");
    plain(&format!("@{}", "a".repeat(33)));
}

#[test]
fn whether_a_message_mentions_someone() {
    assert!(mentions(&parse("hey @bob"), "bob"));
    assert!(mentions(&parse("*_hey_ @bob*"), "bob"));
    // A name takes every name character: `_` included.
    assert!(mentions(&parse("_hey @bob_"), "bob_"));
    assert!(mentions(&parse("HEY @BOB!"), "bob"));
    assert!(!mentions(&parse("hey @bobby"), "bob"));
    assert!(!mentions(&parse("`@bob`"), "bob"));
    assert!(!mentions(&parse("```\n@bob\n```"), "bob"));
    assert!(!mentions(&parse("\\@bob"), "bob"));
}

#[test]
fn a_backslash_shows_a_marker_as_typed() {
    assert_eq!(parse("\\*not bold\\*"), vec![text("*not bold*")]);
    assert_eq!(parse("\\_x\\_ \\`y\\` \\@bob"), vec![text("_x_ `y` @bob")]);
    plain("C:\\Users\\bob and \\n");
    assert_eq!(parse("`a\\`"), vec![code("a\\")]);
    assert_eq!(parse("\\\\"), vec![text("\\\\")]);
}

#[test]
fn unicode_around_markers() {
    assert_eq!(parse("*日本*"), vec![bold(vec![text("日本")])]);
    plain("日本_語_");
    plain("Ωmega*x*");
    assert_eq!(
        parse("🎉*yay*🎉"),
        vec![text("🎉"), bold(vec![text("yay")]), text("🎉")]
    );
    assert_eq!(
        parse("«_é_»"),
        vec![text("«"), italic(vec![text("é")]), text("»")]
    );
}

/// Inputs built to make a careless parser quadratic (or to blow its
/// stack) come back at once.
#[test]
fn long_and_hostile_input_is_linear() {
    let n = 200_000;
    let cases = [
        "*a ".repeat(n),
        "_a *b ".repeat(n),
        "`".repeat(n),
        "` ".repeat(n),
        "```".repeat(n),
        "``` x".repeat(n),
        "@".repeat(n),
        format!("@{}", "a".repeat(n)),
        format!("http://{}", ")".repeat(n)),
        format!("http://{}", ".".repeat(n)),
        "http://".repeat(n),
        "*_".repeat(n) + &"_*".repeat(n),
        "\\".repeat(n),
        "a".repeat(n * 4),
    ];
    let started = std::time::Instant::now();
    for case in &cases {
        let spans = parse(case);
        assert!(!spans.is_empty());
    }
    // Generous for an unoptimised build on a busy machine; a quadratic
    // parser takes minutes here.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

fn depth(spans: &[Span]) -> usize {
    spans
        .iter()
        .map(|span| match span {
            Span::Bold(c) | Span::Italic(c) => 1 + depth(c),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn nesting_stops_at_max_open() {
    // Twenty markers open, then twenty close: the first eight nest, the
    // others are text.
    let kinds: Vec<char> = (0..20)
        .map(|i| if i % 2 == 0 { '*' } else { '_' })
        .collect();
    let opening: String = kinds.iter().map(|k| format!("{k}a ")).collect();
    let closing: String = kinds.iter().rev().map(|k| format!(" a{k}")).collect();
    let spans = parse(&format!("{opening}x{closing}"));
    assert_eq!(depth(&spans), super::MAX_OPEN);
    // However they are typed, no deeper.
    for t in [
        format!("{}x{}", "*_".repeat(1000), "_*".repeat(1000)),
        format!("{}x{}", "*a _a ".repeat(1000), " a_ a*".repeat(1000)),
    ] {
        assert!(depth(&parse(&t)) <= super::MAX_OPEN);
    }
}

fn shown_text(spans: &[Span], into: &mut String) {
    for span in spans {
        match span {
            Span::Text(t) | Span::Code(t) | Span::CodeBlock(t) => into.push_str(t),
            Span::Bold(c) | Span::Italic(c) => shown_text(c, into),
            Span::Link { text, .. } | Span::Mention { text, .. } => into.push_str(text),
        }
    }
}

fn links(spans: &[Span], into: &mut Vec<String>) {
    for span in spans {
        match span {
            Span::Link { href, .. } => into.push(href.clone()),
            Span::Bold(c) | Span::Italic(c) => links(c, into),
            _ => {}
        }
    }
}

proptest! {
    /// Any text parses (no slicing inside a character, no panic), and
    /// every link is one of the three schemes, with nothing in it that
    /// could end an attribute or hide a character.
    #[test]
    fn anything_parses_and_links_are_safe(t in "[a-zA-Z0-9 *_`@:/.()\\[\\]\"<>\\\\\n\r\t\u{e9}\u{65e5}\u{1f389}-]{0,80}|(https?|mailto|javascript):[^ ]{0,20}") {
        let spans = parse(&t);
        let mut hrefs = Vec::new();
        links(&spans, &mut hrefs);
        for href in hrefs {
            let lower = href.to_ascii_lowercase();
            prop_assert!(lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mailto:"), "{href}");
            prop_assert!(!href.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"`".contains(c)), "{href}");
        }
    }

    /// Without markers, backslashes or fences, what is shown is what was
    /// typed, character for character.
    #[test]
    fn text_without_markers_is_shown_whole(t in "[a-zA-Z0-9 @:/.()\n\u{e9}\u{1f389}-]{0,80}") {
        let mut shown = String::new();
        shown_text(&parse(&t), &mut shown);
        prop_assert_eq!(shown, t);
    }
}

#[test]
fn the_names_a_message_mentions_each_once_as_the_page_marks_them() {
    assert_eq!(
        mentioned("hey @Bob and *@carol*, @bob again"),
        vec!["bob", "carol"]
    );
    assert!(mentioned("`@bob` \\@bob https://x.y/@bob mail@bob.org é@bob").is_empty());
    assert!(mentioned("```\n@bob\n```").is_empty());
    assert!(mentioned("no at sign").is_empty());
}
