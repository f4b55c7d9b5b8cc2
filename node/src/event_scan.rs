//! Contract events over the committed chain: which events a filter selects ([`Matcher`]), an
//! event's position ([`Cursor`], `HEIGHT:TX:EVENT`, the first event of the next page), and the
//! bounded scan of committed blocks behind `contract_getEvents` ([`scan`]). Knows no JSON: the
//! RPC layer converts filters and found events.

use weft_types::{Address, Event, Hash, Height, Receipt, limits::MAX_EVENT_TOPICS};

/// Why a filter selects nothing sensible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// More topics than an event carries.
    #[error("{given} topics in the filter; events have at most {MAX_EVENT_TOPICS}")]
    TooManyTopics {
        /// Topics in the filter.
        given: usize,
    },
    /// The event name's topic contradicts `topics[0]`.
    #[error("event {name:?} has topic {topic}, but topics[0] is {given}")]
    TopicClash {
        /// The event name.
        name: String,
        /// Its topic.
        topic: Hash,
        /// The `topics[0]` given with it.
        given: Hash,
    },
}

/// A checked filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    contract: Option<Address>,
    topics: Vec<Option<Hash>>,
}

impl Matcher {
    /// Checks a filter: events of `contract` (any when `None`) whose topics match `topics`
    /// position by position (`None` matches anything). An event name becomes a constraint on
    /// `topics[0]`, which must then not be given with another value.
    pub fn new(
        contract: Option<Address>,
        event: Option<&str>,
        mut topics: Vec<Option<Hash>>,
    ) -> Result<Matcher, FilterError> {
        if topics.len() > MAX_EVENT_TOPICS {
            return Err(FilterError::TooManyTopics { given: topics.len() });
        }
        if let Some(name) = event {
            let topic = weft_abi::event_topic(name);
            match topics.first_mut() {
                None => topics.push(Some(topic)),
                Some(slot @ None) => *slot = Some(topic),
                Some(Some(t)) if *t == topic => {}
                Some(Some(t)) => {
                    return Err(FilterError::TopicClash { name: name.to_owned(), topic, given: *t });
                }
            }
        }
        Ok(Matcher { contract, topics })
    }

    /// Whether `event` passes.
    pub fn matches(&self, event: &Event) -> bool {
        self.contract.is_none_or(|c| c == event.contract)
            && self
                .topics
                .iter()
                .enumerate()
                .all(|(i, want)| want.is_none_or(|w| event.topics.get(i) == Some(&w)))
    }

    /// The events of one block's `receipts` that pass, in order: the transaction's hash, the
    /// event's index in that transaction, the event.
    pub fn in_block<'a>(
        &'a self,
        receipts: &'a [Receipt],
    ) -> impl Iterator<Item = (Hash, u32, &'a Event)> + 'a {
        receipts.iter().flat_map(move |receipt| {
            (0u32..)
                .zip(&receipt.events)
                .filter(|(_, event)| self.matches(event))
                .map(|(i, event)| (receipt.tx_hash, i, event))
        })
    }
}

/// A cursor that is not one [`Cursor`]'s `Display` wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cursor {0:?} is not one returned by contract_getEvents (HEIGHT:TX:EVENT)")]
pub struct BadCursor(pub String);

/// A position in the chain's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    /// Block height.
    pub height: Height,
    /// Transaction index in the block.
    pub tx: u32,
    /// Event index in the transaction.
    pub event: u32,
}

impl Cursor {
    /// The first event of block `height`.
    pub fn at_block(height: Height) -> Cursor {
        Cursor { height, tx: 0, event: 0 }
    }

    /// Parses `HEIGHT:TX:EVENT`.
    pub fn parse(s: &str) -> Result<Cursor, BadCursor> {
        let bad = || BadCursor(s.to_owned());
        let mut parts = s.split(':');
        let mut next = || parts.next().ok_or_else(bad)?.parse::<u64>().map_err(|_| bad());
        let (height, tx, event) = (next()?, next()?, next()?);
        if parts.next().is_some() {
            return Err(bad());
        }
        let tx = u32::try_from(tx).map_err(|_| bad())?;
        let event = u32::try_from(event).map_err(|_| bad())?;
        Ok(Cursor { height, tx, event })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.height, self.tx, self.event)
    }
}

/// An event found by [`scan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundEvent {
    /// The block holding it.
    pub height: Height,
    /// The transaction that emitted it.
    pub tx_hash: Hash,
    /// Its index in that transaction's events.
    pub index: u32,
    /// The event.
    pub event: Event,
}

/// One page of [`scan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventScan {
    /// The events found, in chain order.
    pub events: Vec<FoundEvent>,
    /// Where the next page starts; `None` when the scan reached its last block.
    pub next: Option<Cursor>,
}

