//! Anthropic's messages API, typed for [`Ai::infer`](super::Ai::infer): the fields most
//! requests use, and every other field kept (`extra`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A message of a conversation: text, or content blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `user` or `assistant`.
    pub role: String,
    /// A string, or a list of content blocks.
    pub content: Value,
}

impl Message {
    /// A `user` message with this text.
    pub fn user(text: impl Into<String>) -> Message {
        Message {
            role: "user".to_owned(),
            content: Value::String(text.into()),
        }
    }

    /// An `assistant` message with this text.
    pub fn assistant(text: impl Into<String>) -> Message {
        Message {
            role: "assistant".to_owned(),
            content: Value::String(text.into()),
        }
    }
}

/// A request (`POST /v1/messages`). `model` may be left out: the [`Model`](super::Model)
/// sets it; `max_tokens` is required by Anthropic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest {
    /// The model; the [`Model`](super::Model)'s when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The most tokens to generate.
    pub max_tokens: u32,
    /// The conversation.
    pub messages: Vec<Message>,
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Any other field (`tools`, `stop_sequences`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MessagesRequest {
    /// A request with these messages, generating at most `max_tokens`.
    pub fn new(max_tokens: u32, messages: Vec<Message>) -> MessagesRequest {
        MessagesRequest {
            max_tokens,
            messages,
            ..MessagesRequest::default()
        }
    }
}

/// An answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesResponse {
    /// The message's id.
    #[serde(default)]
    pub id: String,
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// The content blocks.
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    /// `end_turn`, `max_tokens`, `tool_use`, ...
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// Token counts.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MessagesResponse {
    /// The text blocks, joined.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter(|b| b.kind == "text")
            .filter_map(|b| b.text.as_deref())
            .collect()
    }
}

/// A content block of an answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentBlock {
    /// `text`, `tool_use`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Any other field (`id`, `name`, `input` of a `tool_use` block).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Token counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    #[serde(default)]
    pub input_tokens: u64,
    /// Tokens generated.
    #[serde(default)]
    pub output_tokens: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_answer_reads_as_text() {
        let request = MessagesRequest::new(256, vec![Message::user("hi")]);
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"max_tokens": 256, "messages": [{"role": "user", "content": "hi"}]})
        );
        let response: MessagesResponse = serde_json::from_value(json!({
            "id": "m1", "type": "message", "role": "assistant", "model": "claude",
            "content": [{"type": "text", "text": "hel"}, {"type": "text", "text": "lo"}],
            "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 2}
        }))
        .unwrap();
        assert_eq!(response.text(), "hello");
        assert_eq!(response.usage.unwrap().output_tokens, 2);
    }
}
