//! Files sent with a message (docs/protocol.md 2.21, 3.14, 3.15): what an
//! upload answers, what `message.receive`, history pages and the inbox say
//! of each, and the rules both sides check before anything is sent.

use super::ids::AttachmentId;
#[cfg(not(feature = "ssr"))]
use serde::Deserialize;
use serde::Serialize;

/// Files one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;

/// Characters of a file's name that are kept.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// An uploaded file, as the upload answers it and as every message that
/// carries it describes it. `width` and `height` are there exactly for the
/// images natter shows inline (and has a thumbnail of).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(not(feature = "ssr"), derive(Deserialize))]
pub struct Attachment {
    pub attachment_id: AttachmentId,
    pub name: String,
    /// Bytes.
    pub size: u64,
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl Attachment {
    /// Shown inline, as a thumbnail that opens full size.
    pub fn is_image(&self) -> bool {
        self.width.is_some() && self.height.is_some()
    }

    /// Where its bytes are (for its members).
    pub fn url(&self) -> String {
        format!("/api/v1/attachments/{}", self.attachment_id)
    }

    /// Where its thumbnail is (images only).
    pub fn thumb_url(&self) -> String {
        format!("/api/v1/attachments/{}/thumb", self.attachment_id)
    }
}

/// What a conversation's row in the inbox says of a message that is only
/// files: "📷 Photo", or the first file's name.
pub fn attachment_preview(attachments: &[Attachment]) -> Option<String> {
    let first = attachments.first()?;
    Some(if first.is_image() {
        "📷 Photo".to_owned()
    } else {
        format!("📎 {}", first.name)
    })
}

/// The server reads what clients send: `message.send` names its files by
/// id (`"att_…"`), and a client may send the whole object back (only its
/// id is read); everywhere else an attachment is the whole object. The
/// browser reads only objects (the plain derive: the bundle stays small).
#[cfg(feature = "ssr")]
mod read {
    use super::{Attachment, AttachmentId};
    use serde::de::{self, MapAccess, Visitor};
    use serde::{Deserialize, Deserializer};
    use std::fmt;

    /// The object form.
    #[derive(Deserialize)]
    struct Described {
        attachment_id: AttachmentId,
        #[serde(default)]
        name: String,
        #[serde(default)]
        size: u64,
        #[serde(default)]
        content_type: String,
        #[serde(default)]
        width: Option<u32>,
        #[serde(default)]
        height: Option<u32>,
    }

    impl<'de> Deserialize<'de> for Attachment {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Either;
            impl<'de> Visitor<'de> for Either {
                type Value = Attachment;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("an attachment id or an attachment")
                }
                fn visit_str<E: de::Error>(self, text: &str) -> Result<Attachment, E> {
                    let id = AttachmentId::parse(text)
                        .ok_or_else(|| E::custom("expected att_ followed by 32 hex digits"))?;
                    Ok(Attachment {
                        attachment_id: id,
                        name: String::new(),
                        size: 0,
                        content_type: String::new(),
                        width: None,
                        height: None,
                    })
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Attachment, A::Error> {
                    let d = Described::deserialize(de::value::MapAccessDeserializer::new(map))?;
                    Ok(Attachment {
                        attachment_id: d.attachment_id,
                        name: d.name,
                        size: d.size,
                        content_type: d.content_type,
                        width: d.width,
                        height: d.height,
                    })
                }
            }
            deserializer.deserialize_any(Either)
        }
    }
}

/// A file's name as given, made safe to store and to show: only its last
/// path component, without control characters, at most
/// [`MAX_FILE_NAME_CHARS`]; "file" when nothing is left.
pub fn clean_file_name(given: &str) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let kept = kept.trim();
    if kept.is_empty() || kept == "." || kept == ".." {
        "file".to_owned()
    } else {
        kept.to_owned()
    }
}

/// A size for people: "812 B", "14 KB", "3.2 MB".
pub fn human_size(bytes: u64) -> String {
    const KB: u64 = 1000;
    const MB: u64 = 1000 * KB;
    if bytes < KB {
        format!("{bytes} B")
    } else if bytes < MB {
        format!("{} KB", bytes.div_ceil(KB))
    } else {
        // One decimal without float formatting (which costs the bundle).
        let tenths = (bytes * 10).div_ceil(MB);
        format!("{}.{} MB", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id() -> AttachmentId {
        AttachmentId::parse("att_0190a6f8c2b47cc1a1b2c3d4e5f60718").unwrap()
    }

    #[test]
    fn an_attachment_reads_from_its_id_or_from_the_whole_object() {
        let bare: Attachment = serde_json::from_value(json!(id().to_string())).unwrap();
        assert_eq!(bare.attachment_id, id());
        let photo = Attachment {
            attachment_id: id(),
            name: "cat.jpg".into(),
            size: 1234,
            content_type: "image/jpeg".into(),
            width: Some(640),
            height: Some(480),
        };
        let text = serde_json::to_value(&photo).unwrap();
        assert_eq!(
            text,
            json!({"attachment_id": id().to_string(), "name": "cat.jpg", "size": 1234,
                   "content_type": "image/jpeg", "width": 640, "height": 480})
        );
        assert_eq!(serde_json::from_value::<Attachment>(text).unwrap(), photo);
        assert!(serde_json::from_value::<Attachment>(json!("conv_x")).is_err());
        assert!(serde_json::from_value::<Attachment>(json!(7)).is_err());
    }

    #[test]
    fn a_file_name_loses_its_folders_and_control_characters() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\me\\cv.pdf"), "cv.pdf");
        assert_eq!(clean_file_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_file_name("  "), "file");
        assert_eq!(clean_file_name(".."), "file");
        assert_eq!(clean_file_name(&"é".repeat(300)).chars().count(), 255);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(14_200), "15 KB");
        assert_eq!(human_size(3_210_000), "3.3 MB");
        assert_eq!(human_size(25_000_000), "25.0 MB");
    }

    #[test]
    fn the_inbox_says_photo_or_the_files_name() {
        let mut file = Attachment {
            attachment_id: id(),
            name: "report.pdf".into(),
            size: 1,
            content_type: "application/pdf".into(),
            width: None,
            height: None,
        };
        assert_eq!(
            attachment_preview(std::slice::from_ref(&file)).as_deref(),
            Some("📎 report.pdf")
        );
        file.width = Some(1);
        file.height = Some(1);
        assert_eq!(attachment_preview(&[file]).as_deref(), Some("📷 Photo"));
        assert_eq!(attachment_preview(&[]), None);
    }
}
