//! Message search (`GET /api/v1/search`, `/api/search`): what a search
//! says (words and filters, parsed once here for the server and the page
//! alike) and the page of results it answers with.

use super::dto::ConversationKind;
use super::error::ApiError;
use super::ids::{ConversationId, MessageId, UserId};
use super::validate::Username;
use serde::{Deserialize, Serialize};

/// A search's `q` is 1 to this many characters.
pub const SEARCH_MAX_CHARS: usize = 200;
/// Results per page unless asked otherwise.
pub const SEARCH_PAGE: i64 = 20;
/// Results per page at most.
pub const SEARCH_MAX_PAGE: i64 = 50;

/// A page of results: `next_cursor` is set when more follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    pub results: Vec<SearchHit>,
    pub next_cursor: Option<String>,
}

/// One message that matched, with what a page needs to show it and to
/// open its conversation around it (`/c/{conversation_id}?m={message_id}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub kind: ConversationKind,
    /// A group's title; null for direct chats and untitled groups.
    pub title: Option<String>,
    /// The other person of a direct chat; null for a group.
    pub participant_name: Option<String>,
    pub sender_id: UserId,
    pub sender_name: String,
    /// As stored ([1.3] of the contract): the sender's clock.
    pub timestamp: i64,
    /// The matching part of the text, the matched words marked: plain
    /// text pieces in order, to be shown as text (never as HTML).
    pub snippet: Vec<SnippetPiece>,
}

/// A piece of a snippet: `hit` pieces are the words that matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetPiece {
    pub text: String,
    pub hit: bool,
}

/// How results are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SearchSort {
    /// The newest message first (the default).
    #[default]
    Newest,
    /// The best match first (`ts_rank`), newest first among equals.
    Rank,
}

impl SearchSort {
    /// `newest`, `rank`, or empty / absent for the default.
    pub fn parse(text: Option<&str>) -> Result<Self, ApiError> {
        match text.unwrap_or("") {
            "" | "newest" => Ok(Self::Newest),
            "rank" => Ok(Self::Rank),
            _ => Err(ApiError::invalid("sort", "sort must be newest or rank")),
        }
    }
}

/// A search as typed, taken apart: the words for PostgreSQL's
/// `websearch_to_tsquery` (quotes, `or`, `-word`) and the filters
/// `in:<conversation_id>` and `from:<username>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// What is left once the filters are taken out, as typed.
    pub words: String,
    /// Whether the last word is still being typed: a bare word at the very
    /// end, matched as a prefix (`li` finds `link`).
    pub prefix: bool,
    pub conversation: Option<ConversationId>,
    pub from: Option<Username>,
}

fn bad_q(message: &str) -> ApiError {
    ApiError::invalid("q", message)
}

impl SearchQuery {
    /// Takes `q` apart. Filters are words of their own outside quotes,
    /// each at most once; everything else is searched for.
    pub fn parse(q: &str) -> Result<Self, ApiError> {
        let chars = q.chars().count();
        if q.trim().is_empty() || chars > SEARCH_MAX_CHARS {
            return Err(bad_q(&format!(
                "q must be 1 to {SEARCH_MAX_CHARS} characters"
            )));
        }
        // NUL cannot reach PostgreSQL at all; the others are nothing to
        // search for.
        if q.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err(bad_q("q must not hold control characters"));
        }
        let mut words: Vec<&str> = Vec::new();
        let mut conversation = None;
        let mut from = None;
        let mut quoted = false;
        for token in q.split_whitespace() {
            let filter = (!quoted).then(|| filter_of(token)).flatten();
            quoted ^= token.matches('"').count() % 2 == 1;
            match filter {
                Some(Filter::In(value)) => {
                    let id = ConversationId::parse(value)
                        .ok_or_else(|| bad_q("in: must name a conversation (in:conv_…)"))?;
                    if conversation.replace(id).is_some() {
                        return Err(bad_q("give in: at most once"));
                    }
                }
                Some(Filter::From(value)) => {
                    let name = value.strip_prefix('@').unwrap_or(value);
                    let name = Username::parse_typed(name)
                        .map_err(|_| bad_q("from: must name a person (from:username)"))?;
                    if from.replace(name).is_some() {
                        return Err(bad_q("give from: at most once"));
                    }
                }
                None => words.push(token),
            }
        }
        if !words.iter().any(|w| w.chars().any(char::is_alphanumeric)) {
            return Err(bad_q("search for at least one word"));
        }
        let last = words.last().copied().unwrap_or("");
        let prefix = !quoted
            && !q.ends_with(char::is_whitespace)
            && !last.eq_ignore_ascii_case("or")
            && last
                .chars()
                .all(|c| c.is_alphabetic() || c.is_ascii_digit());
        Ok(Self {
            words: words.join(" "),
            prefix,
            conversation,
            from,
        })
    }
}

enum Filter<'a> {
    In(&'a str),
    From(&'a str),
}

fn filter_of(token: &str) -> Option<Filter<'_>> {
    let (name, value) = token.split_once(':')?;
    if name.eq_ignore_ascii_case("in") {
        Some(Filter::In(value))
    } else if name.eq_ignore_ascii_case("from") {
        Some(Filter::From(value))
    } else {
        None
    }
}

