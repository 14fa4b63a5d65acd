//! The account-behaviour generator: a month of activity per account, with planted anomalies of
//! four kinds, for the anomaly-detection task.

use riskpipe_core::frame::days_from_civil;
use riskpipe_core::{Column, Frame, Rng};

use crate::poisson;

/// Name of the planted label column (1 = planted anomaly): for evaluation only.
pub const LABEL: &str = "is_anomaly";

/// The kinds of planted anomaly, as `anomaly_kind` in the truth table names them.
pub const KINDS: [&str; 4] = ["global", "cluster", "dependency", "duplicate"];

/// A generated account table.
#[derive(Debug, Clone)]
pub struct AccountBook {
    /// Accounts with customer PII, a month of behaviour and `is_anomaly`.
    pub data: Frame,
    /// `account_id`, `is_anomaly` and `anomaly_kind` (`normal` or one of [`KINDS`]).
    pub truth: Frame,
}

const COUNTRIES: [&str; 8] = ["GB", "GB", "GB", "GB", "IE", "FR", "DE", "ES"];
const CHANNELS: [&str; 3] = ["online", "mobile", "branch"];
const FIRST: [&str; 12] = [
    "Ava", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hugo", "Iris", "Jack", "Kira", "Leon",
];
const LAST: [&str; 12] = [
    "Adams", "Baker", "Clark", "Dixon", "Ellis", "Fox", "Gray", "Hill", "Irwin", "Jones", "King", "Lowe",
];

