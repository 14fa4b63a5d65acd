//! Batches of a bundle with window features, in event order: each batch's rows are given their
//! window features by one [`EventState`] carried from batch to batch, and the rows of a second
//! that may go on in the next batch wait for it. `riskpipe score` and `riskpipe monitor` both
//! read files this way, so every row gets the features the windows over the whole file give it.

use riskpipe_core::{Frame, Result};
use riskpipe_features::event_state::EventState;
use riskpipe_features::events::{EventSpec, timestamps};

/// Rows ready to score: masked, with the window features; the raw rows they came from when
/// the caller kept them; and how many rows came before them.
pub(crate) struct Ready {
    pub masked: Frame,
    pub raw: Option<Frame>,
    pub first: u64,
}

/// The window state and the rows held back for the next batch.
pub(crate) struct EventOrder<'a> {
    spec: &'a EventSpec,
    state: EventState,
    held: Option<(Frame, Option<Frame>)>,
    file: String,
}

impl<'a> EventOrder<'a> {
    pub fn new(spec: &'a EventSpec, file: &str) -> EventOrder<'a> {
        EventOrder {
            spec,
            state: EventState::new(spec),
            held: None,
            file: file.to_string(),
        }
    }

    /// The next batch, masked (and raw, to keep beside it); `last` when no batch follows. None
    /// when every row waits for the next batch (one second fills it).
    pub fn push(&mut self, masked: Frame, raw: Option<Frame>, last: bool) -> Result<Option<Ready>> {
        let (masked, raw) = match self.held.take() {
            Some((mut m, r)) => {
                m.append(masked);
                let r = r.zip(raw).map(|(mut a, b)| {
                    a.append(b);
                    a
                });
                (m, r)
            }
            None => (masked, raw),
        };
        self.cut(masked, raw, last)
    }

    /// The rows still held once the last batch is in.
    pub fn finish(&mut self) -> Result<Option<Ready>> {
        match self.held.take() {
            Some((m, r)) => self.cut(m, r, true),
            None => Ok(None),
        }
    }

    /// Gives the rows of whole seconds their features and holds the rest back.
    fn cut(&mut self, mut masked: Frame, mut raw: Option<Frame>, last: bool) -> Result<Option<Ready>> {
        let first = self.state.rows();
        let mut seconds = timestamps(&masked, &self.spec.time_column, &self.file, first)?;
        let k = EventState::complete_seconds(&seconds, last);
        if k < masked.rows() {
            let rest = masked.split_off(k);
            let raw_rest = raw.as_mut().map(|r| r.split_off(k));
            self.held = Some((rest, raw_rest));
            seconds.truncate(k);
        }
        if k == 0 {
            return Ok(None);
        }
        for (name, col) in self.state.features(&masked, &seconds, &self.file)? {
            masked.push(name, col);
        }
        Ok(Some(Ready { masked, raw, first }))
    }
}
