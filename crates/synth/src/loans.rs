//! The loan-book generator.

use riskpipe_core::frame::{days_from_civil, format_date};
use riskpipe_core::{Column, Frame, Rng};

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

fn poisson(rng: &mut Rng, lambda: f64) -> f64 {
    // Knuth's method; lambda is small here.
    let l = (-lambda).exp();
    let (mut k, mut p) = (0.0, 1.0);
    loop {
        p *= rng.uniform();
        if p <= l {
            return k;
        }
        k += 1.0;
    }
}

/// Generates `rows` applications from `seed`. Same arguments, same data.
pub fn loans(rows: usize, seed: u64) -> LoanBook {
    let mut rng = Rng::derive(seed, "synth.loans");
    let mut id = Vec::with_capacity(rows);
    let mut name = Vec::with_capacity(rows);
    let mut national_id = Vec::with_capacity(rows);
    let mut email = Vec::with_capacity(rows);
    let mut phone = Vec::with_capacity(rows);
    let mut dob = Vec::with_capacity(rows);
    let mut postcode = Vec::with_capacity(rows);
    let mut age = Vec::with_capacity(rows);
    let mut income = Vec::with_capacity(rows);
    let mut emp = Vec::with_capacity(rows);
    let mut housing = Vec::with_capacity(rows);
    let mut purpose = Vec::with_capacity(rows);
    let mut amount = Vec::with_capacity(rows);
    let mut term = Vec::with_capacity(rows);
    let mut rate = Vec::with_capacity(rows);
    let mut dti = Vec::with_capacity(rows);
    let mut history = Vec::with_capacity(rows);
    let mut delinq = Vec::with_capacity(rows);
    let mut util = Vec::with_capacity(rows);
    let mut inquiries = Vec::with_capacity(rows);
    let mut accounts = Vec::with_capacity(rows);
    let mut app_date = Vec::with_capacity(rows);
    let mut flag = Vec::with_capacity(rows);
    let mut true_pd = Vec::with_capacity(rows);

    let start = days_from_civil(2021, 1, 1);
    let span = days_from_civil(2025, 1, 1) - start;
    for i in 0..rows {
        let first = *rng.choose(&FIRST);
        let last = *rng.choose(&LAST);
        id.push(Some(format!("A{:08}", i + 1)));
        name.push(Some(format!("{first} {last}")));
        national_id.push(Some(format!(
            "{:03}-{:02}-{:04}",
            100 + rng.below(800),
            10 + rng.below(90),
            1000 + rng.below(9000)
        )));
        email.push(Some(format!(
            "{}.{}{}@example.{}",
            first.to_lowercase(),
            last.to_lowercase(),
            rng.below(1000),
            if rng.bernoulli(0.5) { "com" } else { "org" }
        )));
        phone.push(Some(format!("+44 7{:03} {:06}", rng.below(1000), rng.below(1_000_000))));
        postcode.push(Some(format!(
            "{}{} {}{}{}",
            rng.choose(&AREAS),
            1 + rng.below(20),
            rng.below(10),
            (b'A' + rng.below(26) as u8) as char,
            (b'A' + rng.below(26) as u8) as char
        )));

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
        let dq = poisson(&mut rng, (0.35 - 0.25 * quality).exp() * 0.3);
        let u = clamp(0.35 - 0.18 * quality + 0.22 * rng.normal(), 0.0, 1.3);
        let inq = poisson(&mut rng, (0.1 - 0.3 * quality).exp());
        let acc = (3.0 + hist / 3.0 + 2.0 * rng.uniform()).round();

        // The generating model: nonlinear in utilisation, age, income and delinquencies.
        let z =
            -3.35 - 0.55 * quality + 1.6 * (u - 0.5).max(0.0) + 0.9 * u * u + 0.45 * dq.min(4.0) + 0.12 * inq.min(6.0)
                - 0.45 * (inc / 40_000.0).ln()
                + 0.0009 * (a - 45.0).powi(2)
                + 0.025 * (d - 35.0).max(0.0)
                - 0.03 * e_years.min(15.0)
                + match h {
                    "rent" => 0.25,
                    "own" => -0.2,
                    _ => 0.0,
                }
                + match p {
                    "business" => 0.45,
                    "debt_consolidation" => 0.2,
                    "car" => -0.15,
                    _ => 0.0,
                }
                + if t > 36.0 { 0.3 } else { 0.0 }
                + 0.5 * (dq.min(3.0) * (u - 0.4)).max(0.0);
        let pd = 1.0 / (1.0 + (-z).exp());
        let y = rng.bernoulli(pd);

        // Priced for risk: the rate a lender quotes reflects a noisy view of z.
        let r = clamp(7.5 + 2.2 * (z + 2.5) + 1.8 * rng.normal(), 3.0, 29.9);

        // Missing values and outliers, as in real books.
        let inc_obs = if rng.bernoulli(0.04) {
            f64::NAN
        } else if rng.bernoulli(0.004) {
            inc * 25.0
        } else {
            inc
        };
        let emp_obs = if rng.bernoulli(0.06) { f64::NAN } else { e_years };
        let util_obs = if rng.bernoulli(0.02) {
            f64::NAN
        } else if rng.bernoulli(0.003) {
            u * 40.0
        } else {
            u
        };
        let dti_obs = if rng.bernoulli(0.002) {
            999.0
        } else {
            (d * 100.0).round() / 100.0
        };

        age.push(a);
        dob.push(Some(d_birth));
        income.push(inc_obs);
        emp.push(emp_obs);
        housing.push(Some(h.to_string()));
        purpose.push(Some(p.to_string()));
        amount.push(amt);
        term.push(t);
        rate.push((r * 100.0).round() / 100.0);
        dti.push(dti_obs);
        history.push(hist);
        delinq.push(dq);
        util.push(if util_obs.is_nan() {
            f64::NAN
        } else {
            (util_obs * 10_000.0).round() / 10_000.0
        });
        inquiries.push(inq);
        accounts.push(acc);
        app_date.push(Some(d_app));
        flag.push(if y { 1.0 } else { 0.0 });
        true_pd.push(pd);
    }

    let mut data = Frame::new();
    data.push("id", Column::Text(id.clone()));
    data.push("name", Column::Text(name));
    data.push("national_id", Column::Text(national_id));
    data.push("email", Column::Text(email));
    data.push("phone", Column::Text(phone));
    data.push("date_of_birth", Column::Date(dob));
    data.push("postcode", Column::Text(postcode));
    data.push("age", Column::Number(age));
    data.push("income", Column::Number(income));
    data.push("employment_years", Column::Number(emp));
    data.push("housing", Column::Text(housing));
    data.push("purpose", Column::Text(purpose));
    data.push("loan_amount", Column::Number(amount));
    data.push("term_months", Column::Number(term));
    data.push("interest_rate", Column::Number(rate));
    data.push("debt_to_income", Column::Number(dti));
    data.push("credit_history_years", Column::Number(history));
    data.push("delinquencies", Column::Number(delinq));
    data.push("utilisation", Column::Number(util));
    data.push("inquiries_6m", Column::Number(inquiries));
    data.push("num_accounts", Column::Number(accounts));
    data.push("application_date", Column::Date(app_date));
    data.push(TARGET, Column::Number(flag));

    let mut truth = Frame::new();
    truth.push("id", Column::Text(id));
    truth.push("true_pd", Column::Number(true_pd));
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
