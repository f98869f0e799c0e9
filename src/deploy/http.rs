//! HTTP for `aisigma deploy`: one blocking client (ureq, TLS verified with the Mozilla roots)
//! with the SIEM's authorization header, JSON bodies, and retries of 429 and 5xx answers
//! with backoff (honouring `Retry-After`). Credentials are never printed: errors name the
//! method and path, not the headers.

use serde_json::Value;
use std::time::Duration;

/// A multipart boundary that does not occur in `content` (RFC 2046, 5.1.1: the boundary
/// must not appear in the body): a fixed prefix and the first counter that is absent.
/// Deterministic, so that the same content gives the same request.
fn boundary_for(content: &[u8]) -> String {
    (0u64..)
        .map(|n| format!("aisigma-boundary-{n:016x}"))
        .find(|b| memchr::memmem::find(content, b.as_bytes()).is_none())
        .expect("a body cannot hold every counter")
}

/// A request that failed.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpError {
    /// The SIEM answered with an error status (after retries for 429 and 5xx).
    Status { status: u16, message: String },
    /// No answer: connection, TLS or timeout.
    Transport(String),
}

impl HttpError {
    /// An authentication or authorization failure: nothing else will work either.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            HttpError::Status {
                status: 401 | 403,
                ..
            }
        )
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Status { status, message } => write!(f, "HTTP {status}: {message}"),
            HttpError::Transport(m) => write!(f, "{m}"),
        }
    }
}

/// A request body.
pub enum Body<'a> {
    None,
    Json(&'a Value),
    Form(&'a [(String, String)]),
    /// A `multipart/form-data` body with one file part: (field name, file name, content).
    File(&'a str, &'a str, &'a [u8]),
}

/// The client of one SIEM.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    auth: String,
    headers: Vec<(String, String)>,
    /// Attempts per request (429 and 5xx are retried).
    pub attempts: u32,
    /// The first backoff; it doubles per retry, at most 30 s, unless `Retry-After` says.
    pub backoff: Duration,
}

/// Whether `url` may be used: `https`, or `http` to this machine (tests, local proxies).
pub fn check_url(url: &str) -> Result<(), String> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!("`{url}` is not an http(s) URL"));
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    if matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        Ok(())
    } else {
        Err(format!(
            "`{url}` is plain http to another machine; use https (TLS is verified)"
        ))
    }
}

impl Client {
    /// A client for `base` (no trailing `/`) that sends `Authorization: <auth>`.
    pub fn new(base: &str, auth: String, headers: Vec<(String, String)>) -> Result<Client, String> {
        check_url(base)?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .user_agent(concat!("aisigma/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(Client {
            agent,
            base: base.trim_end_matches('/').to_string(),
            auth,
            headers,
            attempts: 5,
            backoff: Duration::from_millis(500),
        })
    }

    /// The absolute URL of `path` (a path from the base, or an absolute URL on the same host
    /// as the base, such as Azure's `nextLink`).
    fn url(&self, path: &str) -> Result<String, HttpError> {
        if path.starts_with("http://") || path.starts_with("https://") {
            let host = |u: &str| u.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
            if host(path) != host(&self.base) {
                return Err(HttpError::Transport(format!(
                    "refusing to follow a link to another host: {}",
                    host(path)
                )));
            }
            return Ok(path.to_string());
        }
        Ok(format!("{}{path}", self.base))
    }

    /// Send a request and return the status and JSON body (`null` when empty), retrying 429
    /// and 5xx answers and transport errors.
    pub fn send(&self, method: &str, path: &str, body: Body) -> Result<(u16, Value), HttpError> {
        let url = self.url(path)?;
        let mut wait = self.backoff;
        let mut last = HttpError::Transport("no attempt".into());
        for attempt in 1..=self.attempts.max(1) {
            match self.once(method, &url, &body) {
                Ok((status, retry_after, value)) if status == 429 || status >= 500 => {
                    last = HttpError::Status {
                        status,
                        message: error_message(&value),
                    };
                    if attempt == self.attempts {
                        break;
                    }
                    std::thread::sleep(retry_after.unwrap_or(wait));
                }
                Ok((status, _, value)) if status >= 400 => {
                    return Err(HttpError::Status {
                        status,
                        message: error_message(&value),
                    });
                }
                Ok((status, _, value)) => return Ok((status, value)),
                Err(e) => {
                    last = HttpError::Transport(format!("{method} {path}: {e}"));
                    if attempt == self.attempts {
                        break;
                    }
                    std::thread::sleep(wait);
                }
            }
            wait = (wait * 2).min(Duration::from_secs(30));
        }
        Err(last)
    }

    fn once(
        &self,
        method: &str,
        url: &str,
        body: &Body,
    ) -> Result<(u16, Option<Duration>, Value), ureq::Error> {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("Authorization", &self.auth)
            .header("Accept", "application/json");
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let (content_type, bytes): (Option<String>, Vec<u8>) = match body {
            Body::None => (None, Vec::new()),
            Body::Json(v) => (Some("application/json".into()), v.to_string().into_bytes()),
            Body::Form(pairs) => (
                Some("application/x-www-form-urlencoded".into()),
                form(pairs).into_bytes(),
            ),
            Body::File(field, name, content) => {
                let boundary = boundary_for(content);
                let mut b = format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/x-ndjson\r\n\r\n"
                )
                .into_bytes();
                b.extend_from_slice(content);
                b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
                (Some(format!("multipart/form-data; boundary={boundary}")), b)
            }
        };
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        let req = req
            .body(bytes)
            .map_err(|e| ureq::Error::BadUri(e.to_string()))?;
        let mut resp = self.agent.run(req)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(120)));
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok((status, retry_after, value))
    }
}

/// `application/x-www-form-urlencoded` of `pairs`, in order.
pub fn form(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encode everything but unreserved characters (RFC 3986); a path segment or a query
/// value.
pub fn encode(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// The message of an error body of any of the four SIEMs (Azure's and Google's
/// `{"error": {"message"}}`, Kibana's `{"message"}`, Splunk's `{"messages": [{"text"}]}`).
fn error_message(v: &Value) -> String {
    let m = v["error"]["message"]
        .as_str()
        .or_else(|| v["message"].as_str())
        .or_else(|| v["messages"][0]["text"].as_str())
        .or_else(|| v.as_str())
        .unwrap_or("no message");
    m.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback() {
        assert!(check_url("https://siem.example.com:8089").is_ok());
        assert!(check_url("http://127.0.0.1:5601").is_ok());
        assert!(check_url("http://localhost/x").is_ok());
        assert!(check_url("http://siem.example.com").is_err());
        assert!(check_url("ftp://x").is_err());
    }

    #[test]
    fn multipart_boundary_is_absent_from_the_body() {
        assert_eq!(boundary_for(b"{}"), "aisigma-boundary-0000000000000000");
        let body = b"x aisigma-boundary-0000000000000000 aisigma-boundary-0000000000000001";
        assert_eq!(boundary_for(body), "aisigma-boundary-0000000000000002");
    }

    #[test]
    fn encodes_forms() {
        assert_eq!(form(&[("a b".into(), "x=1&y".into())]), "a%20b=x%3D1%26y");
        assert_eq!(encode("AI Rule / 1"), "AI%20Rule%20%2F%201");
    }
}
