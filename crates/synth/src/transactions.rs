//! The card-transaction generator, for the fraud-detection task: customers and terminals on a
//! map, each customer's daily transactions at the terminals near them, and three fraud
//! scenarios, after the simulator of the fraud-detection handbook (Le Borgne et al.) whose
//! output `shared/data/fraud_sim_handbook` holds. The columns are that data's, so one pipeline
//! runs on either.
//!
//! - Customers: a location on a 100 x 100 map, a mean amount in [5, 100) with half of it as
//!   standard deviation, and a mean number of transactions per day in [0, 4).
//! - Terminals: a location; a customer uses the terminals within [`RADIUS`] of them.
//! - Each day, each customer makes a Poisson number of transactions at normal times of day
//!   around noon (times outside the day are dropped) with normal amounts (a negative draw is
//!   redrawn uniform in [0, 2 x mean)).
//! - Fraud: (1) every amount above [`AMOUNT_FRAUD`] is fraud; (2) each day two terminals are
//!   compromised and all their transactions of the next 28 days are fraud; (3) each day three
//!   customers' cards are compromised and over the next 14 days a third of their transactions
//!   (each with probability 1/3, where the handbook samples exactly a third) are fraud at five
//!   times the amount. A later scenario overwrites an earlier one's label.
//!
//! The design decision: a day's transactions and each day's compromised terminals and cards
//! come from random streams of their own (`Rng::derive(seed, "day 17")`), so a day is made
//! without the days before it: blocks of days are generated in parallel and streamed, memory
//! stays bounded by a block however many days are asked for, and the bytes do not depend on the
//! thread count.

use riskpipe_core::frame::{days_from_civil, format_date};
use riskpipe_core::{Column, Frame, Rng};

use crate::poisson;

/// Radius of the circle of terminals a customer uses.
pub const RADIUS: f64 = 5.0;
/// Amounts above this are fraud (scenario 1).
pub const AMOUNT_FRAUD: f64 = 220.0;
/// Days a compromised terminal stays compromised (scenario 2).
pub const TERMINAL_DAYS: u32 = 28;
/// Days a compromised card stays compromised (scenario 3).
pub const CARD_DAYS: u32 = 14;
/// The label column.
pub const TX_FRAUD: &str = "TX_FRAUD";
/// The truth table's scenario column: 0 genuine, 1 amount, 2 terminal, 3 card.
pub const TX_FRAUD_SCENARIO: &str = "TX_FRAUD_SCENARIO";
/// Days generated per block.
const BLOCK_DAYS: u32 = 7;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransactionParams {
    /// Customers.
    pub customers: usize,
    /// Terminals.
    pub terminals: usize,
    /// Days, from 2018-04-01 (the handbook's first day).
    pub days: u32,
    /// Seed.
    pub seed: u64,
}

impl Default for TransactionParams {
    /// The handbook's sizes: 5,000 customers, 10,000 terminals, 183 days.
    fn default() -> Self {
        TransactionParams {
            customers: 5_000,
            terminals: 10_000,
            days: 183,
            seed: 42,
        }
    }
}

struct Customer {
    mean_amount: f64,
    std_amount: f64,
    tx_per_day: f64,
    /// Terminals within [`RADIUS`].
    terminals: Vec<u32>,
}

/// One transaction before numbering.
struct Tx {
    seconds: u32,
    customer: u32,
    terminal: u32,
    amount: f64,
    scenario: u8,
}

/// The generator: an iterator over blocks of days, each a pair of frames (transactions,
/// and the truth: `TRANSACTION_ID`, `TX_FRAUD`, `TX_FRAUD_SCENARIO`), in time order.
pub struct Transactions {
    params: TransactionParams,
    customers: Vec<Customer>,
    next_day: u32,
    next_id: u64,
}

/// The generator for `params`.
pub fn transactions(params: TransactionParams) -> Transactions {
    let mut rng = Rng::derive(params.seed, "customers");
    let profiles: Vec<(f64, f64, f64, f64)> = (0..params.customers)
        .map(|_| {
            let (x, y) = (rng.uniform() * 100.0, rng.uniform() * 100.0);
            let mean = 5.0 + rng.uniform() * 95.0;
            (x, y, mean, rng.uniform() * 4.0)
        })
        .collect();
    let mut rng = Rng::derive(params.seed, "terminals");
    let terminals: Vec<(f64, f64)> = (0..params.terminals)
        .map(|_| (rng.uniform() * 100.0, rng.uniform() * 100.0))
        .collect();
    // Terminals by map cell of side RADIUS: a customer looks at the 3 x 3 cells around them.
    let cells = (100.0 / RADIUS).ceil() as usize;
    let cell = |v: f64| ((v / RADIUS) as usize).min(cells - 1);
    let mut grid: Vec<Vec<u32>> = vec![Vec::new(); cells * cells];
    for (t, &(x, y)) in terminals.iter().enumerate() {
        grid[cell(x) * cells + cell(y)].push(t as u32);
    }
    let customers = profiles
        .into_iter()
        .map(|(x, y, mean, per_day)| {
            let (cx, cy) = (cell(x), cell(y));
            let mut near: Vec<u32> = Vec::new();
            for gx in cx.saturating_sub(1)..=(cx + 1).min(cells - 1) {
                for gy in cy.saturating_sub(1)..=(cy + 1).min(cells - 1) {
                    near.extend(grid[gx * cells + gy].iter().copied().filter(|&t| {
                        let (tx, ty) = terminals[t as usize];
                        (tx - x).hypot(ty - y) < RADIUS
                    }));
                }
            }
            near.sort_unstable();
            Customer {
                mean_amount: mean,
                std_amount: mean / 2.0,
                tx_per_day: per_day,
                terminals: near,
            }
        })
        .collect();
    Transactions {
        params,
        customers,
        next_day: 0,
        next_id: 0,
    }
}

