//! How a message's text is shown (docs/protocol.md, 5.4): links, `*bold*`,
//! `_italic_`, `` `code` ``, fenced code blocks and `@mentions`, read from
//! the plain text a message is stored as.
//!
//! The server's render and the hydrated page both call [`parse`], so they
//! build the same elements from the same spans (a difference would be a
//! hydration mismatch). The spans are plain data: the page turns each into
//! an element and its text into text nodes, so nothing typed is ever read as
//! HTML, and a link's `href` is only ever one that starts with `http://`,
//! `https://` or `mailto:`.
//!
//! One pass, left to right, in time linear in the text's length whatever it
//! holds: a 4,000-character message of unclosed markers costs no more than
//! a plain one. No regular expressions (the browser's bundle has none).

/// A piece of a message's text as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Span {
    Text(String),
    Bold(Vec<Span>),
    Italic(Vec<Span>),
    /// `` `x` ``: shown as typed, in a monospace font.
    Code(String),
    /// ```` ``` ```` … ```` ``` ````: its own lines, as typed.
    CodeBlock(String),
    /// Only ever `http:`, `https:` or `mailto:` (in any case).
    Link {
        href: String,
        text: String,
    },
    /// `@name`: `text` as typed (`@Bob`), `username` the name it means,
    /// in lowercase as names are (`bob`).
    Mention {
        text: String,
        username: String,
    },
}

/// The spans of a message's text.
pub(crate) fn parse(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    // Where the text not yet parsed starts, and where to look for a fence.
    let mut start = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find(FENCE) {
        let open = from + found;
        let body_start = open + FENCE.len();
        // No closing fence: none after this one can close either.
        let Some(length) = text[body_start..].find(FENCE) else {
            break;
        };
        let close = body_start + length;
        let body = without_last_break(without_first_break(&text[body_start..close]));
        if body.is_empty() {
            // "``````": nothing between, so text; look on after it.
            from = body_start;
            continue;
        }
        // A block is its own line: the breaks around it are its edges.
        inline(without_last_break(&text[start..open]), &mut out);
        out.push(Span::CodeBlock(body.to_owned()));
        start = text.len() - without_first_break(&text[close + FENCE.len()..]).len();
        from = start;
    }
    inline(&text[start..], &mut out);
    out
}

/// Whether the spans mention `username` (outside code, where nothing is a
/// mention).
pub(crate) fn mentions(spans: &[Span], username: &str) -> bool {
    spans.iter().any(|span| match span {
        Span::Mention { username: name, .. } => name == username,
        Span::Bold(children) | Span::Italic(children) => mentions(children, username),
        _ => false,
    })
}

/// The usernames `text` mentions as the page shows it, each once: the
/// server reads them once per message for `message.receive` (so every
/// reader's notification follows the page's rule without the browser
/// carrying more than it needs). Text without an `@` (most messages) is not
/// parsed.
#[cfg(any(feature = "ssr", test))]
pub(crate) fn mentioned(text: &str) -> Vec<String> {
    fn walk(spans: &[Span], names: &mut Vec<String>) {
        for span in spans {
            match span {
                Span::Mention { username, .. } if !names.contains(username) => {
                    names.push(username.clone());
                }
                Span::Bold(children) | Span::Italic(children) => walk(children, names),
                _ => {}
            }
        }
    }
    let mut names = Vec::new();
    if text.contains('@') {
        walk(&parse(text), &mut names);
    }
    names
}

const FENCE: &str = "```";

/// At most this many markers wait for their partner at once; more are
/// text. It bounds how deep bold and italic nest, and so how deep the page
/// (and the browser's small stack) recurses to build them.
pub(crate) const MAX_OPEN: usize = 8;

/// The schemes that become links, longest first (`https://` before
/// `http://`), compared without regard to case.
const SCHEMES: [&str; 3] = ["https://", "http://", "mailto:"];

/// The username rule of `crate::protocol::Username`: 3 to 32 of `[a-z0-9_]`
/// (typed in any case).
const NAME_MIN: usize = crate::protocol::USERNAME_MIN;
const NAME_MAX: usize = crate::protocol::USERNAME_MAX;

fn without_first_break(text: &str) -> &str {
    text.strip_prefix("\r\n")
        .or_else(|| text.strip_prefix('\n'))
        .unwrap_or(text)
}

