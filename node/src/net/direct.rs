//! The request-response protocol `/weft/<chain_id>/direct/1`: one message to one connected peer
//! (the consensus core's answers to a single peer), its codec and limits, and the bookkeeping
//! that bounds direct messages in flight both ways.
//!
//! A request is one frame (4-byte big-endian length, then the bytes, opaque to the network) of
//! at most [`MAX_DIRECT_BYTES`]; the answer is a one-byte frame, [`Ack`]: whether the receiver
//! handed the message to its application or refused it for lack of room. Nothing is forwarded
//! and nothing is deduplicated: the same bytes sent twice arrive twice.
//!
//! A length prefix over the limit is read as [`Frame::OverLimit`] rather than an error (the
//! body is not read): libp2p does not report a request that fails to read, and the swarm must
//! see this one to ban its sender. Other read failures (a truncated frame) only fail the
//! stream: a broken connection looks the same.

use std::{
    collections::HashMap,
    io,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use futures::{AsyncRead, AsyncWrite};
use libp2p::{StreamProtocol, request_response};
use tokio::sync::oneshot;
use weft_types::consensus::MAX_CONSENSUS_MESSAGE_BYTES;

use super::{
    NetError, PeerId,
    protocol::{FrameTooLarge, read_frame, write_frame},
};

/// Largest direct message: a consensus message, the largest being a proposal with its block.
/// A longer frame is refused by its length prefix, before its body is read.
pub const MAX_DIRECT_BYTES: usize = MAX_CONSENSUS_MESSAGE_BYTES;
/// Most direct messages to one peer in flight (waiting for its [`Ack`]); beyond, `send_direct`
/// fails with [`NetError::Busy`]. It covers a catch-up burst (the core sends a lagging validator
/// at most 16 certificates at once).
pub(crate) const MAX_DIRECT_OUT_PER_PEER: usize = 16;
/// Concurrent streams of the direct protocol per connection, inbound and outbound together
/// (libp2p drops an inbound stream beyond it, and fails an outbound one): room for
/// [`MAX_DIRECT_OUT_PER_PEER`] outbound and as many inbound.
pub(crate) const MAX_DIRECT_STREAMS: usize = 2 * MAX_DIRECT_OUT_PER_PEER;
/// Most direct messages from one peer handed to the application and not yet dropped by it
/// ([`DirectPermit`]); beyond, the message is refused ([`Ack::Refused`]).
pub(crate) const MAX_DIRECT_IN_PER_PEER: usize = 64;
/// Most bytes of direct messages from one peer held by the application: room for a few of the
/// largest, so that one peer cannot fill the node's memory through the event channel.
pub(crate) const MAX_DIRECT_IN_BYTES_PER_PEER: usize = 3 * MAX_DIRECT_BYTES;
/// Length of an [`Ack`] frame.
const ACK_BYTES: usize = 1;

/// The receiver's answer to a direct message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ack {
    /// Handed to the application.
    Taken,
    /// Dropped: the peer had too many messages pending at the receiver, or its application is
    /// not keeping up.
    Refused,
}

/// A direct message as read from the wire.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Frame {
    /// A message within the limit.
    Message(Vec<u8>),
    /// A length prefix over [`MAX_DIRECT_BYTES`] (only ever read, never written).
    OverLimit(usize),
}

/// The direct protocol's name for `chain_id`.
pub(crate) fn protocol_name(chain_id: u64) -> Result<StreamProtocol, String> {
    StreamProtocol::try_from_owned(format!("/weft/{chain_id}/direct/1")).map_err(|e| e.to_string())
}

/// The framed codec of the direct protocol.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DirectCodec;

impl request_response::Codec for DirectCodec {
    type Protocol = StreamProtocol;
    type Request = Frame;
    type Response = Ack;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Frame>
    where
        T: AsyncRead + Unpin + Send,
    {
        match read_frame(io, MAX_DIRECT_BYTES, "direct message").await {
            Ok(data) => Ok(Frame::Message(data)),
            Err(e) => FrameTooLarge::len_of(&e).map(Frame::OverLimit).ok_or(e),
        }
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Ack>
    where
        T: AsyncRead + Unpin + Send,
    {
        match read_frame(io, ACK_BYTES, "direct ack").await?.as_slice() {
            [0] => Ok(Ack::Taken),
            [1] => Ok(Ack::Refused),
            other => Err(io::Error::new(io::ErrorKind::InvalidData, format!("bad direct ack {other:?}"))),
        }
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, frame: Frame) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match frame {
            Frame::Message(data) => write_frame(io, &data, MAX_DIRECT_BYTES, "direct message").await,
            Frame::OverLimit(len) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("direct message of {len} bytes is over the limit"),
            )),
        }
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, ack: Ack) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let byte = match ack {
            Ack::Taken => 0,
            Ack::Refused => 1,
        };
        write_frame(io, &[byte], ACK_BYTES, "direct ack").await
    }
}