/// The first day, 2018-04-01, in days since 1970-01-01.
pub fn first_day() -> i32 {
    days_from_civil(2018, 4, 1)
}

impl Transactions {
    /// The compromised terminals (`what` = "terminals") or cards chosen on day `d`.
    fn compromised(&self, d: u32, what: &str, count: usize, of: usize) -> Vec<u32> {
        if of == 0 {
            return Vec::new();
        }
        let mut rng = Rng::derive(self.params.seed, &format!("compromised {what} {d}"));
        (0..count).map(|_| rng.below(of as u64) as u32).collect()
    }

    /// Day `d`'s transactions in time order, labelled.
    fn day(&self, d: u32) -> Vec<Tx> {
        let mut rng = Rng::derive(self.params.seed, &format!("day {d}"));
        let mut txs: Vec<Tx> = Vec::new();
        for (c, cust) in self.customers.iter().enumerate() {
            let n = poisson(&mut rng, cust.tx_per_day) as usize;
            for _ in 0..n {
                let time = (43_200.0 + 20_000.0 * rng.normal()).round();
                let mut amount = cust.mean_amount + cust.std_amount * rng.normal();
                if amount < 0.0 {
                    amount = rng.uniform() * 2.0 * cust.mean_amount;
                }
                let amount = (amount * 100.0).round() / 100.0;
                if !(time > 0.0 && time < 86_400.0) || cust.terminals.is_empty() {
                    continue;
                }
                let terminal = *rng.choose(&cust.terminals);
                txs.push(Tx {
                    seconds: time as u32,
                    customer: c as u32,
                    terminal,
                    amount,
                    scenario: u8::from(amount > AMOUNT_FRAUD),
                });
            }
        }
        txs.sort_by_key(|t| (t.seconds, t.customer));
        let since = |days: u32| d.saturating_sub(days - 1)..=d;
        let terminals: Vec<u32> = since(TERMINAL_DAYS)
            .flat_map(|k| self.compromised(k, "terminals", 2, self.params.terminals))
            .collect();
        let cards: Vec<u32> = since(CARD_DAYS)
            .flat_map(|k| self.compromised(k, "cards", 3, self.params.customers))
            .collect();
        let mut rng = Rng::derive(self.params.seed, &format!("card fraud {d}"));
        for t in &mut txs {
            if terminals.contains(&t.terminal) {
                t.scenario = 2;
            }
            if cards.contains(&t.customer) && rng.uniform() < 1.0 / 3.0 {
                t.amount = ((t.amount * 5.0) * 100.0).round() / 100.0;
                t.scenario = 3;
            }
        }
        txs
    }

