//! `step.ai` (protocol-2.md section 4.2): [`Ai::infer`] has Inngest call a model provider
//! (op `AIGateway`: the app spends no time waiting on the model, and the answer is memoized);
//! [`Ai::wrap`] runs the app's own model call as a step (`opts.type = "step.ai.wrap"`).
//!
//! [`Model`] says which provider and how to authenticate, as the official SDKs' `openai()`,
//! `anthropic()` and `gemini()`; [`openai`] and [`anthropic`] have typed requests and
//! responses. The provider's JSON goes through untouched: any serializable request and any
//! deserializable response work.

pub mod anthropic;
pub mod openai;

use std::collections::BTreeMap;
use std::future::Future;

use inngest_protocol::gateway::{FORMAT_ANTHROPIC, FORMAT_GEMINI, FORMAT_OPENAI_CHAT};
use inngest_protocol::op::{AiGatewayOpts, Opcode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{decode, Step};
use crate::config::var;
use crate::error::{Error, NonRetriableError, StepError};
use crate::execution::memo::Memo;
use crate::execution::{NewStep, StepOpts};
use crate::middleware::StepKind;

/// A model at a provider: where Inngest sends the request, in which format, with which key,
/// and the defaults it adds to every request. Its `Debug` hides the key.
#[derive(Clone, PartialEq)]
pub struct Model {
    url: String,
    format: String,
    api_key: String,
    model: Option<String>,
    headers: BTreeMap<String, String>,
    defaults: Map<String, Value>,
    /// For a provider whose URL embeds the model and the base (Gemini): rebuild it.
    gemini: bool,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("url", &self.url)
            .field("format", &self.format)
            .field("model", &self.model)
            .field("api_key", &if self.api_key.is_empty() { "" } else { "***" })
            .finish_non_exhaustive()
    }
}

/// `base` with a trailing slash, then `path` (as the official SDK joins them).
fn join(base: &str, path: &str) -> String {
    format!("{}/{path}", base.trim_end_matches('/'))
}

impl Model {
    /// An OpenAI chat model (`gpt-4o`, ...) at `https://api.openai.com/v1/chat/completions`,
    /// with the key of `OPENAI_API_KEY`. Any OpenAI-compatible API works with
    /// [`base_url`](Model::base_url).
    pub fn openai(model: impl Into<String>) -> Model {
        Model {
            url: join("https://api.openai.com/v1", "chat/completions"),
            format: FORMAT_OPENAI_CHAT.to_owned(),
            api_key: var("OPENAI_API_KEY").unwrap_or_default(),
            model: Some(model.into()),
            headers: BTreeMap::new(),
            defaults: Map::new(),
            gemini: false,
        }
    }

    /// An Anthropic model (`claude-sonnet-4-5`, ...) at
    /// `https://api.anthropic.com/v1/messages`, with the key of `ANTHROPIC_API_KEY` and
    /// `anthropic-version: 2023-06-01`. Anthropic requires `max_tokens`: set it in the
    /// request or with [`default_parameter`](Model::default_parameter).
    pub fn anthropic(model: impl Into<String>) -> Model {
        let mut headers = BTreeMap::new();
        headers.insert("anthropic-version".to_owned(), "2023-06-01".to_owned());
        Model {
            url: join("https://api.anthropic.com/v1", "messages"),
            format: FORMAT_ANTHROPIC.to_owned(),
            api_key: var("ANTHROPIC_API_KEY").unwrap_or_default(),
            model: Some(model.into()),
            headers,
            defaults: Map::new(),
            gemini: false,
        }
    }

    /// A Google Gemini model (`gemini-2.0-flash`, ...), with the key of `GEMINI_API_KEY`
    /// (sent as the `key` query parameter).
    pub fn gemini(model: impl Into<String>) -> Model {
        let model = model.into();
        Model {
            url: gemini_url("https://generativelanguage.googleapis.com/v1beta", &model),
            format: FORMAT_GEMINI.to_owned(),
            api_key: var("GEMINI_API_KEY").unwrap_or_default(),
            model: Some(model),
            headers: BTreeMap::new(),
            defaults: Map::new(),
            gemini: true,
        }
    }

    /// Any provider: Inngest posts the request to `url` and sends the key as `format` says
    /// (`openai-chat`: `Authorization: Bearer`; `anthropic`: `x-api-key`; `gemini`: `?key=`;
    /// `bedrock`: `Authorization`).
    pub fn custom(url: impl Into<String>, format: impl Into<String>) -> Model {
        Model {
            url: url.into(),
            format: format.into(),
            api_key: String::new(),
            model: None,
            headers: BTreeMap::new(),
            defaults: Map::new(),
            gemini: false,
        }
    }

    /// Another base URL for the provider's API (an OpenAI-compatible server, a proxy, a
    /// local model): `<base>/chat/completions` for OpenAI, `<base>/messages` for Anthropic.
    pub fn base_url(mut self, base: &str) -> Model {
        self.url = match (self.format.as_str(), self.gemini) {
            (_, true) => gemini_url(base, self.model.as_deref().unwrap_or_default()),
            (FORMAT_OPENAI_CHAT, _) => join(base, "chat/completions"),
            (FORMAT_ANTHROPIC, _) => join(base, "messages"),
            _ => base.to_owned(),
        };
        self
    }

    /// The provider's key (instead of the one from the environment).
    pub fn api_key(mut self, key: impl Into<String>) -> Model {
        self.api_key = key.into();
        self
    }

