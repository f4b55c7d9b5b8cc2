//! The request-response protocol `/weft/<chain_id>/sync/1`: block fetching and status, its
//! messages and limits, and the length-prefixed SCALE codec that enforces them.
//!
//! A frame is a 4-byte big-endian length and that many bytes of one SCALE value, decoded exactly
//! (no trailing bytes). The length is checked against the limit (1 KiB for requests,
//! [`super::NetConfig::max_response_bytes`] for responses) before anything is read or allocated,
//! and every list and byte string inside is bounded by its own limit while decoding.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::{StreamProtocol, request_response};
use parity_scale_codec::{Decode, Encode};
use weft_types::{
    Hash, Height,
    codec::{BoundedBytes, BoundedVec, Limit, decode_exact},
    consensus::MAX_CERTIFICATE_BYTES,
    limits::MAX_BLOCK_BYTES,
};

/// Most blocks in one [`BlocksResponse`].
pub const MAX_BLOCKS_PER_RESPONSE: usize = 128;
/// Largest entry of a [`BlocksResponse`]: an encoded block and its finality certificate, with
/// room for their framing.
pub const MAX_BLOCK_ENTRY_BYTES: usize = MAX_BLOCK_BYTES + MAX_CERTIFICATE_BYTES + 64;
/// Default largest encoded response (frame body), 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// Largest encoded request.
pub const MAX_REQUEST_BYTES: usize = 1024;

/// Asks for up to `max_count` consecutive finalized blocks starting at `from_height`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
pub struct BlocksRequest {
    /// The first height wanted.
    pub from_height: Height,
    /// How many blocks at most; capped to [`MAX_BLOCKS_PER_RESPONSE`].
    pub max_count: u32,
}

impl BlocksRequest {
    /// The request with `max_count` capped to [`MAX_BLOCKS_PER_RESPONSE`].
    pub fn capped(self) -> BlocksRequest {
        BlocksRequest { max_count: self.max_count.min(MAX_BLOCKS_PER_RESPONSE as u32), ..self }
    }
}

/// Finalized blocks in height order from the requested height, each an opaque entry (the node's
/// encoding of a block with its finality certificate). Fewer than asked (possibly none) when the
/// responder has no more or the size limit cut the list.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct BlocksResponse {
    /// The entries, at most [`MAX_BLOCK_ENTRY_BYTES`] each.
    pub blocks: Vec<Vec<u8>>,
}

/// A node's view of its chain.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode)]
pub struct StatusResponse {
    /// Height of its head block.
    pub height: Height,
    /// Height of its highest finalized block.
    pub finalized_height: Height,
    /// Hash of its head block.
    pub head_hash: Hash,
}

/// The limit of entries per blocks response.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BlocksLimit;
impl Limit for BlocksLimit {
    const MAX: usize = MAX_BLOCKS_PER_RESPONSE;
    const WHAT: &'static str = "blocks";
    const ERR: &'static str = "response has more than MAX_BLOCKS_PER_RESPONSE (128) blocks";
}

/// The limit of one entry of a blocks response.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BlockEntryLimit;
impl Limit for BlockEntryLimit {
    const MAX: usize = MAX_BLOCK_ENTRY_BYTES;
    const WHAT: &'static str = "block entry";
    const ERR: &'static str = "block entry is longer than MAX_BLOCK_ENTRY_BYTES";
}

/// Bounded list of bounded entries, as on the wire.
pub(crate) type WireBlocks = BoundedVec<BoundedBytes<BlockEntryLimit>, BlocksLimit>;

/// A request on the wire.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub(crate) enum Request {
    #[codec(index = 0)]
    Blocks(BlocksRequest),
    #[codec(index = 1)]
    Status,
}

/// A response on the wire.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub(crate) enum Response {
    #[codec(index = 0)]
    Blocks(WireBlocks),
    #[codec(index = 1)]
    Status(StatusResponse),
}

/// Encoded size of a blocks response with these entries.
fn encoded_len(entries: &[Vec<u8>]) -> usize {
    // Variant byte, compact count (≤ 2 bytes for 128), then each entry's compact length (≤ 5
    // bytes) and bytes.
    1 + 2 + entries.iter().map(|e| 5 + e.len()).sum::<usize>()
}

/// How many leading `entries` fit `max_count`, `max_bytes` of encoding and the entry limit.
pub(crate) fn fitting_prefix(entries: &[Vec<u8>], max_count: usize, max_bytes: usize) -> usize {
    let max_count = max_count.min(MAX_BLOCKS_PER_RESPONSE);
    let mut total = encoded_len(&[]);
    for (i, entry) in entries.iter().enumerate() {
        total += 5 + entry.len();
        if i == max_count || entry.len() > MAX_BLOCK_ENTRY_BYTES || total > max_bytes {
            return i;
        }
    }
    entries.len().min(max_count)
}

