//! Which web origins may call the JSON-RPC HTTP endpoint from a browser (CORS), and the
//! checks on the origins an operator lists. WebSocket handshakes are not subject to CORS.

use std::str::FromStr;

use tower_http::cors::{AllowOrigin, CorsLayer};

/// Origins listed at most.
pub const MAX_ORIGINS: usize = 64;
/// Longest origin, in bytes.
pub const MAX_ORIGIN_BYTES: usize = 256;
/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// The origins whose pages may read JSON-RPC HTTP responses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No cross-origin page: responses carry no CORS headers, so browsers keep them from
    /// scripts of other origins.
    #[default]
    None,
    /// Every origin (`*`): for dev chains and public read-only endpoints.
    Any,
    /// These origins, each `scheme://host[:port]` in lower case.
    List(Vec<String>),
}

/// Why a list of origins is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorsError {
    /// More origins than [`MAX_ORIGINS`].
    #[error("{count} origins listed; at most {MAX_ORIGINS}")]
    TooMany {
        /// How many were listed.
        count: usize,
    },
    /// `*` together with named origins.
    #[error("'*' allows every origin and stands alone, without other origins")]
    WildcardWithOthers,
    /// One origin is malformed.
    #[error("origin {origin:?}: {reason}")]
    Origin {
        /// The origin as given (cut to [`MAX_ORIGIN_BYTES`]).
        origin: String,
        /// What is wrong.
        reason: String,
    },
}

impl CorsOrigins {
    /// Reads a list of origins: `["*"]` for any, an empty list or `["none"]` for none.
    pub fn from_list<S: AsRef<str>>(items: &[S]) -> Result<CorsOrigins, CorsError> {
        if items.len() > MAX_ORIGINS {
            return Err(CorsError::TooMany { count: items.len() });
        }
        let items: Vec<&str> = items.iter().map(|s| s.as_ref().trim()).collect();
        match items.as_slice() {
            [] | ["none"] => return Ok(CorsOrigins::None),
            ["*"] => return Ok(CorsOrigins::Any),
            _ if items.contains(&"*") => return Err(CorsError::WildcardWithOthers),
            _ => {}
        }
        let mut origins = items.into_iter().map(origin).collect::<Result<Vec<_>, _>>()?;
        origins.sort();
        origins.dedup();
        Ok(CorsOrigins::List(origins))
    }

    /// The HTTP middleware answering preflights and adding the headers; `None` when no
    /// cross-origin page is allowed.
    pub(crate) fn layer(&self) -> Option<CorsLayer> {
        let allow = match self {
            CorsOrigins::None => return None,
            CorsOrigins::Any => AllowOrigin::any(),
            // Checked by `origin`, so every one is a valid header value.
            CorsOrigins::List(list) => AllowOrigin::list(list.iter().filter_map(|o| o.parse().ok())),
        };
        Some(
            CorsLayer::new()
                .allow_origin(allow)
                .allow_methods([http::Method::POST])
                .allow_headers([http::header::CONTENT_TYPE])
                .max_age(PREFLIGHT_MAX_AGE),
        )
    }
}

/// A comma-separated list, as on the command line: `*`, `none`, or origins.
impl FromStr for CorsOrigins {
    type Err = CorsError;

    fn from_str(s: &str) -> Result<CorsOrigins, CorsError> {
        let items: Vec<&str> = s.split(',').map(str::trim).filter(|i| !i.is_empty()).collect();
        CorsOrigins::from_list(&items)
    }
}

/// Checks one origin and returns it in lower case, the form browsers send.
fn origin(text: &str) -> Result<String, CorsError> {
    let refuse = |reason: &str| CorsError::Origin {
        origin: text.chars().take(MAX_ORIGIN_BYTES).collect(),
        reason: reason.to_owned(),
    };
    if text.len() > MAX_ORIGIN_BYTES {
        return Err(refuse(&format!("{} bytes; an origin is at most {MAX_ORIGIN_BYTES}", text.len())));
    }
    let lower = text.to_ascii_lowercase();
    let uri: http::Uri = lower.parse().map_err(|e| refuse(&format!("not scheme://host[:port]: {e}")))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(refuse("not scheme://host[:port], e.g. http://localhost:5173"));
    };
    if !matches!(scheme, "http" | "https") {
        return Err(refuse("the scheme must be http or https"));
    }
    if authority.as_str().contains('@') {
        return Err(refuse("an origin has no user name"));
    }
    if authority.host().is_empty() {
        return Err(refuse("the host is empty"));
    }
    // `Uri` reports a path of "/" whether or not one was written: compare the text instead.
    if lower.len() != scheme.len() + "://".len() + authority.as_str().len() {
        return Err(refuse(
            "an origin has no path, query or trailing '/': browsers send scheme://host[:port]",
        ));
    }
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_normalize() {
        assert_eq!("".parse(), Ok(CorsOrigins::None));
        assert_eq!("none".parse(), Ok(CorsOrigins::None));
        assert_eq!(" * ".parse(), Ok(CorsOrigins::Any));
        assert_eq!(
            "http://LocalHost:5173, https://app.example,http://localhost:5173".parse(),
            Ok(CorsOrigins::List(vec!["http://localhost:5173".into(), "https://app.example".into()]))
        );
        assert_eq!("http://[::1]:8080".parse(), Ok(CorsOrigins::List(vec!["http://[::1]:8080".into()])));
    }

    #[test]
    fn bad_origins_are_refused_with_the_reason() {
        let reason = |s: &str| match s.parse::<CorsOrigins>() {
            Err(CorsError::Origin { reason, .. }) => reason,
            other => panic!("{s}: {other:?}"),
        };
        assert!(reason("http://localhost:5173/").contains("no path"));
        assert!(reason("http://a.example/app").contains("no path"));
        assert!(reason("http://a.example?x=1").contains("no path"));
        assert!(reason("localhost:5173").contains("scheme"));
        assert!(reason("ftp://a.example").contains("http or https"));
        assert!(reason("http://user@a.example").contains("user name"));
        assert!(reason("null").contains("scheme://host"));
        assert!(reason(&format!("http://{}.example", "a".repeat(300))).contains("at most 256"));
        assert_eq!("*,http://a.example".parse::<CorsOrigins>(), Err(CorsError::WildcardWithOthers));
        let many = vec!["http://a.example"; MAX_ORIGINS + 1];
        assert_eq!(CorsOrigins::from_list(&many), Err(CorsError::TooMany { count: 65 }));
    }
}
