//! The loan-book generator.

use riskpipe_core::frame::{days_from_civil, format_date};
use riskpipe_core::{Column, Frame, Rng};

use crate::poisson;

/// Name of the target column.
pub const TARGET: &str = "default_flag";

/// A generated loan book.
#[derive(Debug, Clone)]
pub struct LoanBook {
    /// The applications with PII, risk drivers and `default_flag`.
    pub data: Frame,
    /// `id` and `true_pd`: each row's probability of default under the generating model.
    pub truth: Frame,
}

const FIRST: [&str; 24] = [
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia", "Lucas", "Isla", "Mateo", "Mia",
    "Leo", "Freya", "Arjun", "Chloe", "Yusuf", "Hannah", "Kenji", "Zara", "Tomasz", "Ines", "Samuel",
];
const LAST: [&str; 24] = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson", "Wright",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Khan", "Lewis", "Nowak", "Garcia", "Muller",
    "Okafor",
];
const HOUSING: [&str; 4] = ["rent", "own", "mortgage", "other"];
const PURPOSE: [&str; 7] = [
    "debt_consolidation",
    "car",
    "home_improvement",
    "business",
    "education",
    "medical",
    "other",
];
const AREAS: [&str; 12] = ["AB", "B", "CF", "E", "G", "LS", "M", "N", "NE", "SW", "EH", "BS"];

fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    x.max(lo).min(hi)
}

/// One generated application: what the book shows of it, and its true PD.
struct Application {
    /// `name`, `national_id`, `email`, `phone`, `postcode`.
    pii: [String; 5],
    date_of_birth: i32,
    application_date: i32,
    age: f64,
    income: f64,
    employment_years: f64,
    housing: &'static str,
    purpose: &'static str,
    loan_amount: f64,
    term_months: f64,
    interest_rate: f64,
    debt_to_income: f64,
    credit_history_years: f64,
    delinquencies: f64,
    utilisation: f64,
    inquiries_6m: f64,
    num_accounts: f64,
    default: bool,
    true_pd: f64,
}

/// The applicant's name, national id, e-mail, phone and postcode.
fn identity(rng: &mut Rng) -> [String; 5] {
    let first = *rng.choose(&FIRST);
    let last = *rng.choose(&LAST);
    let name = format!("{first} {last}");
    let national_id = format!(
        "{:03}-{:02}-{:04}",
        100 + rng.below(800),
        10 + rng.below(90),
        1000 + rng.below(9000)
    );
    let email = format!(
        "{}.{}{}@example.{}",
        first.to_lowercase(),
        last.to_lowercase(),
        rng.below(1000),
        if rng.bernoulli(0.5) { "com" } else { "org" }
    );
    let phone = format!("+44 7{:03} {:06}", rng.below(1000), rng.below(1_000_000));
    let postcode = format!(
        "{}{} {}{}{}",
        rng.choose(&AREAS),
        1 + rng.below(20),
        rng.below(10),
        (b'A' + rng.below(26) as u8) as char,
        (b'A' + rng.below(26) as u8) as char
    );
    [name, national_id, email, phone, postcode]
}

/// The risk drivers an application's default depends on (true values, before missing values
/// and outliers are laid over them).
struct Drivers {
    quality: f64,
    age: f64,
    employment_years: f64,
    income: f64,
    housing: &'static str,
    purpose: &'static str,
    term: f64,
    debt_to_income: f64,
    delinquencies: f64,
    utilisation: f64,
    inquiries: f64,
}

/// The generating model's log-odds of default: nonlinear in utilisation, age, income and
/// delinquencies.
fn log_odds(d: &Drivers) -> f64 {
    let (u, dq, inq, inc, a) = (d.utilisation, d.delinquencies, d.inquiries, d.income, d.age);
    -3.35 - 0.55 * d.quality + 1.6 * (u - 0.5).max(0.0) + 0.9 * u * u + 0.45 * dq.min(4.0) + 0.12 * inq.min(6.0)
        - 0.45 * (inc / 40_000.0).ln()
        + 0.0009 * (a - 45.0).powi(2)
        + 0.025 * (d.debt_to_income - 35.0).max(0.0)
        - 0.03 * d.employment_years.min(15.0)
        + match d.housing {
            "rent" => 0.25,
            "own" => -0.2,
            _ => 0.0,
        }
        + match d.purpose {
            "business" => 0.45,
            "debt_consolidation" => 0.2,
            "car" => -0.15,
            _ => 0.0,
        }
        + if d.term > 36.0 { 0.3 } else { 0.0 }
        + 0.5 * (dq.min(3.0) * (u - 0.4)).max(0.0)
}