    /// A header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Model {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// A field every request gets unless it sets it (`max_tokens`, `temperature`, ...).
    pub fn default_parameter(mut self, field: impl Into<String>, value: impl Into<Value>) -> Model {
        self.defaults.insert(field.into(), value.into());
        self
    }

    /// The request body as the provider gets it: the defaults under the request's own
    /// fields, and `model` set when the request has none (OpenAI, Anthropic).
    fn prepare(&self, body: Value) -> Value {
        let Value::Object(mut fields) = body else {
            return body;
        };
        for (k, v) in &self.defaults {
            fields.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if let (Some(model), false) = (&self.model, self.gemini) {
            let missing = fields.get("model").is_none_or(Value::is_null);
            if missing {
                fields.insert("model".to_owned(), Value::from(model.clone()));
            }
        }
        Value::Object(fields)
    }
}

fn gemini_url(base: &str, model: &str) -> String {
    join(base, &format!("models/{model}:generateContent"))
}

/// The AI step tools: `ctx.step.ai()`.
#[derive(Debug, Clone, Copy)]
pub struct Ai<'a> {
    step: &'a Step,
}

impl Step {
    /// The AI step tools: [`Ai::infer`] and [`Ai::wrap`].
    pub fn ai(&self) -> Ai<'_> {
        Ai { step: self }
    }
}

impl<'a> Ai<'a> {
    /// Has Inngest send `request` to `model`'s provider and returns the provider's answer
    /// read as `Res` (see [`openai`] and [`anthropic`] for typed requests and answers, or
    /// use `serde_json::Value`). A failed call (no answer, or a status above 299) is retried
    /// by Inngest; after the last attempt this returns a [`StepError`] named
    /// `AIGatewayError`, with the provider's body as its stack.
    ///
    /// ```no_run
    /// # use inngest::step::ai::{openai, Model};
    /// # async fn f(ctx: inngest::Context) -> Result<(), inngest::Error> {
    /// let answer: openai::ChatResponse = ctx
    ///     .step
    ///     .ai()
    ///     .infer(
    ///         "summarize",
    ///         &Model::openai("gpt-4o"),
    ///         openai::ChatRequest::new(vec![openai::Message::user("Summarize: ...")]),
    ///     )
    ///     .await?;
    /// let summary = answer.text();
    /// # Ok(()) }
    /// ```
    pub async fn infer<Req, Res>(&self, id: &str, model: &Model, request: Req) -> Result<Res, Error>
    where
        Req: Serialize,
        Res: DeserializeOwned,
    {
        let step = self.step;
        let claim = step.claim(id);
        match claim.memo {
            Some(Memo::Data(answer) | Memo::Raw(answer)) => return decode(answer, &claim.id.user),
            Some(Memo::Error(error)) => {
                return Err(StepError::from_memo(&error, &claim.id.user).into())
            }
            Some(Memo::Input(_)) | None => {}
        }
        let body = serde_json::to_value(request).map_err(|e| {
            NonRetriableError::new(format!(
                "step `{id}`: the request does not serialize to JSON: {e}"
            ))
        })?;
        if url::Url::parse(&model.url).is_err() {
            return Err(NonRetriableError::new(format!(
                "step `{id}`: the model's URL `{}` is not a URL",
                model.url
            ))
            .into());
        }
        let opts = AiGatewayOpts {
            kind: Some("step.ai.infer".to_owned()),
            url: model.url.clone(),
            headers: (!model.headers.is_empty()).then(|| model.headers.clone()),
            auth_key: Some(model.api_key.clone()),
            format: model.format.clone(),
            body: model.prepare(body),
            auto_tool_call: None,
            parallel_mode: None,
        };
        step.suspend(NewStep::new(
            Opcode::AIGateway,
            &claim.id,
            StepOpts::AiGateway(opts),
        ))
        .await
    }

    /// Runs `f`, the app's own call to a model (with any client library), as a step: once
    /// per run, its result memoized, shown by Inngest as an AI step.
    pub fn wrap<T, F, Fut>(
        &self,
        id: &str,
        f: F,
    ) -> impl Future<Output = Result<T, Error>> + use<'a, T, F, Fut>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<T, Error>> + Send,
    {
        self.step
            .run_kind(id, super::RunSpec::plain(StepKind::AiWrap), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn models_as_the_official_helpers_build_them() {
        let openai = Model::openai("gpt-4o")
            .api_key("sk")
            .default_parameter("temperature", 0.5);
        assert_eq!(openai.url, "https://api.openai.com/v1/chat/completions");
        assert_eq!(
            openai.prepare(json!({"messages": [], "temperature": 1})),
            json!({"messages": [], "temperature": 1, "model": "gpt-4o"})
        );
        assert_eq!(
            Model::openai("m").base_url("http://127.0.0.1:9/v1/").url,
            "http://127.0.0.1:9/v1/chat/completions"
        );
        let anthropic = Model::anthropic("claude").default_parameter("max_tokens", 1024);
        assert_eq!(anthropic.url, "https://api.anthropic.com/v1/messages");
        assert_eq!(anthropic.headers["anthropic-version"], "2023-06-01");
        assert_eq!(
            anthropic.prepare(json!({"messages": []}))["max_tokens"],
            json!(1024)
        );
        let gemini = Model::gemini("gemini-2.0-flash");
        assert_eq!(
            gemini.url,
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent"
        );
        assert_eq!(
            gemini.prepare(json!({})),
            json!({}),
            "no model field for Gemini"
        );
        assert!(!format!("{:?}", Model::openai("m").api_key("secret")).contains("secret"));
    }
}
