//! Gossip: the three topics and their names and size limits, the gossipsub configuration
//! (anonymous messages with content ids, application validation) and the peer-scoring parameters.

use std::collections::HashSet;

use libp2p::gossipsub::{
    self, IdentityTransform, MessageAuthenticity, PeerScoreParams, PeerScoreThresholds, TopicHash,
    TopicScoreParams, ValidationMode, WhitelistSubscriptionFilter,
};
use weft_types::{
    ChainId, consensus::MAX_CONSENSUS_MESSAGE_BYTES, hash::sha3_256_parts, limits::MAX_TX_BYTES,
};

use super::{MessageId, NetConfig, NetError};

/// A gossip topic. On the wire its name is `/weft/<chain_id>/<name>/1`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Topic {
    /// Signed transactions for the mempools.
    Txs,
    /// Votes, certificates and other small consensus messages.
    Consensus,
    /// Proposals with their blocks (large, one per view).
    Blocks,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 3] = [Topic::Txs, Topic::Consensus, Topic::Blocks];

    /// The short name, as in the topic string.
    pub fn name(self) -> &'static str {
        match self {
            Topic::Txs => "txs",
            Topic::Consensus => "consensus",
            Topic::Blocks => "blocks",
        }
    }

    /// The gossipsub topic string for `chain_id`.
    pub fn topic_string(self, chain_id: ChainId) -> String {
        format!("/weft/{chain_id}/{}/1", self.name())
    }

    fn index(self) -> usize {
        match self {
            Topic::Txs => 0,
            Topic::Consensus => 1,
            Topic::Blocks => 2,
        }
    }
}

/// Largest message (its data, before decoding) accepted on each topic.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TopicLimits {
    /// Transactions: default `MAX_TX_BYTES`.
    pub txs: usize,
    /// Votes and certificates: default 64 KiB.
    pub consensus: usize,
    /// Proposals with blocks: default `MAX_CONSENSUS_MESSAGE_BYTES` (8 MiB + 153 bytes).
    pub blocks: usize,
}

impl Default for TopicLimits {
    fn default() -> Self {
        TopicLimits { txs: MAX_TX_BYTES, consensus: 64 * 1024, blocks: MAX_CONSENSUS_MESSAGE_BYTES }
    }
}

impl TopicLimits {
    /// The limit of `topic`.
    pub fn get(&self, topic: Topic) -> usize {
        match topic {
            Topic::Txs => self.txs,
            Topic::Consensus => self.consensus,
            Topic::Blocks => self.blocks,
        }
    }

    /// Every topic with its limit.
    pub fn iter(&self) -> impl Iterator<Item = (Topic, usize)> + '_ {
        Topic::ALL.into_iter().map(|t| (t, self.get(t)))
    }
}

/// Weight of the squared count of a peer's invalid (rejected or oversized) messages on a topic.
pub const INVALID_MESSAGE_WEIGHT: f64 = -10.0;
/// Factor the invalid-message count decays by every second (half-life about 69 s).
pub const INVALID_MESSAGE_DECAY: f64 = 0.99;
/// Below this score a peer is graylisted by gossipsub and banned by the network: three invalid
/// messages in quick succession (-90 plus at most [`TOPIC_SCORE_CAP`]).
pub const GRAYLIST_THRESHOLD: f64 = -60.0;
/// Most positive score a peer earns from topics (first deliveries), so good behaviour cannot
/// buy room for invalid messages.
pub const TOPIC_SCORE_CAP: f64 = 10.0;

/// Bytes of gossipsub framing around a message's data (protobuf fields, topic string).
const FRAMING: usize = 512;

/// The topics of one chain: their hashes, and the way back from a hash to a [`Topic`].
#[derive(Clone, Debug)]
pub(crate) struct Topics {
    topics: [gossipsub::IdentTopic; 3],
}

impl Topics {
    pub(crate) fn new(chain_id: ChainId) -> Topics {
        Topics { topics: Topic::ALL.map(|t| gossipsub::IdentTopic::new(t.topic_string(chain_id))) }
    }

    pub(crate) fn ident(&self, topic: Topic) -> &gossipsub::IdentTopic {
        &self.topics[topic.index()]
    }

    pub(crate) fn hash(&self, topic: Topic) -> TopicHash {
        self.ident(topic).hash()
    }

    pub(crate) fn topic_of(&self, hash: &TopicHash) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| &self.hash(*t) == hash)
    }
}

/// The content id of a message: `sha3_256(len(topic) ‖ topic ‖ data)`.
pub(crate) fn message_id(topic: &TopicHash, data: &[u8]) -> MessageId {
    let topic = topic.as_str().as_bytes();
    let len = (topic.len() as u32).to_be_bytes();
    MessageId(sha3_256_parts(&[&len, topic, data]).0)
}