/// One account's month.
#[derive(Debug, Clone)]
struct Account {
    name: String,
    email: String,
    date_of_birth: i32,
    country: &'static str,
    channel: &'static str,
    account_age_days: f64,
    balance: f64,
    monthly_inflow: f64,
    monthly_outflow: f64,
    cash_withdrawals: f64,
    cash_amount: f64,
    transfers_out: f64,
    max_transfer: f64,
    foreign_share: f64,
    night_share: f64,
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// An ordinary account: sizes follow a latent scale, flows follow each other, cash and
/// transfers follow the flows, and night and foreign activity are rare.
fn normal(rng: &mut Rng) -> Account {
    let first = *rng.choose(&FIRST);
    let last = *rng.choose(&LAST);
    let scale = (7.8 + 0.6 * rng.normal()).exp();
    let age_years = 20.0 + 45.0 * rng.uniform();
    let inflow = scale * (0.1 * rng.normal()).exp();
    let outflow = inflow * (0.93 + 0.05 * rng.normal()).clamp(0.6, 1.1);
    let transfers = poisson(rng, 4.0 + scale / 1500.0);
    let cash_n = poisson(rng, 2.5);
    let email = format!(
        "{}.{}{}@example.com",
        first.to_lowercase(),
        last.to_lowercase(),
        rng.below(10_000)
    );
    let country = *rng.choose(&COUNTRIES);
    let channel = *rng.choose(&CHANNELS);
    Account {
        name: format!("{first} {last}"),
        email,
        date_of_birth: days_from_civil(2025, 1, 1) - (age_years * 365.25) as i32,
        country,
        channel,
        account_age_days: (1095.0 * -rng.uniform().max(1e-12).ln()).round().max(1.0),
        balance: round2(inflow * (0.5 + 3.0 * rng.uniform())),
        monthly_inflow: round2(inflow),
        monthly_outflow: round2(outflow),
        cash_withdrawals: cash_n,
        cash_amount: round2(cash_n * 60.0 * (0.4 * rng.normal()).exp()),
        transfers_out: transfers,
        max_transfer: round2(outflow * (0.1 + 0.8 * rng.uniform().powi(3))),
        foreign_share: round2((0.03 * rng.uniform()).min(1.0)),
        night_share: round2(0.25 * rng.uniform().powi(2)),
    }
}

/// Lays anomaly `kind` over an ordinary account (`ring` holds the mule ring's shared profile;
/// `copy` the account a near-duplicate copies).
fn plant(rng: &mut Rng, mut a: Account, kind: &str, ring: &Account, copy: Option<&Account>) -> Account {
    match kind {
        // Far out in several features at once.
        "global" => {
            let k = 8.0 + 12.0 * rng.uniform();
            a.monthly_inflow = round2(a.monthly_inflow * k);
            a.monthly_outflow = round2(a.monthly_outflow * k);
            a.cash_amount = round2(a.cash_amount * k + 5_000.0);
            a.cash_withdrawals += 10.0 + poisson(rng, 10.0);
            a.max_transfer = round2(a.max_transfer * k);
        }
        // A small, dense group far from the rest: new accounts passing money straight through,
        // abroad, at night.
        "cluster" => {
            let jitter = |rng: &mut Rng, v: f64| round2(v * (1.0 + 0.02 * rng.normal()));
            a.country = ring.country;
            a.channel = ring.channel;
            a.account_age_days = (ring.account_age_days + (rng.below(5) as f64)).round();
            a.balance = jitter(rng, ring.balance);
            a.monthly_inflow = jitter(rng, ring.monthly_inflow);
            a.monthly_outflow = round2(a.monthly_inflow * 0.99);
            a.transfers_out = ring.transfers_out + rng.below(3) as f64;
            a.max_transfer = jitter(rng, ring.max_transfer);
            a.foreign_share = ring.foreign_share;
            a.night_share = ring.night_share;
            a.cash_withdrawals = 0.0;
            a.cash_amount = 0.0;
        }
        // Each value ordinary on its own, the combination not: a large transfer from an
        // account a few weeks old, mostly at night.
        "dependency" => {
            a.account_age_days = (7.0 + 30.0 * rng.uniform()).round();
            a.max_transfer = round2(a.monthly_outflow * (0.85 + 0.05 * rng.uniform()));
            a.transfers_out = 1.0;
            a.night_share = round2(0.15 + 0.1 * rng.uniform());
        }
        // Another customer's account, copied with tiny changes (a data-entry or synthetic
        // identity pattern).
        _ => {
            if let Some(c) = copy {
                let (name, email, dob) = (a.name, a.email, a.date_of_birth);
                a = c.clone();
                a.name = name;
                a.email = email;
                a.date_of_birth = dob;
                a.balance = round2(a.balance + rng.normal());
            }
        }
    }
    a
}

/// The mule ring's shared profile.
fn ring_profile(rng: &mut Rng) -> Account {
    let mut r = normal(rng);
    r.country = "XX";
    r.channel = "mobile";
    r.account_age_days = 20.0;
    r.balance = 150.0;
    r.monthly_inflow = 24_000.0;
    r.transfers_out = 45.0;
    r.max_transfer = 2_400.0;
    r.foreign_share = 0.85;
    r.night_share = 0.6;
    r
}

/// Generates `rows` accounts from `seed`, `anomaly_rate` of them planted anomalies (global
/// outliers 35 %, the mule ring 25 %, broken dependencies 25 %, near-duplicates 15 %). Same
/// arguments, same data.
pub fn accounts(rows: usize, seed: u64, anomaly_rate: f64) -> AccountBook {
    let mut rng = Rng::derive(seed, "synth.accounts");
    let ring = ring_profile(&mut Rng::derive(seed, "synth.accounts.ring"));
    let mut list: Vec<Account> = Vec::with_capacity(rows);
    let mut kinds: Vec<&'static str> = Vec::with_capacity(rows);
    for i in 0..rows {
        let a = normal(&mut rng);
        let kind = if rng.bernoulli(anomaly_rate.clamp(0.0, 1.0)) {
            let u = rng.uniform();
            match u {
                _ if u < 0.35 => "global",
                _ if u < 0.60 => "cluster",
                _ if u < 0.85 => "dependency",
                _ => "duplicate",
            }
        } else {
            "normal"
        };
        let a = if kind == "normal" {
            a
        } else {
            // A near-duplicate copies an earlier ordinary account (the first row has none: it
            // stays ordinary but is counted under its kind, so the label stays truthful only
            // for rows that were changed).
            let copy = (kind == "duplicate")
                .then(|| (0..i).rev().find(|&j| kinds[j] == "normal").map(|j| list[j].clone()))
                .flatten();
            if kind == "duplicate" && copy.is_none() {
                kinds.push("normal");
                list.push(a);
                continue;
            }
            plant(&mut rng, a, kind, &ring, copy.as_ref())
        };
        kinds.push(kind);
        list.push(a);
    }
    book(&list, &kinds)
}

fn book(list: &[Account], kinds: &[&str]) -> AccountBook {
    let id: Vec<Option<String>> = (0..list.len()).map(|i| Some(format!("C{:08}", i + 1))).collect();
    let text = |f: &dyn Fn(&Account) -> String| Column::Text(list.iter().map(|a| Some(f(a))).collect());
    let number = |f: &dyn Fn(&Account) -> f64| Column::Number(list.iter().map(f).collect());
    let label: Vec<f64> = kinds.iter().map(|k| f64::from(u8::from(*k != "normal"))).collect();
    let mut data = Frame::new();
    data.push("account_id", Column::Text(id.clone()));
    data.push("customer_name", text(&|a| a.name.clone()));
    data.push("email", text(&|a| a.email.clone()));
    data.push(
        "date_of_birth",
        Column::Date(list.iter().map(|a| Some(a.date_of_birth)).collect()),
    );
    data.push("country", text(&|a| a.country.to_string()));
    data.push("channel", text(&|a| a.channel.to_string()));
    data.push("account_age_days", number(&|a| a.account_age_days));
    data.push("balance", number(&|a| a.balance));
    data.push("monthly_inflow", number(&|a| a.monthly_inflow));
    data.push("monthly_outflow", number(&|a| a.monthly_outflow));
    data.push("cash_withdrawals", number(&|a| a.cash_withdrawals));
    data.push("cash_amount", number(&|a| a.cash_amount));
    data.push("transfers_out", number(&|a| a.transfers_out));
    data.push("max_transfer", number(&|a| a.max_transfer));
    data.push("foreign_share", number(&|a| a.foreign_share));
    data.push("night_share", number(&|a| a.night_share));
    data.push(LABEL, Column::Number(label.clone()));
    let mut truth = Frame::new();
    truth.push("account_id", Column::Text(id));
    truth.push(LABEL, Column::Number(label));
    truth.push(
        "anomaly_kind",
        Column::Text(kinds.iter().map(|k| Some((*k).to_string())).collect()),
    );
    AccountBook { data, truth }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_kinds_are_labelled_and_the_same_seed_gives_the_same_table() {
        let b = accounts(20_000, 3, 0.02);
        let Some(Column::Text(kinds)) = b.truth.get("anomaly_kind") else {
            panic!("no kinds")
        };
        let label = b.data.number(LABEL).unwrap();
        let count = |k: &str| kinds.iter().filter(|v| v.as_deref() == Some(k)).count();
        let planted: usize = KINDS.iter().map(|k| count(k)).sum();
        assert_eq!(planted as f64, label.iter().sum::<f64>());
        assert!((300..=500).contains(&planted), "{planted}");
        assert!(KINDS.iter().all(|k| count(k) > 20), "{:?}", KINDS.map(count));
        let again = accounts(20_000, 3, 0.02);
        assert_eq!(again.data.number("balance"), b.data.number("balance"));
        assert_ne!(
            accounts(20_000, 4, 0.02).data.number("balance"),
            b.data.number("balance")
        );
        // The ring is dense: its members' inflows lie within a few per cent of one another.
        let inflow = b.data.number("monthly_inflow").unwrap();
        let ring: Vec<f64> = (0..kinds.len())
            .filter(|&i| kinds[i].as_deref() == Some("cluster"))
            .map(|i| inflow[i])
            .collect();
        let (lo, hi) = ring
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
        assert!(hi / lo < 1.2, "{lo} {hi}");
        // Every value of a dependency anomaly stays inside the ordinary range.
        let age = b.data.number("account_age_days").unwrap();
        let min_age = (0..kinds.len())
            .filter(|&i| kinds[i].as_deref() == Some("normal"))
            .map(|i| age[i])
            .fold(f64::MAX, f64::min);
        assert!(min_age < 40.0, "{min_age}");
    }
}
