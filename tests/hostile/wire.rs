//! HTTP over a raw socket: the request a row describes, sent as the row frames it, and the
//! answer read back.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::table::{Row, Wire};
use crate::DEADLINE;

/// What came back on the socket.
#[derive(Debug)]
pub enum Got {
    Answer(Answer),
    /// Closed before a single byte came back.
    Closed,
    /// Anything else: a timeout, a reset, a garbled answer.
    Broken(String),
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The request head: request line, the row's headers, the signature, and the framing.
pub fn head(row: &Row, addr: SocketAddr, body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\n",
        row.method, row.target
    );
    for line in row.headers {
        head.push_str(line);
        head.push_str("\r\n");
    }
    if let Some(sig) = row.sig.header(body) {
        head.push_str(&format!("x-inngest-signature: {sig}\r\n"));
    }
    match row.wire {
        Wire::Chunked => head.push_str("transfer-encoding: chunked\r\n"),
        Wire::Shorter => head.push_str(&format!("content-length: {}\r\n", body.len() / 2)),
        Wire::LongerThenClose => head.push_str(&format!("content-length: {}\r\n", body.len() * 2)),
        _ => head.push_str(&format!("content-length: {}\r\n", body.len())),
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Sends one row's request on a new connection and reads what comes back.
pub async fn send(addr: SocketAddr, row: &Row) -> Got {
    let body = row.body.bytes();
    let head = head(row, addr, &body);
    let stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return Got::Broken(format!("connect: {e}")),
    };
    let (mut reader, mut writer) = stream.into_split();
    let wire = row.wire;
    // Written in its own task: the server may answer (413) before it has read everything,
    // and a write error after that is not the row's concern.
    let writing = tokio::spawn(async move {
        match wire {
            Wire::Exact | Wire::Shorter => {
                writer.write_all(&[head, body].concat()).await?;
            }
            Wire::Chunked => {
                writer.write_all(&head).await?;
                for chunk in body.chunks(8 * 1024) {
                    writer
                        .write_all(
                            &[format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat(),
                        )
                        .await?;
                }
                writer.write_all(b"0\r\n\r\n").await?;
            }
            Wire::LongerThenClose => {
                writer.write_all(&[head, body].concat()).await?;
                writer.shutdown().await?;
            }
            Wire::StallBody => {
                writer.write_all(&[&head[..], &body[..8]].concat()).await?;
            }
            Wire::TrickleHeaders => {
                // The head, a byte at a time; slower than the header timeout in all.
                for byte in head {
                    writer.write_all(&[byte]).await?;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        // Keep the write half open until the answer is read.
        std::future::pending::<()>().await;
        Ok::<_, std::io::Error>(writer)
    });
    let got = read_answer(&mut reader).await;
    writing.abort();
    got
}

/// Reads one HTTP/1.1 answer (status line, headers, `Content-Length` body) within the
/// deadline.
pub async fn read_answer(reader: &mut (impl AsyncReadExt + Unpin)) -> Got {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(DEADLINE, async {
        let mut chunk = [0_u8; 16 * 1024];
        loop {
            if let Some(done) = complete(&buf) {
                return Ok(done);
            }
            match reader.read(&mut chunk).await {
                Ok(0) => return Err(None),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                // The server closed while the request was still coming in (a cut-off trickle):
                // the kernel answers with a reset. That is a close, too.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && buf.is_empty() => {
                    return Err(None)
                }
                Err(e) => return Err(Some(e.to_string())),
            }
        }
    })
    .await;
    match read {
        Err(_) => Got::Broken(format!(
            "no complete answer within {DEADLINE:?}; got {:?}",
            String::from_utf8_lossy(&buf)
        )),
        Ok(Ok(answer)) => answer,
        Ok(Err(None)) if buf.is_empty() => Got::Closed,
        Ok(Err(e)) => Got::Broken(format!(
            "the connection ended ({e:?}) after {:?}",
            String::from_utf8_lossy(&buf)
        )),
    }
}

/// The answer in `buf`, once it is all there.
pub fn complete(buf: &[u8]) -> Option<Got> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let Some(status) = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
    else {
        return Some(Got::Broken(format!("bad status line {status_line:?}")));
    };
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body = buf.get(end + 4..end + 4 + length)?;
    Some(Got::Answer(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
    }))
}
