//! How server functions talk: JSON, as Leptos's default answer, but read in
//! the browser as text (`serde_json::from_str`) rather than bytes. The
//! pages' resources hydrate from text too, so each answer type is decoded by
//! one copy of its deserializer in the bundle instead of two (one per
//! reader). The functions only the hydrated page calls take their arguments
//! as JSON too, so the bundle needs no URL-encoding serializer for them;
//! those that plain forms post to take form fields (Leptos's default).
//! Both keep the WebAssembly the first page loads within its budget.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON, decoded from text. Public because the public `ApiError` names it
/// as the encoding of its server-function errors.
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}

/// A server function's arguments or answer, in a `POST`.
pub(crate) type Json = Post<JsonText>;
