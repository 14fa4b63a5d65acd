//! The loss-book generator: loans of three products with their PD drivers, a default flag, the
//! exposure at default and, for defaulted loans, what was recovered year by year, from a known
//! model, so that every loan's true PD, LGD and EAD are known.
//!
//! - Products: `mortgage` (a term loan secured on a home, LGD driven by the loan-to-value),
//!   `personal` (an unsecured term loan) and `card` (a revolving line with a limit).
//! - EAD: a term loan's outstanding principal after `months_on_book` of annuity repayments; a
//!   card's drawn balance plus a credit-conversion share of its undrawn limit (the true CCF, in
//!   [0, 1], falls with utilisation and rises with risk; the realised CCF of a defaulted card
//!   scatters around it).
//! - Recoveries: a defaulted loan cures (full recovery in the first year) with a probability
//!   that falls with risk; otherwise it recovers `(1 - severity)` of its EAD (the severity drawn
//!   around the loan's expected severity), 55 %, 30 % and 15 % of it in the three years after
//!   default (`recovery_y1..y3`, each received mid-year), and the rest is written off.
//! - `origination_pd`: the one-year PD the bank assigned when the loan was granted (today's true
//!   PD moved back by a random drift), for the IFRS 9 significant-increase test.
//! - Truth: `true_pd`, `true_lgd` (the expected economic LGD: one less the expected recoveries
//!   discounted at [`DISCOUNT_RATE`] to the default date, per unit of EAD), `true_ead`,
//!   `true_ccf` (cards) and `cured` (defaulted loans).

use riskpipe_core::{Column, Frame, Rng};

/// The default flag's column.
pub const DEFAULT_FLAG: &str = "default_flag";
/// The yearly discount rate at which `true_lgd` discounts recoveries (also `loss.discount_rate`'s
/// default).
pub const DISCOUNT_RATE: f64 = 0.05;
/// The share of a non-cured loan's recoveries received in years 1, 2 and 3 after default.
const RECOVERY_PROFILE: [f64; 3] = [0.55, 0.30, 0.15];

const PRODUCTS: [&str; 3] = ["mortgage", "personal", "card"];
const REGIONS: [&str; 6] = ["north", "south", "east", "west", "central", "islands"];
const FIRST: [&str; 12] = [
    "Ada", "Bram", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivo", "Jade", "Kofi", "Lena",
];
const LAST: [&str; 12] = [
    "Abbott", "Bakr", "Cole", "Diaz", "Evans", "Fischer", "Gray", "Hughes", "Iqbal", "Jensen", "Kato", "Lund",
];

/// A generated loss book.
#[derive(Debug, Clone)]
pub struct LossBook {
    /// The loans as the bank sees them (see the module documentation for the columns).
    pub data: Frame,
    /// `loan_id`, `true_pd`, `true_lgd`, `true_ead`, `true_ccf` and `cured`: the generating
    /// model's values and a defaulted loan's cure, never read by a stage.
    pub truth: Frame,
}

/// One generated loan.
#[derive(Default)]
struct Loan {
    name: String,
    email: String,
    product: &'static str,
    region: &'static str,
    income: f64,
    bureau_score: f64,
    debt_to_income: f64,
    ltv: f64,
    interest_rate: f64,
    term_months: f64,
    months_on_book: f64,
    principal: f64,
    balance: f64,
    limit: f64,
    drawn: f64,
    days_past_due: f64,
    default: bool,
    ead: f64,
    recovery: [f64; 3],
    cured: bool,
    true_pd: f64,
    true_lgd: f64,
    true_ead: f64,
    true_ccf: f64,
}

fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The outstanding principal of an annuity loan of `principal` at yearly `rate` over `term`
/// months, after `paid` monthly payments.
fn outstanding(principal: f64, rate: f64, term: f64, paid: f64) -> f64 {
    let r = rate / 12.0;
    if r <= 0.0 {
        return principal * (1.0 - paid / term).max(0.0);
    }
    let growth = |n: f64| (1.0 + r).powf(n);
    (principal * (growth(term) - growth(paid)) / (growth(term) - 1.0)).max(0.0)
}