    /// Frames of the transactions of a block of days.
    fn frames(&mut self, first: u32, days: Vec<Vec<Tx>>) -> (Frame, Frame) {
        let n: usize = days.iter().map(Vec::len).sum();
        let mut cols: [Vec<f64>; 7] = std::array::from_fn(|_| Vec::with_capacity(n));
        let mut datetime = Vec::with_capacity(n);
        let mut scenario = Vec::with_capacity(n);
        for (k, txs) in days.into_iter().enumerate() {
            let d = first + k as u32;
            let date = format_date(first_day() + d as i32);
            for t in txs {
                let s = t.seconds;
                datetime.push(Some(format!("{date} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)));
                let values = [
                    self.next_id as f64,
                    f64::from(t.customer),
                    f64::from(t.terminal),
                    t.amount,
                    f64::from(d) * 86_400.0 + f64::from(s),
                    f64::from(d),
                    f64::from(u8::from(t.scenario > 0)),
                ];
                for (c, v) in cols.iter_mut().zip(values) {
                    c.push(v);
                }
                scenario.push(f64::from(t.scenario));
                self.next_id += 1;
            }
        }
        let [id, customer, terminal, amount, seconds, day, fraud] = cols;
        let mut data = Frame::new();
        data.push("TRANSACTION_ID", Column::Number(id.clone()));
        data.push("TX_DATETIME", Column::Text(datetime));
        data.push("CUSTOMER_ID", Column::Number(customer));
        data.push("TERMINAL_ID", Column::Number(terminal));
        data.push("TX_AMOUNT", Column::Number(amount));
        data.push("TX_TIME_SECONDS", Column::Number(seconds));
        data.push("TX_TIME_DAYS", Column::Number(day));
        data.push(TX_FRAUD, Column::Number(fraud.clone()));
        let mut truth = Frame::new();
        truth.push("TRANSACTION_ID", Column::Number(id));
        truth.push(TX_FRAUD, Column::Number(fraud));
        truth.push(TX_FRAUD_SCENARIO, Column::Number(scenario));
        (data, truth)
    }
}

impl Iterator for Transactions {
    type Item = (Frame, Frame);

    /// The next block of up to seven days.
    fn next(&mut self) -> Option<(Frame, Frame)> {
        use rayon::prelude::*;
        if self.next_day >= self.params.days {
            return None;
        }
        let first = self.next_day;
        let last = (first + BLOCK_DAYS).min(self.params.days);
        self.next_day = last;
        let this = &*self;
        let days: Vec<Vec<Tx>> = (first..last).into_par_iter().map(|d| this.day(d)).collect();
        Some(self.frames(first, days))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(seed: u64) -> TransactionParams {
        TransactionParams {
            customers: 400,
            terminals: 800,
            days: 60,
            seed,
        }
    }

    fn all(p: TransactionParams) -> (Frame, Frame) {
        let (data, truth): (Vec<Frame>, Vec<Frame>) = transactions(p).unzip();
        (riskpipe_core::io::concat(data), riskpipe_core::io::concat(truth))
    }

    #[test]
    fn the_same_seed_gives_the_same_rows_and_another_seed_others() {
        let (a, ta) = all(small(3));
        let (b, tb) = all(small(3));
        assert_eq!(a, b);
        assert_eq!(ta, tb);
        let (c, _) = all(small(4));
        assert_ne!(a.number("TX_AMOUNT").unwrap(), c.number("TX_AMOUNT").unwrap());
    }

    #[test]
    fn rows_are_in_time_order_with_ids_in_order_and_every_scenario_planted() {
        let (data, truth) = all(small(5));
        let n = data.rows();
        // 400 customers x 2 per day x 60 days, less the times outside the day.
        assert!(n > 35_000 && n < 60_000, "{n} rows");
        let seconds = data.number("TX_TIME_SECONDS").unwrap();
        assert!(seconds.windows(2).all(|w| w[0] <= w[1]));
        let ids = data.number("TRANSACTION_ID").unwrap();
        assert!(ids.iter().enumerate().all(|(i, &v)| v == i as f64));
        let amount = data.number("TX_AMOUNT").unwrap();
        let fraud = data.number(TX_FRAUD).unwrap();
        let scenario = truth.number(TX_FRAUD_SCENARIO).unwrap();
        for s in 1..=3 {
            assert!(scenario.iter().any(|&v| v == f64::from(s)), "scenario {s} planted");
        }
        for i in 0..n {
            assert_eq!(fraud[i], f64::from(u8::from(scenario[i] > 0.0)));
            if scenario[i] == 0.0 {
                assert!(amount[i] <= AMOUNT_FRAUD, "row {i}: {} genuine", amount[i]);
            }
        }
        // Few customers and terminals make the compromised ones a larger share than the
        // handbook's 0.8 % (the command's test checks that at the handbook's sizes).
        let rate = fraud.iter().sum::<f64>() / n as f64;
        assert!(rate > 0.01 && rate < 0.15, "fraud rate {rate}");
        let Some(Column::Text(dt)) = data.get("TX_DATETIME") else {
            panic!("TX_DATETIME is text")
        };
        assert_eq!(dt[0].as_deref().map(|s| &s[..11]), Some("2018-04-01 "));
    }

    #[test]
    fn a_compromised_terminal_is_all_fraud_for_28_days() {
        let p = small(9);
        let generator = transactions(p);
        let chosen = generator.compromised(10, "terminals", 2, p.terminals);
        let (data, _) = all(p);
        let (term, day, fraud) = (
            data.number("TERMINAL_ID").unwrap(),
            data.number("TX_TIME_DAYS").unwrap(),
            data.number(TX_FRAUD).unwrap(),
        );
        let mut seen = 0;
        for i in 0..data.rows() {
            if chosen.contains(&(term[i] as u32)) && (10.0..38.0).contains(&day[i]) {
                assert_eq!(fraud[i], 1.0);
                seen += 1;
            }
        }
        assert!(seen > 0);
    }
}