/// Converts an application response to the wire type, cutting it to the limits.
pub(crate) fn wire_blocks(mut blocks: Vec<Vec<u8>>, max_count: usize, max_bytes: usize) -> WireBlocks {
    blocks.truncate(fitting_prefix(&blocks, max_count, max_bytes));
    let entries = blocks.into_iter().filter_map(|b| BoundedBytes::new(b).ok()).collect();
    // `fitting_prefix` kept at most MAX_BLOCKS_PER_RESPONSE entries, each within its limit.
    BoundedVec::new(entries).unwrap_or_default()
}

/// The sync protocol's name for `chain_id`.
pub(crate) fn protocol_name(chain_id: u64) -> Result<StreamProtocol, String> {
    StreamProtocol::try_from_owned(format!("/weft/{chain_id}/sync/1")).map_err(|e| e.to_string())
}

/// The length-prefixed SCALE codec of the sync protocol.
#[derive(Clone, Debug)]
pub(crate) struct SyncCodec {
    /// Largest response frame read or written.
    pub(crate) max_response_bytes: usize,
}

fn invalid(reason: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason)
}

/// A frame whose length prefix is over its limit: the error inside the [`io::Error`] that
/// [`read_frame`] returns for it, so that a codec can tell this provable violation (an honest
/// peer checks the limit before writing, [`write_frame`]) from a stream that merely broke.
#[derive(Debug, thiserror::Error)]
#[error("{what} of {len} bytes is over the limit of {max} bytes")]
pub(crate) struct FrameTooLarge {
    what: String,
    len: usize,
    max: usize,
}

impl FrameTooLarge {
    /// The announced length, if `error` is a frame over its limit.
    pub(crate) fn len_of(error: &io::Error) -> Option<usize> {
        error.get_ref().and_then(|inner| inner.downcast_ref::<FrameTooLarge>()).map(|f| f.len)
    }
}

/// Reads one frame of at most `max` bytes; the length is checked before reading the body.
pub(crate) async fn read_frame<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    max: usize,
    what: &str,
) -> io::Result<Vec<u8>> {
    let mut prefix = [0u8; 4];
    io.read_exact(&mut prefix).await?;
    let len = u32::from_be_bytes(prefix) as usize;
    if len > max {
        let error = FrameTooLarge { what: what.to_string(), len, max };
        return Err(io::Error::new(io::ErrorKind::InvalidData, error));
    }
    let mut body = Vec::with_capacity(len.min(64 * 1024));
    (&mut *io).take(len as u64).read_to_end(&mut body).await?;
    if body.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{what} ended after {} of {len} bytes", body.len()),
        ));
    }
    Ok(body)
}

/// Writes one frame; refuses a body over `max` bytes.
pub(crate) async fn write_frame<T: AsyncWrite + Unpin + Send>(
    io: &mut T,
    body: &[u8],
    max: usize,
    what: &str,
) -> io::Result<()> {
    if body.len() > max {
        return Err(invalid(format!("{what} of {} bytes is over the limit of {max} bytes", body.len())));
    }
    let len = u32::try_from(body.len()).map_err(|_| invalid(format!("{what} too large")))?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(body).await?;
    io.flush().await
}

fn decode<T: Decode>(bytes: &[u8], what: &'static str) -> io::Result<T> {
    decode_exact(bytes, usize::MAX, what).map_err(|e| invalid(e.to_string()))
}

/// A sync request as read from the wire: one that decodes, or proof that the peer sent what no
/// honest peer sends (a whole frame that does not decode, or a length over the limit, which a
/// sender checks before writing). A frame cut short is an error instead: a broken stream looks
/// the same, and blames nobody.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Inbound {
    /// A request.
    Request(Request),
    /// Why the peer is to blame (only ever read, never written).
    Invalid(&'static str),
}