/// A draw in (0, 1) around `mean` (a logit-normal located at `mean`'s log-odds).
fn unit(rng: &mut Rng, mean: f64, spread: f64) -> f64 {
    let m = mean.clamp(1e-3, 1.0 - 1e-3);
    logistic((m / (1.0 - m)).ln() + spread * rng.normal())
}

/// A draw in [0, 1] with mean exactly `mean`: uniform on the widest interval centred on it.
fn around(rng: &mut Rng, mean: f64) -> f64 {
    let w = mean.min(1.0 - mean);
    mean + (2.0 * rng.uniform() - 1.0) * w
}

fn loan(rng: &mut Rng) -> Loan {
    let mut l = Loan {
        name: format!("{} {}", rng.choose(&FIRST), rng.choose(&LAST)),
        ..Loan::default()
    };
    l.email = format!(
        "{}{}@example.org",
        l.name.to_lowercase().replace(' ', "."),
        rng.below(1000)
    );
    let u = rng.uniform();
    l.product = PRODUCTS[usize::from(u >= 0.35) + usize::from(u >= 0.70)];
    l.region = *rng.choose(&REGIONS);
    l.income = round2((10.6 + 0.45 * rng.normal()).exp());
    l.bureau_score = (650.0 + 70.0 * rng.normal()).clamp(300.0, 850.0).round();
    l.debt_to_income = ((0.28 + 0.12 * rng.normal()).clamp(0.0, 0.9) * 1000.0).round() / 1000.0;
    let regional = [0.0, 0.15, -0.1, 0.05, -0.05, 0.3][REGIONS.iter().position(|r| *r == l.region).unwrap_or(0)];
    // The risk score: log-odds of default in the next year before the product's level.
    let risk = -0.012 * (l.bureau_score - 650.0) + 3.0 * (l.debt_to_income - 0.28) - 0.4 * (l.income / 40_000.0).ln()
        + regional;
    match l.product {
        "mortgage" => {
            l.term_months = *rng.choose(&[240.0, 300.0, 360.0]);
            l.principal = round2(l.income * (2.5 + 1.5 * rng.uniform()));
            l.ltv = ((0.55 + 0.2 * rng.normal()).clamp(0.2, 1.1) * 1000.0).round() / 1000.0;
            l.interest_rate =
                ((0.035 + 0.004 * risk.max(-2.0) + 0.004 * rng.normal()).max(0.01) * 10_000.0).round() / 10_000.0;
        }
        "personal" => {
            l.term_months = *rng.choose(&[24.0, 36.0, 48.0, 60.0]);
            l.principal = round2((l.income * (0.1 + 0.3 * rng.uniform())).min(50_000.0));
            l.interest_rate =
                ((0.08 + 0.015 * risk.max(-2.0) + 0.01 * rng.normal()).max(0.02) * 10_000.0).round() / 10_000.0;
        }
        _ => {
            l.limit = (l.income * (0.05 + 0.2 * rng.uniform()) / 100.0).round() * 100.0;
            let utilisation = unit(rng, logistic(-0.5 + 0.8 * risk), 0.8);
            l.drawn = round2(l.limit * utilisation);
            l.interest_rate = ((0.18 + 0.02 * rng.normal()).max(0.05) * 10_000.0).round() / 10_000.0;
        }
    }
    let level = match l.product {
        "mortgage" => -4.6 + 1.5 * (l.ltv - 0.55),
        "personal" => -3.4,
        _ => -3.1 + 1.2 * (l.drawn / l.limit.max(1.0) - 0.4),
    };
    l.true_pd = logistic(level + risk);
    if l.term_months > 0.0 {
        l.months_on_book = rng.below(l.term_months as u64 - 6) as f64 + 1.0;
        l.balance = round2(outstanding(
            l.principal,
            l.interest_rate,
            l.term_months,
            l.months_on_book,
        ));
        l.true_ead = l.balance;
    } else {
        l.months_on_book = rng.below(120) as f64 + 1.0;
        let undrawn = l.limit - l.drawn;
        l.true_ccf = logistic(0.6 - 2.5 * (l.drawn / l.limit.max(1.0)) + 0.5 * risk);
        l.true_ead = l.drawn + l.true_ccf * undrawn;
    }
    l.default = rng.bernoulli(l.true_pd);
    // Days past due: a defaulted loan is 90+; a performing one is mostly current.
    l.days_past_due = if l.default {
        90.0 + rng.below(90) as f64
    } else if rng.bernoulli((3.0 * l.true_pd).min(0.3)) {
        *rng.choose(&[15.0, 30.0, 45.0, 60.0])
    } else {
        0.0
    };
    // LGD: the cure probability and the expected severity of a non-cured default.
    let cure = logistic(
        match l.product {
            "mortgage" => 0.4 - 2.0 * (l.ltv - 0.55),
            "personal" => -1.2,
            _ => -1.6,
        } - 0.4 * risk,
    );
    let severity = match l.product {
        "mortgage" => logistic(-2.0 + 4.0 * (l.ltv - 0.55)),
        "personal" => logistic(0.4 + 0.3 * risk),
        _ => logistic(1.3 + 0.2 * risk),
    };
    let discount: f64 = RECOVERY_PROFILE
        .iter()
        .enumerate()
        .map(|(y, s)| s / (1.0 + DISCOUNT_RATE).powf(y as f64 + 0.5))
        .sum();
    let cure_discount = 1.0 / (1.0 + DISCOUNT_RATE).powf(0.5);
    // Expected discounted recovery per unit of EAD: a cure recovers everything mid-year one;
    // otherwise (1 - severity) spread over the profile.
    l.true_lgd = 1.0 - (cure * cure_discount + (1.0 - cure) * (1.0 - severity) * discount);
    if l.default {
        l.ead = if l.product == "card" {
            let ccf = around(rng, l.true_ccf);
            round2(l.drawn + ccf * (l.limit - l.drawn))
        } else {
            l.balance
        };
        l.cured = rng.bernoulli(cure);
        if l.cured {
            l.recovery = [l.ead, 0.0, 0.0];
        } else {
            let recovered = 1.0 - around(rng, severity);
            for (r, s) in l.recovery.iter_mut().zip(RECOVERY_PROFILE) {
                *r = round2(l.ead * recovered * s);
            }
        }
    }
    l
}

