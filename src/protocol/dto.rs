//! Bodies of the REST API and of the server functions behind the pages.

use super::actions::Quote;
use super::attachments::Attachment;
use super::ids::{ConversationId, MessageId, UserId};
use super::validate::{Content, Emoji, Password, Title, Username};
use serde::{Deserialize, Serialize};

/// A person as others see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub user_id: UserId,
    pub username: String,
}

/// `POST /api/v1/auth/register`: a new account, both fields held to their
/// rules.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct NewAccount {
    pub username: Username,
    pub password: Password,
}

/// `POST /api/v1/auth/login`: whatever was typed, checked against the
/// accounts (a name that breaks the rules simply matches none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// The answer to a successful register or login. `token` is the session,
/// usable as `Authorization: Bearer`; the same session is also set as the
/// cookie.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResponse {
    pub user_id: UserId,
    pub username: String,
    pub token: String,
}

/// `GET /api/v1/users?q=`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserSummary>,
}

/// On the wire, `"direct"` or `"group"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConversationKind {
    Direct,
    Group,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Group => "group",
        }
    }
}

// By hand, as `ErrorCode`: a string, without the derive's enum machinery in
// the browser's bundle.
impl Serialize for ConversationKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ConversationKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match String::deserialize(deserializer)?.as_str() {
            "direct" => Ok(Self::Direct),
            "group" => Ok(Self::Group),
            _ => Err(serde::de::Error::custom("not a conversation kind")),
        }
    }
}

/// `POST /api/v1/conversations`: one other participant makes (or finds) the
/// direct chat, two or more make a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateConversation {
    pub participants: Vec<UserId>,
    #[serde(default)]
    pub title: Title,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub conversation_id: ConversationId,
    pub kind: ConversationKind,
    pub title: Option<String>,
    /// Everyone in it now.
    pub participants: Vec<UserSummary>,
    /// Those who left the group (their messages stay, with their names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_participants: Vec<UserSummary>,
    /// How far each member has received and read (`GET
    /// /api/v1/conversations/:id` and the page; empty elsewhere).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<MemberMarkers>,
    /// The caller muted it (docs/protocol.md 3.16): it counts in their
    /// inbox but raises no notification and no count in the tab's title.
    #[serde(default)]
    pub muted: bool,
}

/// One member's markers: the newest message that has reached one of their
/// devices, and the newest they have read (null while at the start).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberMarkers {
    pub user_id: UserId,
    pub delivered: Option<MessageId>,
    pub read: Option<MessageId>,
}

/// One message as it is now (a history page, the change stream).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryMessage {
    pub message_id: MessageId,
    pub sender_id: UserId,
    /// Null once deleted.
    pub content: Option<Content>,
    pub timestamp: i64,
    /// The conversation's change that last touched it.
    #[serde(default)]
    pub change: i64,
    /// When it was last edited (server clock, ms); absent if never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    /// The message it answers, as that one is now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Quote>,
    /// In the order each emoji was first given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// Its files, in the order sent (none once deleted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One emoji on a message, as one reader sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: Emoji,
    pub count: i64,
    /// The reader is one of them.
    pub mine: bool,
    /// The first (at most [`REACTION_NAMES`]) who gave it, earliest first.
    pub users: Vec<UserId>,
}

/// How many of those who gave a reaction it names.
pub const REACTION_NAMES: usize = 10;

/// `GET /api/v1/chat/:conversation_id`: newest first; `next_cursor` names the
/// oldest message of this page, or is null when nothing older is left.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub conversation_id: ConversationId,
    pub messages: Vec<HistoryMessage>,
    pub next_cursor: Option<MessageId>,
    /// The conversation's newest change when the page was read: ask for
    /// the changes after it to stay up to date.
    #[serde(default)]
    pub last_change: i64,
}

/// A history page that pages both ways (`around=` and `after=`, and
/// `/api/history_window`): the page, and `newer_cursor`, the id of its
/// newest message when anything newer exists (null when it reaches the
/// newest), to ask `after=` for the next newer page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryWindow {
    #[serde(flatten)]
    pub page: HistoryPage,
    pub newer_cursor: Option<MessageId>,
}

/// `GET /api/v1/chat/:conversation_id/changes?since=`: every message
/// changed (sent, edited, deleted, reacted to) after `since`, each once and
/// as it is now, in the order of its latest change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesPage {
    pub conversation_id: ConversationId,
    pub messages: Vec<HistoryMessage>,
    /// Where the next call starts (`since=last_change`): the last listed
    /// message's change while `more`, else the conversation's newest.
    pub last_change: i64,
    /// More changes follow: ask again from `last_change`.
    pub more: bool,
}