impl request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = Inbound;
    type Response = Response;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Inbound>
    where
        T: AsyncRead + Unpin + Send,
    {
        match read_frame(io, MAX_REQUEST_BYTES, "request").await {
            Ok(frame) => Ok(match decode(&frame, "sync request") {
                Ok(request) => Inbound::Request(request),
                Err(_) => Inbound::Invalid("a sync request that does not decode"),
            }),
            Err(e) if FrameTooLarge::len_of(&e).is_some() => {
                Ok(Inbound::Invalid("a sync request over the size limit"))
            }
            Err(e) => Err(e),
        }
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        decode(&read_frame(io, self.max_response_bytes, "response").await?, "sync response")
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, request: Inbound) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match request {
            Inbound::Request(request) => {
                write_frame(io, &request.encode(), MAX_REQUEST_BYTES, "request").await
            }
            Inbound::Invalid(reason) => Err(io::Error::new(io::ErrorKind::InvalidInput, reason)),
        }
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &response.encode(), self.max_response_bytes, "response").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_respects_count_bytes_and_entry_limit() {
        let entries = vec![vec![1u8; 100]; 10];
        assert_eq!(fitting_prefix(&entries, 4, usize::MAX), 4);
        assert_eq!(fitting_prefix(&entries, 200, usize::MAX), 10);
        // Each entry costs 105 bytes plus 3 of header.
        assert_eq!(fitting_prefix(&entries, 10, 3 + 3 * 105), 3);
        let huge = vec![vec![0u8; 1], vec![0u8; MAX_BLOCK_ENTRY_BYTES + 1], vec![0u8; 1]];
        assert_eq!(fitting_prefix(&huge, 10, usize::MAX), 1);
        let wire = wire_blocks(entries.clone(), 3, usize::MAX);
        assert_eq!(wire.len(), 3);
        assert!(Response::Blocks(wire).encode().len() <= encoded_len(&entries[..3]));
    }

    #[test]
    fn frames_are_bounded_before_reading() {
        futures::executor::block_on(async {
            let mut buf = Vec::new();
            write_frame(&mut buf, &Request::Status.encode(), MAX_REQUEST_BYTES, "request").await.unwrap();
            let mut codec = SyncCodec { max_response_bytes: 1024 };
            let proto = protocol_name(1).unwrap();
            let read = request_response::Codec::read_request(&mut codec, &proto, &mut buf.as_slice()).await;
            assert_eq!(read.unwrap(), Inbound::Request(Request::Status));

            // A whole frame that does not decode, or a length over the limit: the peer's fault.
            for bad in [vec![1u8, 0], vec![9; 100]] {
                let mut framed = Vec::new();
                write_frame(&mut framed, &bad, MAX_REQUEST_BYTES, "request").await.unwrap();
                let read =
                    request_response::Codec::read_request(&mut codec, &proto, &mut framed.as_slice()).await;
                assert!(matches!(read.unwrap(), Inbound::Invalid(_)));
            }
            let mut over = ((MAX_REQUEST_BYTES + 1) as u32).to_be_bytes().to_vec();
            over.extend_from_slice(&[0; 8]);
            let read = request_response::Codec::read_request(&mut codec, &proto, &mut over.as_slice()).await;
            assert_eq!(read.unwrap(), Inbound::Invalid("a sync request over the size limit"));
            // A frame cut short blames nobody.
            let mut short = 100u32.to_be_bytes().to_vec();
            short.extend_from_slice(&[0; 10]);
            assert!(
                request_response::Codec::read_request(&mut codec, &proto, &mut short.as_slice())
                    .await
                    .is_err()
            );

            // A length prefix over the limit is refused without a body.
            let mut over = (4096u32).to_be_bytes().to_vec();
            over.extend_from_slice(&[0; 8]);
            let err = request_response::Codec::read_response(&mut codec, &proto, &mut over.as_slice())
                .await
                .unwrap_err();
            assert!(err.to_string().contains("over the limit"), "{err}");
            assert_eq!(FrameTooLarge::len_of(&err), Some(4096));

            // Garbage within the limit is refused by the decoder; so are trailing bytes.
            let mut garbage = Vec::new();
            write_frame(&mut garbage, &[7, 7, 7], 1024, "response").await.unwrap();
            assert!(
                request_response::Codec::read_response(&mut codec, &proto, &mut garbage.as_slice())
                    .await
                    .is_err()
            );
            let mut trailing = Response::Status(StatusResponse::default()).encode();
            trailing.push(0);
            let mut framed = Vec::new();
            write_frame(&mut framed, &trailing, 1024, "response").await.unwrap();
            assert!(
                request_response::Codec::read_response(&mut codec, &proto, &mut framed.as_slice())
                    .await
                    .is_err()
            );

            // A count prefix over MAX_BLOCKS_PER_RESPONSE is refused before allocating.
            let mut many = vec![0u8];
            parity_scale_codec::Compact(1000u32).encode_to(&mut many);
            many.extend_from_slice(&[0; 1000]);
            assert!(decode::<Response>(&many, "sync response").is_err());
        });
    }
}
