//! Picking `@username` in a group's composer: which name is being typed
//! before the caret, and which members it could be.

/// How many names the picker offers at once.
pub(crate) const MAX_OFFERED: usize = 6;

/// The mention being typed at the end of `before` (the text up to the
/// caret): where its `@` is (a byte offset) and what follows it so far.
/// The `@` starts the text or follows a space or punctuation (not a
/// letter: `bob@example` is an address).
pub(crate) fn typing_mention(before: &str) -> Option<(usize, &str)> {
    let at = before.rfind('@')?;
    let query = &before[at + 1..];
    if !query.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let prior = before[..at].chars().next_back();
    if prior.is_some_and(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    Some((at, query))
}

/// The members whose name starts with `query` (any case), in the order
/// given, at most [`MAX_OFFERED`].
pub(crate) fn offered<'a>(members: &'a [String], query: &str) -> Vec<&'a str> {
    let query = query.to_ascii_lowercase();
    members
        .iter()
        .filter(|name| name.starts_with(&query))
        .take(MAX_OFFERED)
        .map(String::as_str)
        .collect()
}

/// `text` with the mention typed at `at` up to `caret` replaced by
/// `@name ` ; and where the caret goes after it (bytes).
pub(crate) fn complete(text: &str, at: usize, caret: usize, name: &str) -> (String, usize) {
    let inserted = format!("@{name} ");
    let mut out = String::with_capacity(text.len() + inserted.len());
    out.push_str(&text[..at]);
    out.push_str(&inserted);
    out.push_str(text.get(caret..).unwrap_or_default());
    (out, at + inserted.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mention_is_typed_after_a_space_or_at_the_start() {
        assert_eq!(typing_mention("@"), Some((0, "")));
        assert_eq!(typing_mention("hi @bo"), Some((3, "bo")));
        assert_eq!(typing_mention("(@car"), Some((1, "car")));
        assert_eq!(typing_mention("mail bob@exa"), None, "an address");
        assert_eq!(typing_mention("hi @bob and"), None, "finished");
        assert_eq!(typing_mention("no at"), None);
    }

    #[test]
    fn names_are_offered_by_prefix_and_completed_in_place() {
        let members: Vec<String> = ["bob", "bobby", "carol"].map(String::from).to_vec();
        assert_eq!(offered(&members, "Bo"), ["bob", "bobby"]);
        assert_eq!(offered(&members, ""), ["bob", "bobby", "carol"]);
        assert!(offered(&members, "x").is_empty());
        let (text, caret) = complete("hi @bo, there", 3, 6, "bobby");
        assert_eq!(text, "hi @bobby , there");
        assert_eq!(caret, 10);
    }
}