/// Draws one application applied for between day `start` and `start + span`.
fn application(rng: &mut Rng, start: i32, span: i32) -> Application {
    let pii = identity(rng);
    // Latent creditworthiness drives most features, as in real books.
    let quality = rng.normal();
    let a = clamp(40.0 + 12.0 * rng.normal() + 3.0 * quality, 18.0, 85.0).round();
    let d_app = start + rng.below(span as u64) as i32;
    let d_birth = d_app - (a * 365.25) as i32 - rng.below(365) as i32;
    let e_years = clamp((a - 18.0) * rng.uniform() * 0.6 + 1.5 * quality, 0.0, 45.0).round();
    let inc = (10.55 + 0.35 * rng.normal() + 0.12 * quality + 0.008 * (a - 40.0))
        .exp()
        .round();
    let h = if a < 28.0 && rng.bernoulli(0.6) {
        "rent"
    } else {
        *rng.choose(&HOUSING)
    };
    let p = *rng.choose(&PURPOSE);
    let t = if rng.bernoulli(0.35) { 60.0 } else { 36.0 };
    let amt = ((8.8 + 0.6 * rng.normal() + 0.2 * (inc / 45_000.0).ln()).exp() / 100.0).round() * 100.0;
    let d = clamp(
        18.0 + 9.0 * rng.normal() - 3.0 * quality + 60.0 * amt / inc / t * 12.0,
        0.0,
        80.0,
    );
    let hist = clamp((a - 18.0) * (0.3 + 0.6 * rng.uniform()), 0.0, 60.0).round();
    let dq = poisson(rng, (0.35 - 0.25 * quality).exp() * 0.3);
    let u = clamp(0.35 - 0.18 * quality + 0.22 * rng.normal(), 0.0, 1.3);
    let inq = poisson(rng, (0.1 - 0.3 * quality).exp());
    let acc = (3.0 + hist / 3.0 + 2.0 * rng.uniform()).round();
    let z = log_odds(&Drivers {
        quality,
        age: a,
        employment_years: e_years,
        income: inc,
        housing: h,
        purpose: p,
        term: t,
        debt_to_income: d,
        delinquencies: dq,
        utilisation: u,
        inquiries: inq,
    });
    let pd = 1.0 / (1.0 + (-z).exp());
    let y = rng.bernoulli(pd);
    // Priced for risk: the rate a lender quotes reflects a noisy view of z.
    let r = clamp(7.5 + 2.2 * (z + 2.5) + 1.8 * rng.normal(), 3.0, 29.9);
    // Missing values and outliers, as in real books.
    let income = if rng.bernoulli(0.04) {
        f64::NAN
    } else if rng.bernoulli(0.004) {
        inc * 25.0
    } else {
        inc
    };
    let employment_years = if rng.bernoulli(0.06) { f64::NAN } else { e_years };
    let util_obs = if rng.bernoulli(0.02) {
        f64::NAN
    } else if rng.bernoulli(0.003) {
        u * 40.0
    } else {
        u
    };
    let debt_to_income = if rng.bernoulli(0.002) {
        999.0
    } else {
        (d * 100.0).round() / 100.0
    };
    Application {
        pii,
        date_of_birth: d_birth,
        application_date: d_app,
        age: a,
        income,
        employment_years,
        housing: h,
        purpose: p,
        loan_amount: amt,
        term_months: t,
        interest_rate: (r * 100.0).round() / 100.0,
        debt_to_income,
        credit_history_years: hist,
        delinquencies: dq,
        utilisation: if util_obs.is_nan() {
            f64::NAN
        } else {
            (util_obs * 10_000.0).round() / 10_000.0
        },
        inquiries_6m: inq,
        num_accounts: acc,
        default: y,
        true_pd: pd,
    }
}

/// Generates `rows` applications from `seed`. Same arguments, same data.
pub fn loans(rows: usize, seed: u64) -> LoanBook {
    let mut rng = Rng::derive(seed, "synth.loans");
    let start = days_from_civil(2021, 1, 1);
    let span = days_from_civil(2025, 1, 1) - start;
    let apps: Vec<Application> = (0..rows).map(|_| application(&mut rng, start, span)).collect();
    let id: Vec<Option<String>> = (0..rows).map(|i| Some(format!("A{:08}", i + 1))).collect();
    let text = |f: &dyn Fn(&Application) -> String| Column::Text(apps.iter().map(|a| Some(f(a))).collect());
    let number = |f: &dyn Fn(&Application) -> f64| Column::Number(apps.iter().map(f).collect());
    let date = |f: &dyn Fn(&Application) -> i32| Column::Date(apps.iter().map(|a| Some(f(a))).collect());
    let mut data = Frame::new();
    data.push("id", Column::Text(id.clone()));
    data.push("name", text(&|a| a.pii[0].clone()));
    data.push("national_id", text(&|a| a.pii[1].clone()));
    data.push("email", text(&|a| a.pii[2].clone()));
    data.push("phone", text(&|a| a.pii[3].clone()));
    data.push("date_of_birth", date(&|a| a.date_of_birth));
    data.push("postcode", text(&|a| a.pii[4].clone()));
    data.push("age", number(&|a| a.age));
    data.push("income", number(&|a| a.income));
    data.push("employment_years", number(&|a| a.employment_years));
    data.push("housing", text(&|a| a.housing.to_string()));
    data.push("purpose", text(&|a| a.purpose.to_string()));
    data.push("loan_amount", number(&|a| a.loan_amount));
    data.push("term_months", number(&|a| a.term_months));
    data.push("interest_rate", number(&|a| a.interest_rate));
    data.push("debt_to_income", number(&|a| a.debt_to_income));
    data.push("credit_history_years", number(&|a| a.credit_history_years));
    data.push("delinquencies", number(&|a| a.delinquencies));
    data.push("utilisation", number(&|a| a.utilisation));
    data.push("inquiries_6m", number(&|a| a.inquiries_6m));
    data.push("num_accounts", number(&|a| a.num_accounts));
    data.push("application_date", date(&|a| a.application_date));
    data.push(TARGET, number(&|a| if a.default { 1.0 } else { 0.0 }));

    let mut truth = Frame::new();
    truth.push("id", Column::Text(id));
    truth.push("true_pd", number(&|a| a.true_pd));
    let _ = format_date;
    LoanBook { data, truth }
}