fn without_last_break(text: &str) -> &str {
    text.strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Bold,
    Italic,
}

impl Marker {
    fn of(c: char) -> Option<Self> {
        match c {
            '*' => Some(Self::Bold),
            '_' => Some(Self::Italic),
            _ => None,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Self::Bold => "*",
            Self::Italic => "_",
        }
    }

    fn wrap(self, children: Vec<Span>) -> Span {
        match self {
            Self::Bold => Span::Bold(children),
            Self::Italic => Span::Italic(children),
        }
    }
}

/// What a line holds so far: finished spans, and markers still waiting for
/// their partner.
enum Item {
    Span(Span),
    Open(Marker),
}

/// The text between code blocks, with bold and italic paired like brackets
/// (a stack of the markers still open on the line, as indexes into
/// `items`). Each item is moved into a parent at most once, and each open
/// marker is looked at once when it is closed or given up, so the whole is
/// linear.
struct Inline {
    items: Vec<Item>,
    open: Vec<usize>,
    /// How many of each marker are on `open`: closing one no one opened
    /// then costs nothing.
    open_bold: usize,
    open_italic: usize,
}

fn inline(text: &str, out: &mut Vec<Span>) {
    let mut line = Inline {
        items: Vec::new(),
        open: Vec::new(),
        open_bold: 0,
        open_italic: 0,
    };
    let mut at = 0;
    while let Some(c) = text[at..].chars().next() {
        let after = at + c.len_utf8();
        at = match c {
            '\n' => {
                line.give_up_markers();
                line.text("\n");
                after
            }
            '\\' => match text[after..].chars().next() {
                Some(escaped @ ('*' | '_' | '`' | '@')) => {
                    line.text(&text[after..after + 1]);
                    after + escaped.len_utf8()
                }
                _ => {
                    line.text("\\");
                    after
                }
            },
            '`' => match code_end(text, after) {
                Some(end) => {
                    line.span(Span::Code(text[after..end].to_owned()));
                    end + 1
                }
                None => {
                    line.text("`");
                    after
                }
            },
            '@' => match mention_end(text, at) {
                Some(end) => {
                    line.span(Span::Mention {
                        text: text[at..end].to_owned(),
                        username: text[after..end].to_ascii_lowercase(),
                    });
                    end
                }
                None => {
                    line.text("@");
                    after
                }
            },
            'h' | 'H' | 'm' | 'M' => match url_end(text, at) {
                Some(end) => {
                    let url = &text[at..end];
                    line.span(Span::Link {
                        href: url.to_owned(),
                        text: url.to_owned(),
                    });
                    end
                }
                None => {
                    line.text(&text[at..after]);
                    after
                }
            },
            '*' | '_' => {
                let before = text[..at].chars().next_back();
                let next = text[after..].chars().next();
                line.marker(c, before, next);
                after
            }
            _ => {
                line.text(&text[at..after]);
                after
            }
        };
    }
    line.give_up_markers();
    for item in line.items {
        push(out, item);
    }
}

impl Inline {
    fn text(&mut self, text: &str) {
        match self.items.last_mut() {
            Some(Item::Span(Span::Text(last))) => last.push_str(text),
            _ => self.items.push(Item::Span(Span::Text(text.to_owned()))),
        }
    }

    fn span(&mut self, span: Span) {
        self.items.push(Item::Span(span));
    }

    fn count(&mut self, marker: Marker) -> &mut usize {
        match marker {
            Marker::Bold => &mut self.open_bold,
            Marker::Italic => &mut self.open_italic,
        }
    }

    /// A `*` or `_` between `before` and `next` (`None`: the edge of the
    /// text): it closes, opens, or is text.
    fn marker(&mut self, c: char, before: Option<char>, next: Option<char>) {
        let Some(marker) = Marker::of(c) else {
            return;
        };
        // `**`, `__init__`: text.
        if before == Some(c) || next == Some(c) {
            self.text(marker.text());
            return;
        }
        let can_close =
            before.is_some_and(|b| !b.is_whitespace()) && next.is_none_or(|n| !n.is_alphanumeric());
        if can_close && self.close(marker) {
            return;
        }
        let can_open = before.is_none_or(|b| !b.is_alphanumeric())
            && next.is_some_and(|n| !n.is_whitespace())
            && self.open.len() < MAX_OPEN;
        if can_open {
            self.items.push(Item::Open(marker));
            self.open.push(self.items.len() - 1);
            *self.count(marker) += 1;
        } else {
            self.text(marker.text());
        }
    }

