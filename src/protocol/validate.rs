//! Input rules that both the browser (to answer before a round trip) and the
//! server (to decide) apply.

use super::error::ApiError;

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
/// Hashing is deliberately slow; an unbounded password would make it a
/// denial-of-service lever.
pub const PASSWORD_MAX: usize = 256;
pub const TITLE_MAX: usize = 100;
/// Members of one group, the creator included.
pub const GROUP_MAX: usize = 1000;

/// 3–32 of `[a-z0-9_]`.
pub fn check_username(username: &str) -> Result<(), ApiError> {
    let len = username.len();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&len)
        || !username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(ApiError::invalid(
            "username",
            format!(
                "Username must be {USERNAME_MIN} to {USERNAME_MAX} characters of a-z, 0-9 and _"
            ),
        ));
    }
    Ok(())
}

pub fn check_password(password: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN {
        return Err(ApiError::invalid(
            "password",
            format!("Password must be at least {PASSWORD_MIN} characters"),
        ));
    }
    if chars > PASSWORD_MAX {
        return Err(ApiError::invalid(
            "password",
            format!("Password must be at most {PASSWORD_MAX} characters"),
        ));
    }
    Ok(())
}

/// A group title, trimmed; empty means none.
pub fn normalize_title(title: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(title) = title.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    // A title is one line of text (and PostgreSQL text cannot hold U+0000).
    if title.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "title",
            "Title cannot contain control characters",
        ));
    }
    if title.chars().count() > TITLE_MAX {
        return Err(ApiError::invalid(
            "title",
            format!("Title must be at most {TITLE_MAX} characters"),
        ));
    }
    Ok(Some(title.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for good in ["abc", "a_b_9", &"z".repeat(32)] {
            assert!(check_username(good).is_ok(), "{good}");
        }
        for bad in ["ab", "Abc", "a-b", "a b", "ünï", &"z".repeat(33), ""] {
            let err = check_username(bad).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("username"), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(check_password("12345678").is_ok());
        assert!(check_password("ééééééé€").is_ok());
        assert_eq!(
            check_password("1234567").unwrap_err().field.as_deref(),
            Some("password")
        );
        assert!(check_password(&"x".repeat(257)).is_err());
    }

    #[test]
    fn titles() {
        assert_eq!(normalize_title(None).unwrap(), None);
        assert_eq!(normalize_title(Some("  ")).unwrap(), None);
        assert_eq!(
            normalize_title(Some(" Team ")).unwrap().as_deref(),
            Some("Team")
        );
        assert!(normalize_title(Some(&"t".repeat(101))).is_err());
        for bad in ["a\0b", "line\nbreak", "bell\u{7}"] {
            let err = normalize_title(Some(bad)).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("title"), "{bad:?}");
        }
    }
}