/// The direct messages this node sent and waits for the [`Ack`] of, bounded in all and per
/// peer.
#[derive(Debug)]
pub(crate) struct Outbound {
    max: usize,
    pending: HashMap<request_response::OutboundRequestId, (PeerId, oneshot::Sender<Result<(), NetError>>)>,
    per_peer: HashMap<PeerId, usize>,
}

impl Outbound {
    pub(crate) fn new(max: usize) -> Outbound {
        Outbound { max, pending: HashMap::new(), per_peer: HashMap::new() }
    }

    /// Whether one more message to `peer` fits the limits.
    pub(crate) fn has_room(&self, peer: &PeerId) -> bool {
        self.pending.len() < self.max
            && self.per_peer.get(peer).copied().unwrap_or(0) < MAX_DIRECT_OUT_PER_PEER
    }

    /// Records a message sent; `reply` gets its outcome from [`Outbound::finish`].
    pub(crate) fn insert(
        &mut self,
        id: request_response::OutboundRequestId,
        peer: PeerId,
        reply: oneshot::Sender<Result<(), NetError>>,
    ) {
        *self.per_peer.entry(peer).or_insert(0) += 1;
        self.pending.insert(id, (peer, reply));
    }

    /// Gives the outcome of message `id` to its sender and frees its room.
    pub(crate) fn finish(&mut self, id: request_response::OutboundRequestId, result: Result<(), NetError>) {
        let Some((peer, reply)) = self.pending.remove(&id) else { return };
        if let Some(count) = self.per_peer.get_mut(&peer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_peer.remove(&peer);
            }
        }
        let _ = reply.send(result);
    }
}

/// One peer's direct messages held by the application.
#[derive(Debug, Default)]
struct Held {
    count: AtomicUsize,
    bytes: AtomicUsize,
}

/// The room a direct message takes in its peer's share while the application holds it: taken
/// when the network hands the message over ([`super::NetEvent::Direct`]), given back when this
/// is dropped. Keep it while handling the message; drop it with the message.
#[derive(Debug)]
pub struct DirectPermit {
    held: Arc<Held>,
    len: usize,
}

impl DirectPermit {
    /// A permit counted in no share, for tests that make direct events by hand.
    #[cfg(test)]
    pub(crate) fn detached() -> DirectPermit {
        let held = Held { count: AtomicUsize::new(1), bytes: AtomicUsize::new(0) };
        DirectPermit { held: Arc::new(held), len: 0 }
    }
}

impl Drop for DirectPermit {
    fn drop(&mut self) {
        self.held.count.fetch_sub(1, Ordering::Relaxed);
        self.held.bytes.fetch_sub(self.len, Ordering::Relaxed);
    }
}

/// The direct messages each peer has pending at the application, bounded per peer in count and
/// bytes.
#[derive(Debug, Default)]
pub(crate) struct Inbound {
    held: HashMap<PeerId, Arc<Held>>,
}

impl Inbound {
    /// Room for a message of `len` bytes from `peer`, or `None` when its share is full.
    pub(crate) fn admit(&mut self, peer: PeerId, len: usize) -> Option<DirectPermit> {
        let held = self.held.entry(peer).or_default();
        // Only this task adds to a share (the application only gives back), so checking and
        // adding are not racing another addition.
        let count = held.count.load(Ordering::Relaxed);
        let bytes = held.bytes.load(Ordering::Relaxed);
        if count >= MAX_DIRECT_IN_PER_PEER || bytes.saturating_add(len) > MAX_DIRECT_IN_BYTES_PER_PEER {
            return None;
        }
        held.count.fetch_add(1, Ordering::Relaxed);
        held.bytes.fetch_add(len, Ordering::Relaxed);
        Some(DirectPermit { held: held.clone(), len })
    }

    /// Forgets the peers with nothing held (so the table is bounded by the peers with messages
    /// in the application, themselves bounded by the event channel).
    pub(crate) fn prune(&mut self) {
        self.held.retain(|_, held| Arc::strong_count(held) > 1);
    }
}

