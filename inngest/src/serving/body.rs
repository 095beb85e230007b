//! [`Body`]: the body of every response of the endpoint. Whole, as almost every answer is,
//! or streamed: a call answered with streaming on (a keepalive byte now and then, then the
//! answer), or a realtime stream of the embedded engine's API.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// A streamed body, boxed.
type Streamed = Pin<Box<dyn http_body::Body<Data = Bytes, Error = Infallible> + Send + 'static>>;

/// The body of the endpoint's responses (an [`http_body::Body`] of [`Bytes`] that never
/// fails): read it as any body, e.g. with `http_body_util::BodyExt::collect`.
pub struct Body(Kind);

enum Kind {
    /// The whole body, until it is read.
    Whole(Option<Bytes>),
    Streamed(Streamed),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Kind::Whole(bytes) => f
                .debug_tuple("Body")
                .field(&bytes.as_ref().map_or(0, Bytes::len))
                .finish(),
            Kind::Streamed(_) => f.debug_tuple("Body").field(&"streamed").finish(),
        }
    }
}

impl Body {
    /// A whole body.
    pub(crate) fn whole(bytes: Bytes) -> Body {
        Body(Kind::Whole((!bytes.is_empty()).then_some(bytes)))
    }

    /// A body streamed from `body`.
    pub(crate) fn streamed<B>(body: B) -> Body
    where
        B: http_body::Body<Data = Bytes, Error = Infallible> + Send + 'static,
    {
        Body(Kind::Streamed(Box::pin(body)))
    }
}

impl Body {
    /// Whether the body is streamed (it ends when its stream does, not when it is given).
    pub(crate) fn is_streamed(&self) -> bool {
        matches!(self.0, Kind::Streamed(_))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().0 {
            Kind::Whole(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Streamed(body) => body.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Whole(bytes) => bytes.is_none(),
            Kind::Streamed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Kind::Whole(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Kind::Streamed(body) => body.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn whole_and_streamed_bodies_read_the_same() {
        let whole = Body::whole(Bytes::from_static(b"abc"));
        assert_eq!(whole.size_hint().exact(), Some(3));
        assert_eq!(&whole.collect().await.unwrap().to_bytes()[..], b"abc");
        let empty = Body::whole(Bytes::new());
        assert!(empty.is_end_stream());
        let streamed = Body::streamed(http_body_util::Full::new(Bytes::from_static(b"abc")));
        assert_eq!(&streamed.collect().await.unwrap().to_bytes()[..], b"abc");
    }
}