/// Where a highlighted word starts and ends in the text the database
/// returns: characters of Unicode's private use area, which natter removes
/// from the message before highlighting, so no message can forge one.
pub const HIT_START: char = '\u{E000}';
pub const HIT_END: char = '\u{E001}';
/// `<` and `&` as the database hands them back (its highlighter would
/// drop what looks like an HTML tag): control characters, which it
/// removes from the message first.
const LESS_THAN: char = '\u{1}';
const AMPERSAND: char = '\u{2}';

/// Cuts a highlighted text into pieces at natter's marks: the marked
/// pieces are hits. Empty pieces are dropped and neighbours of the same
/// kind joined.
pub fn snippet_pieces(marked: &str) -> Vec<SnippetPiece> {
    let mut pieces: Vec<SnippetPiece> = Vec::new();
    let mut hit = false;
    let mut push = |text: &str, hit: bool| {
        if text.is_empty() {
            return;
        }
        let text = &text.replace(LESS_THAN, "<").replace(AMPERSAND, "&");
        match pieces.last_mut() {
            Some(last) if last.hit == hit => last.text.push_str(text),
            _ => pieces.push(SnippetPiece {
                text: text.to_owned(),
                hit,
            }),
        }
    };
    let mut rest = marked;
    while let Some(at) = rest.find([HIT_START, HIT_END]) {
        push(&rest[..at], hit);
        hit = rest[at..].starts_with(HIT_START);
        rest = &rest[at + HIT_START.len_utf8()..];
    }
    push(rest, hit);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> SearchQuery {
        SearchQuery::parse(q).unwrap()
    }

    fn refused(q: &str) -> String {
        let error = SearchQuery::parse(q).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("q"), "{q}");
        error.message
    }

    #[test]
    fn filters_are_taken_out_and_the_rest_searched_as_typed() {
        let q = parse("from:Bob \"the link\" in:conv_0190a6f8c2b47cc1a1b2c3d4e5f60718 -spam");
        assert_eq!(q.words, "\"the link\" -spam");
        assert_eq!(q.from.unwrap().to_string(), "bob");
        assert_eq!(
            q.conversation.unwrap().to_string(),
            "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718"
        );
        assert!(!q.prefix, "an exclusion is not typed on");
        // Inside quotes a filter is just words.
        assert_eq!(parse("\"from:bob said\" hi").words, "\"from:bob said\" hi");
        assert_eq!(
            parse("from:@alice lunch").from.unwrap().to_string(),
            "alice"
        );
    }

    #[test]
    fn only_a_bare_last_word_still_being_typed_is_a_prefix() {
        assert!(parse("where is the li").prefix);
        assert!(parse("café").prefix);
        assert!(!parse("where is the link ").prefix, "finished with a space");
        assert!(!parse("\"the li\"").prefix);
        assert!(!parse("\"the li").prefix, "still inside quotes");
        assert!(!parse("cats or").prefix);
        assert!(!parse("a-b").prefix);
        assert!(!parse("li:*").prefix);
    }

    #[test]
    fn bad_searches_are_refused_on_q() {
        assert_eq!(refused(""), "q must be 1 to 200 characters");
        assert_eq!(refused("   "), "q must be 1 to 200 characters");
        assert_eq!(refused(&"a".repeat(201)), "q must be 1 to 200 characters");
        assert!(SearchQuery::parse(&"é".repeat(200)).is_ok());
        assert_eq!(refused("a\u{0}"), "q must not hold control characters");
        assert_eq!(refused("from:bob"), "search for at least one word");
        assert_eq!(refused("\"\" -- ::"), "search for at least one word");
        assert_eq!(
            refused("in:nope hi"),
            "in: must name a conversation (in:conv_…)"
        );
        assert_eq!(
            refused("from:B@d hi"),
            "from: must name a person (from:username)"
        );
        assert_eq!(refused("from:abc from:bcd hi"), "give from: at most once");
    }

    #[test]
    fn snippets_are_cut_at_the_marks_only() {
        let marked = format!(
            "see {HIT_START}link{HIT_END} {LESS_THAN}b>x{LESS_THAN}/b> {HIT_START}li{HIT_END}"
        );
        assert_eq!(
            snippet_pieces(&marked),
            vec![
                SnippetPiece {
                    text: "see ".into(),
                    hit: false
                },
                SnippetPiece {
                    text: "link".into(),
                    hit: true
                },
                SnippetPiece {
                    text: " <b>x</b> ".into(),
                    hit: false
                },
                SnippetPiece {
                    text: "li".into(),
                    hit: true
                },
            ]
        );
        assert_eq!(snippet_pieces(""), vec![]);
        assert_eq!(
            snippet_pieces(&format!("{HIT_START}{HIT_END}a")),
            vec![SnippetPiece {
                text: "a".into(),
                hit: false
            }]
        );
    }

    #[test]
    fn sort_is_newest_or_rank() {
        assert_eq!(SearchSort::parse(None).unwrap(), SearchSort::Newest);
        assert_eq!(SearchSort::parse(Some("rank")).unwrap(), SearchSort::Rank);
        assert_eq!(
            SearchSort::parse(Some("oldest"))
                .unwrap_err()
                .field
                .as_deref(),
            Some("sort")
        );
    }
}
