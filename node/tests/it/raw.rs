//! A raw request-response peer, for tests that must send or answer what no node would: a codec
//! that writes bytes as they are (no framing of its own, then closes its side) and a swarm
//! speaking it on one of the node's protocol names.

use std::{io, time::Duration};

use futures::{AsyncReadExt, AsyncWriteExt};
use libp2p::{
    StreamProtocol, Swarm, SwarmBuilder, noise,
    request_response::{self, ProtocolSupport},
    tcp, yamux,
};

/// Largest answer or request read back (1 MiB).
const MAX_READ: u64 = 1 << 20;

/// Writes requests and responses verbatim; reads a request as one length-prefixed frame (the
/// node's requests are framed) and a response as everything until the stream ends.
#[derive(Clone, Copy, Default)]
pub struct RawCodec;

impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: futures::AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        let mut prefix = [0u8; 4];
        io.read_exact(&mut prefix).await?;
        let mut body = vec![0u8; (u32::from_be_bytes(prefix) as usize).min(1024)];
        io.read_exact(&mut body).await?;
        Ok(body)
    }

    async fn read_response<T: futures::AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        let mut answer = Vec::new();
        io.take(MAX_READ).read_to_end(&mut answer).await?;
        Ok(answer)
    }

    async fn write_request<T: futures::AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Vec<u8>,
    ) -> io::Result<()> {
        io.write_all(&request).await?;
        io.close().await
    }

    async fn write_response<T: futures::AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Vec<u8>,
    ) -> io::Result<()> {
        io.write_all(&response).await?;
        io.close().await
    }
}

/// A fresh identity's swarm speaking [`RawCodec`] on `protocol` (e.g. `/weft/7/sync/1`), as
/// `support` says, each request timing out after `timeout`.
pub fn raw_swarm(
    protocol: String,
    support: ProtocolSupport,
    timeout: Duration,
) -> Swarm<request_response::Behaviour<RawCodec>> {
    let protocol = StreamProtocol::try_from_owned(protocol).unwrap();
    SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
        .unwrap()
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                RawCodec,
                [(protocol, support)],
                request_response::Config::default().with_request_timeout(timeout),
            )
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
        .build()
}