/// The events `matcher` passes from `start` through block `to`, cut after `limit` events or
/// `max_blocks` blocks (at least one), whichever comes first: the cost of one call is bounded
/// however wide the range asked for. `receipts_at` reads a committed block's receipts (the
/// store's `block_receipts`).
pub fn scan<E>(
    mut receipts_at: impl FnMut(Height) -> Result<Vec<Receipt>, E>,
    matcher: &Matcher,
    start: Cursor,
    to: Height,
    max_blocks: u64,
    limit: usize,
) -> Result<EventScan, E> {
    let last = to.min(start.height.saturating_add(max_blocks.max(1) - 1));
    let mut events = Vec::new();
    for height in start.height..=last {
        let receipts = receipts_at(height)?;
        for (tx, receipt) in (0u32..).zip(receipts) {
            for (index, event) in (0u32..).zip(receipt.events) {
                let here = Cursor { height, tx, event: index };
                if here < start || !matcher.matches(&event) {
                    continue;
                }
                if events.len() == limit {
                    return Ok(EventScan { events, next: Some(here) });
                }
                events.push(FoundEvent { height, tx_hash: receipt.tx_hash, index, event });
            }
        }
    }
    Ok(EventScan { events, next: (last < to).then(|| Cursor::at_block(last + 1)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(contract: u8, topics: &[Hash]) -> Event {
        Event { contract: Address([contract; 32]), topics: topics.to_vec(), data: vec![] }
    }

    #[test]
    fn filters_by_contract_name_and_topics() {
        let transfer = weft_abi::event_topic("Transfer");
        let who = Hash([7; 32]);
        let contract = Some(Address([1; 32]));
        let m = Matcher::new(contract, Some("Transfer"), vec![None, Some(who)]).unwrap();
        assert!(m.matches(&event(1, &[transfer, who])));
        assert!(!m.matches(&event(2, &[transfer, who])));
        assert!(!m.matches(&event(1, &[transfer, Hash([8; 32])])));
        assert!(!m.matches(&event(1, &[weft_abi::event_topic("Approval"), who])));
        assert!(!m.matches(&event(1, &[transfer])));
        assert!(Matcher::new(None, None, vec![]).unwrap().matches(&event(3, &[])));
        let clash = Matcher::new(contract, Some("Transfer"), vec![Some(who)]);
        assert!(clash.unwrap_err().to_string().contains("topics[0]"));
    }

    /// Block `h` of a synthetic chain: two transactions of two events each, every event of
    /// contract `h % 2`.
    fn receipts(h: Height) -> Result<Vec<Receipt>, std::convert::Infallible> {
        let tx = |t: u8| Receipt {
            tx_hash: Hash([t; 32]),
            status: weft_types::ExecStatus::Success,
            gas_used: 0,
            fee: 0,
            deposit_charged: 0,
            deposit_refunded: 0,
            events: vec![event((h % 2) as u8, &[]), event((h % 2) as u8, &[])],
            return_data: vec![],
            contract_address: None,
        };
        Ok(vec![tx(0), tx(1)])
    }

    fn positions(page: &EventScan) -> Vec<(Height, u8, u32)> {
        page.events.iter().map(|f| (f.height, f.tx_hash.0[0], f.index)).collect()
    }

    #[test]
    fn scans_stop_at_the_page_limit_and_the_block_range_and_resume_at_the_cursor() {
        let all = Matcher::new(None, None, vec![]).unwrap();
        // The page fills in block 1: the cursor names the first event left out.
        let page = scan(receipts, &all, Cursor::at_block(0), 10, 100, 5).unwrap();
        assert_eq!(page.events.len(), 5);
        assert_eq!(page.next, Some(Cursor { height: 1, tx: 0, event: 1 }));
        let rest = scan(receipts, &all, page.next.unwrap(), 10, 100, 5).unwrap();
        assert_eq!(positions(&rest)[0], (1, 0, 1));
        // The range ends first: the next page starts at the next block.
        let odd = Matcher::new(Some(Address([1; 32])), None, vec![]).unwrap();
        let page = scan(receipts, &odd, Cursor::at_block(0), 10, 3, 100).unwrap();
        assert_eq!(positions(&page), vec![(1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1)]);
        assert_eq!(page.next, Some(Cursor::at_block(3)));
        // Reaching `to` ends the scan.
        let page = scan(receipts, &odd, Cursor::at_block(8), 9, 100, 100).unwrap();
        assert_eq!(page.events.len(), 4);
        assert_eq!(page.next, None);
    }

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let c = Cursor { height: 12, tx: 3, event: 1 };
        assert_eq!(Cursor::parse(&c.to_string()), Ok(c));
        for bad in ["", "1:2", "1:2:3:4", "a:b:c", "1:99999999999:0"] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }
}