/// Adds `k` credit-bureau attributes `bureau_01`.. to a book, as a wide book for selection and
/// binning at scale. Each is a noisy view of the row's true log-odds, in one of six shapes by
/// position: a linear score, a count with a mass of zeros, a U-shaped attribute, pure noise, a
/// score with a `-999` "no record" code on 5% of rows, and a near copy of the linear score five
/// places back (a correlated pair). Same book, `k` and seed, same columns.
pub fn add_bureau(book: &mut LoanBook, k: usize, seed: u64) {
    let pd = book.truth.number("true_pd").expect("truth has true_pd").to_vec();
    let rows = pd.len();
    let z: Vec<f64> = pd.iter().map(|p| (p / (1.0 - p)).ln()).collect();
    let mut cols: Vec<Vec<f64>> = Vec::with_capacity(k);
    for j in 0..k {
        let mut rng = Rng::derive(seed, &format!("synth.bureau.{j}"));
        let strength = 0.3 + 0.7 * rng.uniform();
        let col: Vec<f64> = (0..rows)
            .map(|i| {
                let s = strength * (z[i] + 2.5);
                let v = match j % 6 {
                    0 => 50.0 + 10.0 * s + 12.0 * rng.normal(),
                    1 => poisson(&mut rng, (0.6 * s - 0.5).exp().min(30.0)),
                    2 => (s + 0.9 * rng.normal()).abs() * 10.0 * if rng.bernoulli(0.5) { 1.0 } else { -1.0 },
                    3 => 100.0 + 15.0 * rng.normal(),
                    4 if rng.bernoulli(0.05) => -999.0,
                    4 => 300.0 + 40.0 * s + 60.0 * rng.normal(),
                    _ => match cols.get(j.wrapping_sub(5)) {
                        Some(base) => base[i] + 3.0 * rng.normal(),
                        None => 50.0 + 10.0 * s + 12.0 * rng.normal(),
                    },
                };
                (v * 100.0).round() / 100.0
            })
            .collect();
        cols.push(col);
    }
    // Keep the target last.
    let target = book.data.get(TARGET).cloned().expect("target");
    let mut data = Frame::new();
    for (n, c) in book.data.iter() {
        if n != TARGET {
            data.push(n, c.clone());
        }
    }
    for (j, c) in cols.into_iter().enumerate() {
        data.push(format!("bureau_{:02}", j + 1), Column::Number(c));
    }
    data.push(TARGET, target);
    book.data = data;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bureau_attributes_are_deterministic_and_informative() {
        let mut a = loans(4_000, 3);
        add_bureau(&mut a, 12, 3);
        let mut b = loans(4_000, 3);
        add_bureau(&mut b, 12, 3);
        assert!(a.data == b.data);
        assert_eq!(a.data.names().last().map(String::as_str), Some(TARGET));
        let y = a.data.number(TARGET).unwrap().to_vec();
        let auc = |name: &str| riskpipe_core::stats::auc(&y, a.data.number(name).unwrap());
        assert!(auc("bureau_01") > 0.6, "linear score");
        assert!((auc("bureau_04") - 0.5).abs() < 0.05, "noise");
        let special = a
            .data
            .number("bureau_05")
            .unwrap()
            .iter()
            .filter(|v| **v == -999.0)
            .count();
        assert!((100..300).contains(&special));
    }

    #[test]
    fn deterministic_and_plausible() {
        let a = loans(5_000, 1);
        let b = loans(5_000, 1);
        assert!(a.data == b.data, "same seed gave different data");
        let c = loans(5_000, 2);
        assert_ne!(a.data.get("income"), c.data.get("income"));
        let y = a.data.number(TARGET).unwrap();
        let rate = y.iter().sum::<f64>() / y.len() as f64;
        assert!((0.04..0.2).contains(&rate), "default rate {rate}");
        let inc = a.data.get("income").unwrap();
        assert!(inc.missing() > 100 && inc.missing() < 350);
        let pd = a.truth.number("true_pd").unwrap();
        assert!(pd.iter().all(|p| (0.0..=1.0).contains(p)));
    }
}
