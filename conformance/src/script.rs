//! The order in which a fixture's exchanges are consumed, shared by the
//! replay server and the sans-IO runner so both match the same way.

use serde_json::Value;

use crate::fixture::{Exchange, Fixture};
use crate::matching::{self, ActualRequest};

/// Exchanges to consume in order (a run of exchanges that allow any order
/// in any order among themselves), with what happened so far.
#[derive(Debug, Default)]
pub struct Script {
    exchanges: Vec<(String, Exchange)>,
    /// Which exchanges were taken.
    taken: Vec<bool>,
    /// The first exchange not taken.
    next: usize,
    served: usize,
    failures: Vec<Value>,
}

/// What a replay saw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Requests answered from the fixture.
    pub served: usize,
    /// The `599` bodies sent (mismatches and unexpected requests).
    pub failures: Vec<Value>,
    /// Required exchanges never requested: `fixture#index METHOD path`.
    pub unconsumed: Vec<String>,
}

impl Report {
    /// True when everything matched and every required exchange was used.
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty() && self.unconsumed.is_empty()
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} request(s) served", self.served)?;
        for fail in &self.failures {
            writeln!(
                f,
                "mismatch: {}",
                serde_json::to_string_pretty(fail).unwrap_or_default()
            )?;
        }
        for u in &self.unconsumed {
            writeln!(f, "never requested: {u}")?;
        }
        Ok(())
    }
}

impl Script {
    /// The exchanges of `fixtures`, one fixture after the other.
    pub fn new(fixtures: Vec<Fixture>) -> Script {
        let exchanges = fixtures
            .into_iter()
            .flat_map(|f| {
                let name = f.name;
                f.exchanges
                    .into_iter()
                    .enumerate()
                    .map(move |(i, e)| (format!("{name}#{i}"), e))
            })
            .collect();
        let exchanges: Vec<(String, Exchange)> = exchanges;
        Script {
            taken: vec![false; exchanges.len()],
            exchanges,
            ..Script::default()
        }
    }

    /// Takes the exchange `actual` consumes, skipping optional exchanges
    /// that do not match. On mismatch the exchange stays unconsumed and the
    /// `599` body describing the difference is recorded and returned.
    pub fn take(&mut self, actual: &ActualRequest) -> Result<Exchange, Value> {
        self.take_with_id(actual).map(|(_, exchange)| exchange)
    }

    /// Like [`Script::take`], with the exchange's id (`fixture#index`).
    pub fn take_with_id(&mut self, actual: &ActualRequest) -> Result<(String, Exchange), Value> {
        let mut i = self.next;
        let mut first_diff: Option<(usize, Vec<String>)> = None;
        while let Some((_, exchange)) = self.exchanges.get(i) {
            if self.taken[i] {
                i += 1;
                continue;
            }
            let diffs = matching::differences_with(&exchange.request, actual, &exchange.matching);
            if diffs.is_empty() {
                return Ok(self.take_at(i));
            }
            if first_diff.is_none() {
                first_diff = Some((i, diffs));
            }
            // Inside a run that allows any order, every member is a candidate.
            let grouped = exchange.matching.any_order
                && self
                    .exchanges
                    .get(i + 1)
                    .is_some_and(|(_, e)| e.matching.any_order);
            if !exchange.optional && !grouped {
                break;
            }
            i += 1;
        }
        let body = match first_diff {
            Some((i, diffs)) => {
                let (id, e) = &self.exchanges[i];
                let mut b = matching::mismatch_body(Some(i), Some(&e.request), actual, &diffs);
                b["exchange_id"] = Value::String(id.clone());
                b
            }
            None => matching::mismatch_body(None, None, actual, &["no exchanges left".into()]),
        };
        self.failures.push(body.clone());
        Err(body)
    }

    /// Takes exchange `i`; optional exchanges before it that were passed
    /// over stay behind.
    fn take_at(&mut self, i: usize) -> (String, Exchange) {
        self.taken[i] = true;
        self.served += 1;
        let in_group = self.exchanges[i].1.matching.any_order;
        if !in_group || i == self.next {
            // Strict order moves past everything before; a group member
            // taken first moves the start only past taken members.
            if !in_group {
                for j in self.next..i {
                    if self.exchanges[j].1.optional {
                        self.taken[j] = true;
                    }
                }
            }
            while self.next < self.taken.len() && self.taken[self.next] {
                self.next += 1;
            }
        }
        self.exchanges[i].clone()
    }

    /// Records a failure inside an exchange already taken (an upgraded
    /// conversation whose client frames differ from the fixture's).
    pub fn fail(&mut self, id: &str, why: &str) {
        self.failures.push(serde_json::json!({
            "error": "the upgraded conversation does not match the fixture",
            "exchange_id": id,
            "differences": [why],
        }));
    }

    /// What happened so far.
    pub fn report(&self) -> Report {
        let unconsumed = self.exchanges[self.next..]
            .iter()
            .zip(&self.taken[self.next..])
            .filter(|((_, e), taken)| !e.optional && !**taken)
            .map(|(e, _)| e)
            .map(|(id, e)| format!("{id} {} {}", e.request.method, e.request.path))
            .collect();
        Report {
            served: self.served,
            failures: self.failures.clone(),
            unconsumed,
        }
    }
}