/// One row of the inbox. The first four fields are the spec's; the rest are
/// what the web UI needs to draw the row without another request (and no
/// more: a group's row names a few members, not all of them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub conversation_id: ConversationId,
    /// The other person of a direct chat; null for groups.
    pub participant: Option<UserId>,
    pub last_message: Option<Content>,
    /// The last message's timestamp, or the conversation's creation time
    /// while it is empty (ms since the epoch).
    pub timestamp: i64,
    pub kind: ConversationKind,
    pub title: Option<String>,
    /// Up to three members other than the reader, by name (a direct
    /// chat's other person; the first few of a group).
    pub participants: Vec<UserSummary>,
    /// How many are in it now, the reader included.
    pub member_count: i64,
    pub participant_name: Option<String>,
    pub last_sender_id: Option<UserId>,
    pub last_sender_name: Option<String>,
    pub last_message_id: Option<MessageId>,
    pub unread_count: i64,
    /// The last message's first file, if it has any (the row says
    /// "📷 Photo" or its name when there is no text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attachment: Option<Attachment>,
    /// The reader muted this conversation (docs/protocol.md 3.16).
    #[serde(default)]
    pub muted: bool,
}

/// `GET /api/v1/chats/:user_id`: a page of the inbox, most recent activity
/// first; `next_cursor` asks for the page after it, null at the end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    pub chats: Vec<InboxEntry>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conv() -> ConversationId {
        ConversationId::parse("conv_0190a6f8c2b47cc1a1b2c3d4e5f60718").unwrap()
    }
    fn user(n: u8) -> UserId {
        UserId::parse(&format!("user_0190a6f8c2b47cc1a1b2c3d4e5f607{n:02}")).unwrap()
    }
    fn mid(text: &str) -> MessageId {
        MessageId::parse(text).unwrap()
    }

    #[test]
    fn a_history_page_is_the_specs_json_with_a_null_cursor_at_the_end() {
        let page = HistoryPage {
            conversation_id: conv(),
            messages: vec![HistoryMessage {
                message_id: mid("msg_xyz789"),
                sender_id: user(1),
                content: Some(Content::parse("hey").unwrap()),
                timestamp: 1713087600000,
                change: 7,
                edited_at: None,
                deleted: false,
                reply: None,
                reactions: vec![],
                attachments: vec![],
            }],
            next_cursor: None,
            last_change: 9,
        };
        assert_eq!(
            serde_json::to_value(&page).unwrap(),
            json!({"conversation_id": "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718",
                   "messages": [{"message_id": "msg_xyz789",
                                 "sender_id": "user_0190a6f8c2b47cc1a1b2c3d4e5f60701",
                                 "content": "hey", "timestamp": 1713087600000i64,
                                 "change": 7}],
                   "next_cursor": null, "last_change": 9})
        );
        let more = HistoryPage {
            next_cursor: Some(mid("msg_abc456")),
            ..page
        };
        assert_eq!(
            serde_json::to_value(&more).unwrap()["next_cursor"],
            "msg_abc456"
        );
    }

    #[test]
    fn an_inbox_entry_has_the_specs_fields_and_the_extras() {
        let bob = UserSummary {
            user_id: user(2),
            username: "bob".into(),
        };
        let inbox = Inbox {
            chats: vec![InboxEntry {
                conversation_id: conv(),
                participant: Some(bob.user_id),
                last_message: Some(Content::parse("hey").unwrap()),
                timestamp: 1713087600000,
                kind: ConversationKind::Direct,
                title: None,
                participants: vec![bob],
                member_count: 2,
                participant_name: Some("bob".into()),
                last_sender_id: Some(user(2)),
                last_sender_name: Some("bob".into()),
                last_message_id: Some(mid("msg_xyz789")),
                unread_count: 1,
                last_attachment: None,
                muted: false,
            }],
            next_cursor: Some("1713087600000123_conv_0190a6f8c2b47cc1a1b2c3d4e5f60718".into()),
        };

        assert_eq!(
            serde_json::to_value(&inbox).unwrap(),
            json!({"chats": [{
                "conversation_id": "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718",
                "participant": "user_0190a6f8c2b47cc1a1b2c3d4e5f60702",
                "last_message": "hey",
                "timestamp": 1713087600000i64,
                "kind": "direct",
                "title": null,
                "participants": [
                    {"user_id": "user_0190a6f8c2b47cc1a1b2c3d4e5f60702", "username": "bob"}],
                "member_count": 2,
                "participant_name": "bob",
                "last_sender_id": "user_0190a6f8c2b47cc1a1b2c3d4e5f60702",
                "last_sender_name": "bob",
                "last_message_id": "msg_xyz789",
                "unread_count": 1,
                "muted": false}],
                "next_cursor": "1713087600000123_conv_0190a6f8c2b47cc1a1b2c3d4e5f60718"})
        );
    }

    #[test]
    fn a_conversation_names_its_kind_in_lowercase() {
        let group = Conversation {
            conversation_id: conv(),
            kind: ConversationKind::Group,
            title: Some("Trio".into()),
            participants: vec![],
            former_participants: vec![],
            markers: vec![],
            muted: true,
        };
        assert_eq!(
            serde_json::to_value(&group).unwrap(),
            json!({"conversation_id": "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718",
                   "kind": "group", "title": "Trio", "participants": [], "muted": true})
        );
    }
}