/// Our id of a gossipsub message id made by [`message_id`] (always 32 bytes; anything else,
/// which this node never makes, becomes zeros and matches no message).
pub(crate) fn our_id(id: &gossipsub::MessageId) -> MessageId {
    MessageId(<[u8; 32]>::try_from(id.0.as_slice()).unwrap_or([0; 32]))
}

/// The gossipsub behaviour type.
pub(crate) type Gossipsub = gossipsub::Behaviour<IdentityTransform, WhitelistSubscriptionFilter>;

/// Builds gossipsub for `config`, subscribed to the three topics, with scoring on.
pub(crate) fn behaviour(config: &NetConfig, topics: &Topics) -> Result<Gossipsub, NetError> {
    let err = |e: String| NetError::Config(format!("gossipsub: {e}"));
    let largest = config.topic_limits.iter().map(|(_, max)| max).max().unwrap_or(0);
    let mut builder = gossipsub::ConfigBuilder::default();
    builder
        .protocol_id_prefix(format!("/weft/{}/meshsub", config.chain_id))
        .validation_mode(ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(|m: &gossipsub::Message| gossipsub::MessageId::new(&message_id(&m.topic, &m.data).0))
        .heartbeat_interval(config.heartbeat_interval)
        .heartbeat_initial_delay(config.heartbeat_interval)
        .duplicate_cache_time(config.duplicate_cache_time)
        // The whole RPC frame: the largest message plus room for control messages.
        .max_transmit_size(largest + FRAMING + 64 * 1024);
    for (topic, max) in config.topic_limits.iter() {
        builder.max_transmit_size_for_topic(max + FRAMING, topics.hash(topic));
    }
    let gossip_config = builder.build().map_err(|e| err(e.to_string()))?;
    let filter =
        WhitelistSubscriptionFilter(Topic::ALL.into_iter().map(|t| topics.hash(t)).collect::<HashSet<_>>());
    let mut gossipsub =
        Gossipsub::new_with_subscription_filter(MessageAuthenticity::Anonymous, gossip_config, filter)
            .map_err(|e| err(e.to_string()))?;
    gossipsub.with_peer_score(score_params(topics), thresholds()).map_err(err)?;
    for topic in Topic::ALL {
        gossipsub.subscribe(topics.ident(topic)).map_err(|e| err(e.to_string()))?;
    }
    Ok(gossipsub)
}

/// Per-topic scoring: small positive credit for first deliveries, a heavy squared penalty for
/// invalid messages, and no mesh-delivery penalties (quiet topics must not hurt honest peers).
fn topic_params() -> TopicScoreParams {
    TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.0,
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: 0.9,
        first_message_deliveries_cap: TOPIC_SCORE_CAP,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: INVALID_MESSAGE_WEIGHT,
        invalid_message_deliveries_decay: INVALID_MESSAGE_DECAY,
        ..TopicScoreParams::default()
    }
}

fn score_params(topics: &Topics) -> PeerScoreParams {
    PeerScoreParams {
        topics: Topic::ALL.into_iter().map(|t| (topics.hash(t), topic_params())).collect(),
        topic_score_cap: TOPIC_SCORE_CAP,
        // Validators may share a host (and tests all run on 127.0.0.1).
        ip_colocation_factor_weight: 0.0,
        ..PeerScoreParams::default()
    }
}

/// Score thresholds: gossip and publishing stop below -20 and -40 (two invalid messages);
/// graylisting (and the network's ban) at [`GRAYLIST_THRESHOLD`].
pub(crate) fn thresholds() -> PeerScoreThresholds {
    PeerScoreThresholds {
        gossip_threshold: -20.0,
        publish_threshold: -40.0,
        graylist_threshold: GRAYLIST_THRESHOLD,
        accept_px_threshold: 10.0,
        opportunistic_graft_threshold: 5.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoring_parameters_are_valid_and_three_strikes_graylist() {
        let topics = Topics::new(7);
        score_params(&topics).validate().unwrap();
        thresholds().validate().unwrap();
        let penalty = |n: f64| INVALID_MESSAGE_WEIGHT * n * n + TOPIC_SCORE_CAP;
        assert!(penalty(2.0) > GRAYLIST_THRESHOLD);
        assert!(penalty(3.0) < GRAYLIST_THRESHOLD);
    }

    #[test]
    fn topics_are_named_by_chain_and_ids_by_content() {
        let (a, b) = (Topics::new(1), Topics::new(2));
        assert_eq!(Topic::Txs.topic_string(1), "/weft/1/txs/1");
        assert_ne!(a.hash(Topic::Txs), b.hash(Topic::Txs));
        assert_eq!(a.topic_of(&a.hash(Topic::Blocks)), Some(Topic::Blocks));
        assert_eq!(a.topic_of(&b.hash(Topic::Blocks)), None);
        let h = a.hash(Topic::Txs);
        assert_eq!(message_id(&h, b"x"), message_id(&h, b"x"));
        assert_ne!(message_id(&h, b"x"), message_id(&a.hash(Topic::Consensus), b"x"));
    }
}