/// The one-year PD each loan was given at origination: its true PD now, moved back by a
/// lognormal drift (median 0.9 of today's, so most loans have deteriorated a little and a few
/// much, which the IFRS 9 significant-increase test picks up). Drawn from a stream of its own so
/// the rest of the book does not depend on it.
fn origination_pds(loans: &[Loan], seed: u64) -> Vec<f64> {
    let mut rng = Rng::derive(seed, "synth.loss.origination");
    loans
        .iter()
        .map(|l| {
            let pd = l.true_pd * (-0.1 + 0.4 * rng.normal()).exp();
            (pd.clamp(1e-4, 0.999) * 1e5).round() / 1e5
        })
        .collect()
}

/// Generates `rows` loans from `seed`. Same arguments, same data.
pub fn loss(rows: usize, seed: u64) -> LossBook {
    let mut rng = Rng::derive(seed, "synth.loss");
    let loans: Vec<Loan> = (0..rows).map(|_| loan(&mut rng)).collect();
    let id = Column::Text((0..rows).map(|i| Some(format!("L{:08}", i + 1))).collect());
    let text = |f: &dyn Fn(&Loan) -> String| Column::Text(loans.iter().map(|l| Some(f(l))).collect());
    let number = |f: &dyn Fn(&Loan) -> f64| Column::Number(loans.iter().map(f).collect());
    // Values that do not apply to a row are missing (NaN), not zero.
    let when = |ok: &dyn Fn(&Loan) -> bool, f: &dyn Fn(&Loan) -> f64| {
        Column::Number(loans.iter().map(|l| if ok(l) { f(l) } else { f64::NAN }).collect())
    };
    let term = |l: &Loan| l.term_months > 0.0;
    let card = |l: &Loan| l.term_months == 0.0;
    let mortgage = |l: &Loan| l.product == "mortgage";
    let defaulted = |l: &Loan| l.default;
    let mut data = Frame::new();
    data.push("loan_id", id.clone());
    data.push("customer_name", text(&|l| l.name.clone()));
    data.push("email", text(&|l| l.email.clone()));
    data.push("product", text(&|l| l.product.to_string()));
    data.push("region", text(&|l| l.region.to_string()));
    data.push("income", number(&|l| l.income));
    data.push("bureau_score", number(&|l| l.bureau_score));
    data.push("debt_to_income", number(&|l| l.debt_to_income));
    data.push("ltv", when(&mortgage, &|l| l.ltv));
    data.push("interest_rate", number(&|l| l.interest_rate));
    data.push("term_months", when(&term, &|l| l.term_months));
    data.push("months_on_book", number(&|l| l.months_on_book));
    data.push("principal", when(&term, &|l| l.principal));
    data.push("balance", when(&term, &|l| l.balance));
    data.push("credit_limit", when(&card, &|l| l.limit));
    data.push("drawn", when(&card, &|l| l.drawn));
    data.push("days_past_due", number(&|l| l.days_past_due));
    data.push("origination_pd", Column::Number(origination_pds(&loans, seed)));
    data.push(DEFAULT_FLAG, number(&|l| f64::from(u8::from(l.default))));
    data.push("ead", when(&defaulted, &|l| l.ead));
    for (y, name) in ["recovery_y1", "recovery_y2", "recovery_y3"].iter().enumerate() {
        data.push(*name, when(&defaulted, &|l| l.recovery[y]));
    }
    let mut truth = Frame::new();
    truth.push("loan_id", id);
    truth.push("true_pd", number(&|l| l.true_pd));
    truth.push("true_lgd", number(&|l| l.true_lgd));
    truth.push("true_ead", number(&|l| l.true_ead));
    truth.push("true_ccf", when(&card, &|l| l.true_ccf));
    // Whether a defaulted loan cured: an outcome, visible in the data only through its
    // recoveries (all of the EAD in year 1).
    truth.push("cured", when(&defaulted, &|l| f64::from(u8::from(l.cured))));
    LossBook { data, truth }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_book_is_consistent_with_its_truth() {
        let b = loss(20_000, 3);
        let (d, t) = (&b.data, &b.truth);
        assert_eq!(d.rows(), 20_000);
        let flag = d.number(DEFAULT_FLAG).unwrap();
        let pd = t.number("true_pd").unwrap();
        let rate = flag.iter().sum::<f64>() / 20_000.0;
        let mean_pd = pd.iter().sum::<f64>() / 20_000.0;
        assert!((0.02..0.12).contains(&rate), "default rate {rate}");
        assert!((rate - mean_pd).abs() < 0.01, "{rate} vs {mean_pd}");
        let ead = d.number("ead").unwrap();
        let true_ead = t.number("true_ead").unwrap();
        let lgd = t.number("true_lgd").unwrap();
        let product = d.get("product").unwrap();
        let Column::Text(product) = product else { panic!() };
        let recs: Vec<&[f64]> = ["recovery_y1", "recovery_y2", "recovery_y3"]
            .iter()
            .map(|c| d.number(c).unwrap())
            .collect();
        let (mut realised, mut expected, mut n) = (0.0, 0.0, 0.0);
        for i in 0..20_000 {
            assert!((0.0..=1.0).contains(&lgd[i]), "row {i}: lgd {}", lgd[i]);
            assert!(true_ead[i] >= 0.0);
            if flag[i] == 1.0 {
                assert!(ead[i] >= 0.0 && recs.iter().all(|r| r[i] >= 0.0));
                if product[i].as_deref() != Some("card") {
                    assert_eq!(
                        ead[i],
                        (true_ead[i] * 100.0).round() / 100.0,
                        "a term loan's EAD is its balance"
                    );
                }
                if ead[i] > 0.0 {
                    let pv: f64 = recs
                        .iter()
                        .enumerate()
                        .map(|(y, r)| r[i] / (1.0 + DISCOUNT_RATE).powf(y as f64 + 0.5))
                        .sum();
                    realised += 1.0 - pv / ead[i];
                    expected += lgd[i];
                    n += 1.0;
                }
            } else {
                assert!(ead[i].is_nan() && recs[0][i].is_nan());
            }
        }
        // The realised discounted LGD of the defaulted loans averages the true LGD.
        assert!(n > 400.0);
        assert!(
            (realised / n - expected / n).abs() < 0.03,
            "{} vs {}",
            realised / n,
            expected / n
        );
        // Same seed, same book; another seed, another.
        let again = loss(500, 3);
        assert_eq!(format!("{:?}", again.data), format!("{:?}", loss(500, 3).data));
        assert_ne!(format!("{:?}", again.data), format!("{:?}", loss(500, 4).data));
    }
}
