//! Realtime (protocol-2.md section 5): messages published on a channel's topics
//! (`POST /v1/realtime/publish`, `step.realtime.publish`) fan out to the subscriptions that
//! cover them (`GET /v1/realtime/sse`, or [`Realtime::subscribe`] in-process). Nothing is
//! stored: a subscriber sees what is published while it listens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use inngest_protocol::realtime::{RealtimeMessage, Topic};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

/// How long a subscription token is good for.
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// How many tokens are kept at most (the oldest go first).
const MAX_TOKENS: usize = 10_000;
/// How many messages a slow subscriber may fall behind before it skips some.
const BUFFER: usize = 1024;

/// Realtime messages and their subscribers.
pub struct Realtime {
    messages: broadcast::Sender<Arc<RealtimeMessage>>,
    closed: watch::Sender<bool>,
    tokens: Mutex<HashMap<String, (Vec<Topic>, Instant)>>,
}

impl std::fmt::Debug for Realtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Realtime")
            .field("subscribers", &self.messages.receiver_count())
            .finish_non_exhaustive()
    }
}

impl Default for Realtime {
    fn default() -> Self {
        Realtime {
            messages: broadcast::channel(BUFFER).0,
            closed: watch::channel(false).0,
            tokens: Mutex::new(HashMap::new()),
        }
    }
}

impl Realtime {
    /// Publishes a message to the subscriptions that cover its channel and topic; returns
    /// how many subscriptions are listening (covering it or not).
    pub fn publish(&self, message: RealtimeMessage) -> usize {
        self.messages.send(Arc::new(message)).unwrap_or(0)
    }

    /// Listens for the messages of `topics` (a topic with an empty name covers its whole
    /// channel) from now on.
    pub fn subscribe(&self, topics: Vec<Topic>) -> Subscription {
        Subscription {
            topics,
            messages: self.messages.subscribe(),
            closed: self.closed.subscribe(),
        }
    }

    /// A token that subscribes to `topics` (`POST /v1/realtime/token`), good for an hour.
    pub fn issue_token(&self, topics: Vec<Topic>) -> String {
        let token: String = (0..4)
            .map(|_| format!("{:016x}", fastrand::u64(..)))
            .collect();
        let now = Instant::now();
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.retain(|_, (_, expires)| *expires > now);
        if tokens.len() >= MAX_TOKENS {
            if let Some(oldest) = tokens
                .iter()
                .min_by_key(|(_, (_, expires))| *expires)
                .map(|(k, _)| k.clone())
            {
                tokens.remove(&oldest);
            }
        }
        tokens.insert(token.clone(), (topics, now + TOKEN_LIFETIME));
        token
    }

    /// The topics a token subscribes to, while it is good.
    pub fn token_topics(&self, token: &str) -> Option<Vec<Topic>> {
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        let (topics, expires) = tokens.get(token)?;
        (*expires > Instant::now()).then(|| topics.clone())
    }

    /// Ends every subscription (the engine is shutting down).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }
}

/// Messages of some topics, as they are published.
#[derive(Debug)]
pub struct Subscription {
    topics: Vec<Topic>,
    messages: broadcast::Receiver<Arc<RealtimeMessage>>,
    closed: watch::Receiver<bool>,
}

impl Subscription {
    /// The next message of the subscription's topics; `None` once the engine closes its
    /// subscriptions. A subscriber that falls more than 1024 messages behind skips the
    /// oldest.
    pub async fn next(&mut self) -> Option<Arc<RealtimeMessage>> {
        loop {
            if *self.closed.borrow() {
                return None;
            }
            tokio::select! {
                received = self.messages.recv() => match received {
                    Ok(message) if self.covers(&message) => return Some(message),
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                changed = self.closed.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    fn covers(&self, message: &RealtimeMessage) -> bool {
        self.topics
            .iter()
            .any(|t| t.channel == message.channel && (t.name.is_empty() || t.name == message.topic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(channel: &str, topic: &str, n: u32) -> RealtimeMessage {
        RealtimeMessage {
            kind: "data".into(),
            data: serde_json::json!(n),
            metadata: None,
            created_at: String::new(),
            channel: channel.into(),
            topic: topic.into(),
            run_id: None,
        }
    }

    fn topic(channel: &str, name: &str) -> Topic {
        Topic {
            channel: channel.into(),
            name: name.into(),
            kind: "run".into(),
        }
    }

    #[tokio::test]
    async fn subscribers_get_their_topics_until_closed() {
        let hub = Realtime::default();
        let mut one = hub.subscribe(vec![topic("c", "a")]);
        let mut all = hub.subscribe(vec![topic("c", "")]);
        hub.publish(message("c", "b", 1));
        hub.publish(message("other", "a", 2));
        hub.publish(message("c", "a", 3));
        assert_eq!(one.next().await.unwrap().data, 3);
        assert_eq!(all.next().await.unwrap().data, 1);
        assert_eq!(all.next().await.unwrap().data, 3);
        hub.close();
        assert!(one.next().await.is_none());
    }

    #[tokio::test]
    async fn tokens_name_their_topics() {
        let hub = Realtime::default();
        let token = hub.issue_token(vec![topic("c", "a")]);
        assert_eq!(token.len(), 64);
        assert_eq!(hub.token_topics(&token), Some(vec![topic("c", "a")]));
        assert_eq!(hub.token_topics("nope"), None);
    }
}
