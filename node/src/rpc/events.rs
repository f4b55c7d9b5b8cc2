//! Event filters: matching (`contract_getEvents`, `contract_subscribeEvents`) and the page cursor
//! of `contract_getEvents`, `HEIGHT:TX:EVENT`, the position of the first event of the next page.

use weft_rpc_api::EventFilter;
use weft_types::{Address, Event, Hash, Height, limits::MAX_EVENT_TOPICS};

/// A checked filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    contract: Option<Address>,
    topics: Vec<Option<Hash>>,
}

impl Matcher {
    /// Checks `filter`: an event name becomes a constraint on `topics[0]`, which must then not
    /// be given with another value.
    pub fn new(filter: &EventFilter) -> Result<Matcher, String> {
        let mut topics = filter.topics.clone().unwrap_or_default();
        if topics.len() > MAX_EVENT_TOPICS {
            return Err(format!(
                "{} topics in the filter; events have at most {MAX_EVENT_TOPICS}",
                topics.len()
            ));
        }
        if let Some(name) = &filter.event {
            let topic = weft_abi::event_topic(name);
            match topics.first_mut() {
                None => topics.push(Some(topic)),
                Some(slot @ None) => *slot = Some(topic),
                Some(Some(t)) if *t == topic => {}
                Some(Some(t)) => {
                    return Err(format!("event {name:?} has topic {topic}, but topics[0] is {t}"));
                }
            }
        }
        Ok(Matcher { contract: filter.contract, topics })
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
}

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
    /// Parses `HEIGHT:TX:EVENT`.
    pub fn parse(s: &str) -> Result<Cursor, String> {
        let bad = || format!("cursor {s:?} is not one returned by contract_getEvents (HEIGHT:TX:EVENT)");
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
        let f = EventFilter {
            contract: Some(Address([1; 32])),
            event: Some("Transfer".into()),
            topics: Some(vec![None, Some(who)]),
            ..EventFilter::default()
        };
        let m = Matcher::new(&f).unwrap();
        assert!(m.matches(&event(1, &[transfer, who])));
        assert!(!m.matches(&event(2, &[transfer, who])));
        assert!(!m.matches(&event(1, &[transfer, Hash([8; 32])])));
        assert!(!m.matches(&event(1, &[weft_abi::event_topic("Approval"), who])));
        assert!(!m.matches(&event(1, &[transfer])));
        assert!(Matcher::new(&EventFilter::default()).unwrap().matches(&event(3, &[])));
        let clash = EventFilter { event: Some("Transfer".into()), topics: Some(vec![Some(who)]), ..f };
        assert!(Matcher::new(&clash).unwrap_err().contains("topics[0]"));
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
