//! `step.fetch` (protocol-2.md section 4.1): op `Gateway`. Inngest makes the HTTP request
//! (not the app), so a slow API costs the app no time; the step resumes with the response,
//! whatever its status.

use std::collections::BTreeMap;

use inngest_protocol::gateway::GatewayResponse;
use inngest_protocol::op::{GatewayOpts, Opcode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{decode, Step};
use crate::error::{Error, NonRetriableError, StepError};
use crate::execution::memo::Memo;
use crate::execution::{NewStep, StepOpts};

/// The methods Inngest's gateway sends.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE",
];

/// An HTTP request for [`Step::fetch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    method: String,
    url: String,
    headers: BTreeMap<String, String>,
    body: Option<String>,
}

impl FetchRequest {
    /// A request with this method (`GET`, `POST`, ...; upper case, as Inngest sends it).
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        FetchRequest {
            method: method.into(),
            url: url.into(),
            headers: BTreeMap::new(),
            body: None,
        }
    }

    /// A `GET`.
    pub fn get(url: impl Into<String>) -> Self {
        FetchRequest::new("GET", url)
    }

    /// A `POST`.
    pub fn post(url: impl Into<String>) -> Self {
        FetchRequest::new("POST", url)
    }

    /// Adds a header (a name given twice keeps the last value).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// The body, as text. Inngest sends text that is JSON as it is, and any other text as a
    /// JSON string (quoted).
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// `value` as a JSON body, with `content-type: application/json` unless a content type
    /// was set.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Result<Self, Error> {
        let body = serde_json::to_string(value).map_err(|e| {
            Error::msg(format!(
                "the body of the request to {} does not serialize to JSON: {e}",
                self.url
            ))
        })?;
        if !self
            .headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("content-type"))
        {
            self.headers
                .insert("content-type".to_owned(), "application/json".to_owned());
        }
        self.body = Some(body);
        Ok(self)
    }
}

/// The response to a [`Step::fetch`]: any status, 4xx and 5xx included.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchResponse {
    /// The URL called.
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The headers, names in their canonical form (`Content-Type`), repeated values joined
    /// with `,`.
    pub headers: BTreeMap<String, String>,
    /// The body, as text.
    pub body: String,
}

impl FetchResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A header's value, by its name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body read as JSON into `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.body).map_err(|e| {
            Error::msg(format!(
                "the response of {} ({}) is not the JSON expected (`{}`): {e}",
                self.url,
                self.status,
                std::any::type_name::<T>()
            ))
        })
    }
}

impl From<GatewayResponse> for FetchResponse {
    fn from(res: GatewayResponse) -> Self {
        FetchResponse {
            url: res.url,
            status: res.status_code,
            headers: res.headers,
            body: res.body,
        }
    }
}

impl Step {
    /// Has Inngest make an HTTP request and returns its response (of any status): the app
    /// spends no time waiting on a slow API, and the response is memoized like any step's
    /// result. When the request gets no response at all (a refused connection, a timeout)
    /// Inngest retries; after the last attempt this returns a [`StepError`] named
    /// `GatewayError`.
    ///
    /// ```no_run
    /// # use inngest::step::FetchRequest;
    /// # async fn f(ctx: inngest::Context) -> Result<(), inngest::Error> {
    /// let res = ctx
    ///     .step
    ///     .fetch("get-user", FetchRequest::get("https://api.example.com/users/7"))
    ///     .await?;
    /// if res.is_success() {
    ///     let user: serde_json::Value = res.json()?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn fetch(&self, id: &str, request: FetchRequest) -> Result<FetchResponse, Error> {
        let claim = self.claim(id);
        match claim.memo {
            Some(Memo::Data(res) | Memo::Raw(res)) => {
                return decode::<GatewayResponse>(res, &claim.id.user).map(FetchResponse::from)
            }
            Some(Memo::Error(error)) => {
                return Err(StepError::from_memo(&error, &claim.id.user).into())
            }
            Some(Memo::Input(_)) | None => {}
        }
        let url = url::Url::parse(&request.url).map_err(|e| {
            NonRetriableError::new(format!("step `{id}`: cannot fetch `{}`: {e}", request.url))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(NonRetriableError::new(format!(
                "step `{id}`: cannot fetch `{}`: only http and https URLs can be fetched",
                request.url
            ))
            .into());
        }
        if !METHODS.contains(&request.method.as_str()) {
            return Err(NonRetriableError::new(format!(
                "step `{id}`: `{}` is not an HTTP method Inngest sends (one of {})",
                request.method,
                METHODS.join(", ")
            ))
            .into());
        }
        let opts = GatewayOpts {
            url: request.url,
            method: Some(request.method),
            headers: Some(request.headers),
            body: request.body,
            parallel_mode: None,
        };
        self.suspend(NewStep::new(
            Opcode::Gateway,
            &claim.id,
            StepOpts::Gateway(opts),
        ))
        .await
    }
}