#[cfg(test)]
mod tests {
    use request_response::Codec;

    use super::*;

    #[test]
    fn frames_are_bounded_and_acks_exact() {
        futures::executor::block_on(async {
            let proto = protocol_name(1).unwrap();
            let mut codec = DirectCodec;
            let mut buf = Vec::new();
            codec.write_request(&proto, &mut buf, Frame::Message(vec![5; 100])).await.unwrap();
            let read = codec.read_request(&proto, &mut buf.as_slice()).await.unwrap();
            assert_eq!(read, Frame::Message(vec![5; 100]));

            // Over the limit: refused before writing, and read by its prefix alone.
            let over = Frame::Message(vec![0; MAX_DIRECT_BYTES + 1]);
            assert!(codec.write_request(&proto, &mut Vec::new(), over).await.is_err());
            let mut over = u32::try_from(MAX_DIRECT_BYTES + 1).unwrap().to_be_bytes().to_vec();
            over.extend_from_slice(&[0; 8]);
            let read = codec.read_request(&proto, &mut over.as_slice()).await.unwrap();
            assert_eq!(read, Frame::OverLimit(MAX_DIRECT_BYTES + 1));
            // A short body is an error, not a provable fault.
            let mut short = 10u32.to_be_bytes().to_vec();
            short.extend_from_slice(&[0; 3]);
            assert!(codec.read_request(&proto, &mut short.as_slice()).await.is_err());

            for ack in [Ack::Taken, Ack::Refused] {
                let mut buf = Vec::new();
                codec.write_response(&proto, &mut buf, ack).await.unwrap();
                assert_eq!(codec.read_response(&proto, &mut buf.as_slice()).await.unwrap(), ack);
            }
            let bad = [0, 0, 0, 1, 7];
            assert!(codec.read_response(&proto, &mut bad.as_slice()).await.is_err());
        });
    }

    #[test]
    fn inbound_shares_are_bounded_per_peer_and_given_back() {
        let mut inbound = Inbound::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        let mut held: Vec<DirectPermit> =
            (0..MAX_DIRECT_IN_PER_PEER).map(|_| inbound.admit(a, 10).unwrap()).collect();
        assert!(inbound.admit(a, 10).is_none(), "a's count is full");
        assert!(inbound.admit(b, 10).is_some(), "b has its own share");
        held.pop();
        assert!(inbound.admit(a, 10).is_some(), "a dropped permit gives its room back");

        let big: Vec<DirectPermit> = (0..3).map(|_| inbound.admit(b, MAX_DIRECT_BYTES).unwrap()).collect();
        assert!(inbound.admit(b, 1).is_none(), "b's bytes are full");
        drop(big);
        inbound.prune();
        assert_eq!(inbound.held.len(), 1, "b holds nothing and is forgotten; a is kept");
        drop(held);
        inbound.prune();
        assert!(inbound.held.is_empty());
    }

    #[test]
    fn outbound_is_bounded_in_all_and_per_peer() {
        let mut outbound = Outbound::new(MAX_DIRECT_OUT_PER_PEER + 1);
        let (a, b) = (PeerId::random(), PeerId::random());
        let mut replies = Vec::new();
        // OutboundRequestId has no public constructor: ids come from a real behaviour.
        let mut behaviour = request_response::Behaviour::with_codec(
            DirectCodec,
            [(protocol_name(1).unwrap(), request_response::ProtocolSupport::Full)],
            request_response::Config::default(),
        );
        let mut ids = Vec::new();
        for _ in 0..MAX_DIRECT_OUT_PER_PEER {
            assert!(outbound.has_room(&a));
            let (tx, rx) = oneshot::channel();
            let id = behaviour.send_request(&a, Frame::Message(Vec::new()));
            outbound.insert(id, a, tx);
            ids.push(id);
            replies.push(rx);
        }
        assert!(!outbound.has_room(&a), "a's share is full");
        assert!(outbound.has_room(&b));
        let (tx, _rx) = oneshot::channel();
        outbound.insert(behaviour.send_request(&b, Frame::Message(Vec::new())), b, tx);
        assert!(!outbound.has_room(&PeerId::random()), "the total is full");
        outbound.finish(ids[0], Err(NetError::Busy));
        assert!(outbound.has_room(&a));
        assert!(matches!(replies[0].try_recv(), Ok(Err(NetError::Busy))));
    }
}