    /// Closes the nearest open `marker` if anything is between: what it
    /// encloses becomes its children, and markers opened after it turn to
    /// text.
    fn close(&mut self, marker: Marker) -> bool {
        if *self.count(marker) == 0 {
            return false;
        }
        let Some(depth) = self
            .open
            .iter()
            .rposition(|&i| matches!(self.items[i], Item::Open(m) if m == marker))
        else {
            return false;
        };
        let opener = self.open[depth];
        if opener + 1 == self.items.len() {
            return false;
        }
        for later in self.open.split_off(depth + 1) {
            self.give_up(later);
        }
        self.open.pop();
        *self.count(marker) -= 1;
        let mut children = Vec::new();
        for item in self.items.drain(opener + 1..) {
            push(&mut children, item);
        }
        self.items[opener] = Item::Span(marker.wrap(children));
        true
    }

    /// At the end of a line (or of the text) markers still open are text.
    fn give_up_markers(&mut self) {
        for opener in std::mem::take(&mut self.open) {
            self.give_up(opener);
        }
    }

    fn give_up(&mut self, index: usize) {
        if let Item::Open(marker) = self.items[index] {
            *self.count(marker) -= 1;
            self.items[index] = Item::Span(Span::Text(marker.text().to_owned()));
        }
    }
}

/// Adds an item to finished spans, joining neighbouring text.
fn push(spans: &mut Vec<Span>, item: Item) {
    let span = match item {
        Item::Span(span) => span,
        // Every marker is closed or turned to text before this.
        Item::Open(marker) => Span::Text(marker.text().to_owned()),
    };
    match (spans.last_mut(), span) {
        (Some(Span::Text(last)), Span::Text(text)) => last.push_str(&text),
        (_, span) => spans.push(span),
    }
}

/// The closing backtick of code that starts at `from`: the next backtick on
/// the line, if anything is between.
fn code_end(text: &str, from: usize) -> Option<usize> {
    let length = text[from..].find(['`', '\n'])?;
    (length > 0 && text.as_bytes()[from + length] == b'`').then_some(from + length)
}

/// Where a mention whose `@` is at `at` ends: 3 to 32 name characters (in
/// any case: names are lowercase, people type capitals), not glued to a
/// word on either side.
fn mention_end(text: &str, at: usize) -> Option<usize> {
    if text[..at]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
    {
        return None;
    }
    let name = at + 1;
    // One more than a name may hold: a longer run is not a name.
    let length = text.as_bytes()[name..]
        .iter()
        .take(NAME_MAX + 1)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    let glued = text[name + length..]
        .chars()
        .next()
        .is_some_and(char::is_alphanumeric);
    ((NAME_MIN..=NAME_MAX).contains(&length) && !glued).then_some(name + length)
}

/// Where a URL that starts at `at` ends, if one does.
fn url_end(text: &str, at: usize) -> Option<usize> {
    if text[..at]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
    {
        return None;
    }
    let rest = &text[at..];
    let scheme = SCHEMES.iter().find(|scheme| {
        rest.as_bytes()
            .get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme.as_bytes()))
    })?;
    let length = rest
        .find(|c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '`'))
        .unwrap_or(rest.len());
    let mut url = &rest[..length];
    // Punctuation after a URL ends the sentence, not the URL; a bracket
    // closes one opened inside it ("…/Rust_(language)") or is the
    // sentence's ("(see https://…)").
    let mut parens = (url.matches('(').count(), url.matches(')').count());
    let mut squares = (url.matches('[').count(), url.matches(']').count());
    while let Some(last) = url.chars().next_back() {
        let trailing = match last {
            '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '*' | '_' => true,
            ')' if parens.1 > parens.0 => {
                parens.1 -= 1;
                true
            }
            ']' if squares.1 > squares.0 => {
                squares.1 -= 1;
                true
            }
            _ => false,
        };
        if !trailing {
            break;
        }
        url = &url[..url.len() - last.len_utf8()];
    }
    (url.len() > scheme.len()).then_some(at + url.len())
}

#[cfg(test)]
#[path = "markup_tests.rs"]
mod tests;
