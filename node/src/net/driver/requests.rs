//! The swarm task's request-response events: the sync protocol (status answered from the
//! watched value, block requests handed to the application and answered when it replies) and
//! the direct protocol (messages handed over within each peer's share, acknowledged, and a
//! frame over the limit costing its sender a ban), with the outcomes of this node's own
//! requests and direct messages.

use futures::FutureExt;
use libp2p::request_response::{self, OutboundFailure, ResponseChannel};
use tokio::sync::oneshot;

use super::Driver;
use crate::net::{
    BlocksReply, BlocksResponse, NetError, NetEvent, PeerId,
    direct::{Ack, Frame},
    protocol::{self, Inbound, Request, Response},
};

impl Driver {
    pub(super) fn on_sync(&mut self, event: request_response::Event<Inbound, Response>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request: Inbound::Request(request), channel, ..
                } => self.on_request(peer, request, channel),
                request_response::Message::Request { request: Inbound::Invalid(reason), .. } => {
                    // Dropping the channel closes the stream unanswered.
                    tracing::debug!(%peer, reason, "invalid sync request");
                    self.ban(peer, reason);
                }
                request_response::Message::Response { request_id, response } => {
                    if let Some(reply) = self.outbound.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            request_response::Event::OutboundFailure { peer, request_id, error, .. } => {
                if let Some(reply) = self.outbound.remove(&request_id) {
                    let _ = reply.send(Err(outbound_error(peer, error)));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "inbound sync request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    pub(super) fn on_direct(&mut self, event: request_response::Event<Frame, Ack>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request: Frame::Message(data), channel, .. } => {
                    let ack = self.take_direct(peer, data);
                    let _ = self.swarm.behaviour_mut().direct.send_response(channel, ack);
                }
                request_response::Message::Request { request: Frame::OverLimit(len), .. } => {
                    // The sender checks the limit before writing: no honest peer sends this.
                    // Dropping the channel closes the stream unanswered.
                    tracing::debug!(%peer, len, "direct message over the limit");
                    self.ban(peer, "direct message over the size limit");
                }
                request_response::Message::Response { request_id, response } => {
                    let result = match response {
                        Ack::Taken => Ok(()),
                        Ack::Refused => Err(NetError::Refused(peer)),
                    };
                    self.direct_out.finish(request_id, result);
                }
            },
            request_response::Event::OutboundFailure { peer, request_id, error, .. } => {
                self.direct_out.finish(request_id, Err(outbound_error(peer, error)));
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "inbound direct message failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    /// Hands a direct message from `peer` to the application if `peer`'s share and the event
    /// channel have room; else drops it (the sender learns it was refused).
    fn take_direct(&mut self, peer: PeerId, data: Vec<u8>) -> Ack {
        let Some(permit) = self.direct_in.admit(peer, data.len()) else {
            tracing::debug!(%peer, "too many direct messages from the peer pending: refused");
            return Ack::Refused;
        };
        if self.events.try_send(NetEvent::Direct { peer, data, permit }).is_err() {
            self.dropped_direct += 1;
            if self.dropped_direct.is_power_of_two() {
                tracing::warn!(
                    dropped = self.dropped_direct,
                    "application is not keeping up: direct message dropped"
                );
            }
            return Ack::Refused;
        }
        Ack::Taken
    }

    fn on_request(&mut self, peer: PeerId, request: Request, channel: ResponseChannel<Response>) {
        match request {
            Request::Status => {
                let status = *self.status.borrow();
                let _ = self.swarm.behaviour_mut().sync.send_response(channel, Response::Status(status));
            }
            Request::Blocks(request) => {
                let request = request.capped();
                if self.answers.len() >= self.max_pending_answers {
                    tracing::warn!(%peer, "too many block requests waiting: refused");
                    return;
                }
                let max_count = request.max_count as usize;
                let (tx, rx) = oneshot::channel();
                let reply = BlocksReply { tx, max_count, max_bytes: self.max_response_bytes };
                if self.events.try_send(NetEvent::BlocksRequested { peer, request, reply }).is_err() {
                    tracing::warn!(%peer, "application is not keeping up: block request refused");
                    return;
                }
                let timeout = self.answer_timeout;
                self.answers.push(
                    async move {
                        let answer = tokio::time::timeout(timeout, rx).await.ok().and_then(Result::ok);
                        (channel, answer, max_count)
                    }
                    .boxed(),
                );
            }
        }
    }

    pub(super) fn on_answer(
        &mut self,
        channel: ResponseChannel<Response>,
        answer: Option<BlocksResponse>,
        max_count: usize,
    ) {
        // No answer: dropping the channel closes the stream, and the requester gets an error.
        if let Some(answer) = answer {
            let blocks = protocol::wire_blocks(answer.blocks, max_count, self.max_response_bytes);
            let _ = self.swarm.behaviour_mut().sync.send_response(channel, Response::Blocks(blocks));
        }
    }
}
/// The error an outbound request (sync or direct) failed with.
fn outbound_error(peer: PeerId, error: OutboundFailure) -> NetError {
    match error {
        OutboundFailure::DialFailure => NetError::Unreachable(peer),
        OutboundFailure::Timeout => NetError::Timeout(peer),
        OutboundFailure::ConnectionClosed => NetError::NoAnswer(peer),
        OutboundFailure::UnsupportedProtocols => NetError::Unsupported(peer),
        OutboundFailure::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            NetError::BadResponse { peer, reason: e.to_string() }
        }
        OutboundFailure::Io(_) => NetError::NoAnswer(peer),
    }
}
