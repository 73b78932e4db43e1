//! A JSON body extractor whose rejections are [`ApiError`]s naming the field,
//! instead of axum's plain-text ones.

use crate::protocol::{ApiError, ErrorCode};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

pub(crate) struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection_to_error(&rejection)),
        }
    }
}

fn rejection_to_error(rejection: &JsonRejection) -> ApiError {
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => {
            // A validated field's own refusal, or else serde's words.
            crate::protocol::Invalid::from_message(&text).unwrap_or_else(|| ApiError {
                field: field_named_in(&text),
                ..ApiError::new(ErrorCode::InvalidPayload, text)
            })
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorCode::InvalidPayload,
            "send the body as JSON (Content-Type: application/json)",
        ),
        JsonRejection::BytesRejection(_) => ApiError::new(ErrorCode::TooLarge, text),
        _ => ApiError::new(ErrorCode::InvalidJson, text),
    }
}

/// axum puts the path to the bad value first ("...target type:
/// participants[0]: expected user_..."); a missing top-level field has no
/// path but is named in backticks ("missing field `username`"). Either is
/// enough to point at the field.
fn field_named_in(text: &str) -> Option<String> {
    let detail = text.split_once("target type: ").map_or(text, |(_, d)| d);
    if let Some((path, _)) = detail.split_once(": ") {
        let field = path.split(['[', '.']).next().unwrap_or_default();
        if !field.is_empty() && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Some(field.to_owned());
        }
    }
    let start = detail.find('`')?;
    let rest = &detail[start + 1..];
    let end = rest.find('`')?;
    Some(rest[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::field_named_in;

    #[test]
    fn finds_the_field_in_serde_messages() {
        assert_eq!(
            field_named_in(
                "Failed to deserialize the JSON body into the target type: missing field `username` at line 1 column 2"
            ),
            Some("username".into())
        );
        assert_eq!(
            field_named_in(
                "Failed to deserialize the JSON body into the target type: participants[0]: expected user_ at line 1"
            ),
            Some("participants".into())
        );
        assert_eq!(
            field_named_in(
                "Failed to deserialize the JSON body into the target type: participants: invalid type: string \"x\", expected a sequence at line 1 column 55"
            ),
            Some("participants".into())
        );
        assert_eq!(
            field_named_in(
                "Failed to deserialize the JSON body into the target type: invalid type: string \"x\", expected struct Credentials at line 1 column 3"
            ),
            None
        );
    }
}
