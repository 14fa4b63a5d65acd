//! Personal data found by content: what the values of a column are, whatever it is called.
//!
//! Each text or date column is sampled ([`SAMPLE`] values at most, evenly spaced over its
//! non-missing values, so the same column gives the same findings) and every sampled value is
//! checked against the kinds below. A column whose values are mostly of one kind (at least
//! [`WHOLE_SHARE`] of the sample) has that finding; a free-text column (values of several words)
//! has a finding for each kind found inside its values in at least [`TEXT_SHARE`] of them (and
//! two values). Checks go beyond the shape of a value where a checksum or a range exists, so a
//! look-alike is not a finding:
//! - email: `local@domain.tld`;
//! - phone: 10 to 15 digits with a leading 0 or phone separators, or 8 to 15 after `+` (a
//!   16-digit number is not);
//! - card number: 13 to 19 digits (spaces or dashes between) passing the Luhn check;
//! - IBAN: country letters, 2 check digits and 11 to 30 letters or digits, passing mod-97;
//! - national id: a declared format (`privacy.national_id_formats`; `9` a digit, `A` a letter,
//!   anything else itself), by default the US social security number `999-99-9999` and the UK
//!   national insurance number `AA999999A`;
//! - date of birth: dates from 1900 to 2010 spread over at least 15 years (an event date
//!   column spans a few years) on every day of the month (not dates kept to the month);
//! - postcode: UK (`SW1A 1AA`), Canadian (`K1A 0B1`), Dutch (`1012 AB`) or US ZIP+4 (`12345-6789`);
//! - person name: two to four capitalised words, one of them a common given name or surname.

use serde::{Deserialize, Serialize};

use riskpipe_core::{Column, frame::parse_date};

/// Values sampled per column at most.
pub const SAMPLE: usize = 10_000;
/// Share of a column's sampled values of one kind that makes a finding.
pub const WHOLE_SHARE: f64 = 0.5;
/// Share of a free-text column's sampled values holding a kind that makes a finding.
pub const TEXT_SHARE: f64 = 0.01;

/// The national id formats checked when none are declared.
pub const DEFAULT_ID_FORMATS: [&str; 2] = ["999-99-9999", "AA999999A"];

/// A kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// E-mail address.
    Email,
    /// Phone number.
    Phone,
    /// Payment card number.
    CardNumber,
    /// International bank account number.
    Iban,
    /// National id in a declared format.
    NationalId,
    /// Date of birth.
    DateOfBirth,
    /// Postcode.
    Postcode,
    /// Person's name.
    PersonName,
}

impl PiiKind {
    /// The kind in words.
    pub fn describe(self) -> &'static str {
        match self {
            PiiKind::Email => "e-mail addresses",
            PiiKind::Phone => "phone numbers",
            PiiKind::CardNumber => "card numbers (Luhn check passes)",
            PiiKind::Iban => "IBANs (mod-97 check passes)",
            PiiKind::NationalId => "national ids",
            PiiKind::DateOfBirth => "dates of birth",
            PiiKind::Postcode => "postcodes",
            PiiKind::PersonName => "person names",
        }
    }
}

/// What a column's values hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The kind.
    pub kind: PiiKind,
    /// Share of the sampled values that hold it.
    pub share: f64,
    /// Values sampled.
    pub sampled: usize,
    /// Found inside free text rather than as the whole value.
    pub in_text: bool,
}

impl Finding {
    /// `e-mail addresses in 100.0 % of 1,000 sampled values`.
    pub fn describe(&self) -> String {
        format!(
            "{}{} in {:.1} % of {} sampled values",
            self.kind.describe(),
            if self.in_text { " inside free text" } else { "" },
            100.0 * self.share,
            self.sampled
        )
    }
}

/// The findings of one column; `id_formats` are the national id formats (empty: the defaults).
pub fn detect(col: &Column, id_formats: &[String]) -> Vec<Finding> {
    let defaults: Vec<String> = DEFAULT_ID_FORMATS.iter().map(|s| s.to_string()).collect();
    let formats = if id_formats.is_empty() { &defaults } else { id_formats };
    match col {
        Column::Text(v) => {
            let sample = sample(v.iter().flatten().map(String::as_str));
            text_findings(&sample, formats)
        }
        Column::Date(v) => {
            let sample = sample(v.iter().flatten().copied());
            birth_dates(&sample).into_iter().collect()
        }
        Column::Number(_) => Vec::new(),
    }
}

/// At most [`SAMPLE`] items, evenly spaced.
fn sample<T, I: Iterator<Item = T> + Clone>(items: I) -> Vec<T> {
    let n = items.clone().count();
    let step = n.div_ceil(SAMPLE).max(1);
    items.step_by(step).collect()
}

fn text_findings(sample: &[&str], formats: &[String]) -> Vec<Finding> {
    if sample.is_empty() {
        return Vec::new();
    }
    let n = sample.len();
    let finding = |kind: PiiKind, hits: usize, in_text: bool| Finding {
        kind,
        share: hits as f64 / n as f64,
        sampled: n,
        in_text,
    };
    let mut out = Vec::new();
    let whole: [(PiiKind, &dyn Fn(&str) -> bool); 7] = [
        (PiiKind::Email, &is_email),
        (PiiKind::CardNumber, &is_card_number),
        (PiiKind::Iban, &is_iban),
        (PiiKind::Phone, &is_phone),
        (PiiKind::NationalId, &|s| {
            formats.iter().any(|f| matches_format(s.trim(), f))
        }),
        (PiiKind::Postcode, &is_postcode),
        (PiiKind::PersonName, &is_person_name),
    ];
    for (kind, check) in whole {
        let hits = sample.iter().filter(|s| check(s)).count();
        if hits as f64 >= WHOLE_SHARE * n as f64 {
            out.push(finding(kind, hits, false));
        }
    }
    let dates: Vec<i32> = sample.iter().filter_map(|s| parse_date(s.trim())).collect();
    if dates.len() as f64 >= WHOLE_SHARE * n as f64 {
        out.extend(birth_dates(&dates).map(|f| Finding { sampled: n, ..f }));
    }
    // Free text: several words a value; the kinds found inside it.
    let words = sample.iter().map(|s| s.split_whitespace().count()).sum::<usize>() as f64 / n as f64;
    if out.is_empty() && words >= 4.0 {
        let inside: [(PiiKind, &dyn Fn(&str) -> bool); 5] = [
            (PiiKind::Email, &|s| tokens(s).any(is_email)),
            (PiiKind::CardNumber, &|s| {
                digit_runs(s).iter().any(|r| is_card_number(r))
            }),
            (PiiKind::Iban, &|s| iban_runs(s).iter().any(|r| is_iban(r))),
            (PiiKind::Phone, &|s| digit_runs(s).iter().any(|r| is_phone(r))),
            (PiiKind::NationalId, &|s| {
                tokens(s).any(|t| formats.iter().any(|f| matches_format(t, f)))
            }),
        ];
        for (kind, check) in inside {
            let hits = sample.iter().filter(|s| check(s)).count();
            if hits >= 2 && hits as f64 >= TEXT_SHARE * n as f64 {
                out.push(finding(kind, hits, true));
            }
        }
    }
    out
}

/// Words with the punctuation around them trimmed.
fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split_whitespace()
        .map(|t| t.trim_matches(|c: char| ",;:()[]<>\"'".contains(c) || c == '.'))
}

/// Runs of digits and the separators a card or phone number is written with.
fn digit_runs(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars().chain(std::iter::once('x')) {
        if c.is_ascii_digit() || (!cur.is_empty() && " -+().".contains(c)) || (cur.is_empty() && c == '+') {
            cur.push(c);
        } else {
            let t = cur.trim_end_matches(|c: char| !c.is_ascii_digit()).to_string();
            if t.chars().filter(char::is_ascii_digit).count() >= 8 {
                out.push(t);
            }
            cur.clear();
        }
    }
    out
}

/// Runs of letters, digits and single spaces that start like an IBAN.
fn iban_runs(s: &str) -> Vec<String> {
    let words: Vec<&str> = tokens(s).collect();
    let mut out = Vec::new();
    for i in 0..words.len() {
        let w = words[i];
        if w.len() >= 4 && w.as_bytes()[..2].iter().all(u8::is_ascii_uppercase) {
            let mut run = String::new();
            for x in &words[i..] {
                if !x.chars().all(|c| c.is_ascii_alphanumeric()) || run.len() > 34 {
                    break;
                }
                run.push_str(x);
                out.push(run.clone());
            }
        }
    }
    out
}

fn is_email(s: &str) -> bool {
    let s = s.trim();
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let ok = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    !local.is_empty()
        && local.chars().all(ok)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
        && domain
            .rsplit('.')
            .next()
            .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()))
}

/// 13 to 19 digits, spaces or dashes between, passing the Luhn check.
pub fn is_card_number(s: &str) -> bool {
    let s = s.trim();
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-') {
        return false;
    }
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| match (i % 2, d * 2) {
            (1, x) if x > 9 => x - 9,
            (1, x) => x,
            _ => *d,
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Country letters, 2 check digits, 11 to 30 letters or digits (spaces allowed), mod-97 = 1.
pub fn is_iban(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| *c != ' ').collect();
    let b = compact.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    let mut rem = 0u32;
    for &c in b[4..].iter().chain(&b[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// 10 to 15 digits with a leading 0 or phone separators, or 8 to 15 after `+`.
fn is_phone(s: &str) -> bool {
    let s = s.trim();
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        return false;
    }
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let plus = s.starts_with('+') && s[1..].chars().all(|c| c != '+');
    let written = s.contains(['(', '-', ' ', '.']);
    let enough = if plus { 8..=15 } else { 10..=15 };
    enough.contains(&digits) && (plus || s.starts_with('0') || written) && !is_card_number(s)
}

/// `s` in `format`: `9` a digit, `A` an upper-case letter, anything else itself.
fn matches_format(s: &str, format: &str) -> bool {
    s.len() == format.len()
        && s.bytes().zip(format.bytes()).all(|(c, f)| match f {
            b'9' => c.is_ascii_digit(),
            b'A' => c.is_ascii_uppercase(),
            _ => c == f,
        })
}

fn is_postcode(s: &str) -> bool {
    let s = s.trim();
    const FORMATS: [&str; 10] = [
        "A9 9AA",
        "A99 9AA",
        "AA9 9AA",
        "AA99 9AA",
        "A9A 9AA",
        "AA9A 9AA",
        "A9A 9A9",
        "9999 AA",
        "99999-9999",
        "9999AA",
    ];
    FORMATS.iter().any(|f| matches_format(s, f))
}

/// Two to four capitalised words, one of them a common given name or surname.
fn is_person_name(s: &str) -> bool {
    let words: Vec<&str> = s.split_whitespace().collect();
    (2..=4).contains(&words.len())
        && words.iter().all(|w| {
            let mut c = w.chars();
            c.next().is_some_and(|f| f.is_uppercase()) && c.all(|x| x.is_alphabetic() || "'-.".contains(x))
        })
        && words.iter().any(|w| {
            let w = w.trim_end_matches('.').to_lowercase();
            GIVEN.binary_search(&w.as_str()).is_ok() || SURNAMES.binary_search(&w.as_str()).is_ok()
        })
}

/// A date column of birth dates: most values from 1900 to 2010, spread over 15 years or more.
fn birth_dates(days: &[i32]) -> Option<Finding> {
    if days.is_empty() {
        return None;
    }
    let (lo, hi) = (
        riskpipe_core::frame::days_from_civil(1900, 1, 1),
        riskpipe_core::frame::days_from_civil(2010, 12, 31),
    );
    let inside: Vec<i32> = days.iter().copied().filter(|d| (lo..=hi).contains(d)).collect();
    let mut sorted = inside.clone();
    sorted.sort_unstable();
    let spread_years = match (sorted.get(sorted.len() / 10), sorted.get(sorted.len() * 9 / 10)) {
        (Some(a), Some(b)) => f64::from(b - a) / 365.25,
        _ => 0.0,
    };
    let share = inside.len() as f64 / days.len() as f64;
    // Dates kept to the month (an account opened in March 2003, stored as its 1st) are not
    // birth dates, which fall on every day of the month.
    let firsts = inside
        .iter()
        .filter(|d| riskpipe_core::frame::civil_from_days(**d).2 == 1)
        .count() as f64
        / inside.len().max(1) as f64;
    (share >= WHOLE_SHARE && spread_years >= 15.0 && firsts < 0.2).then_some(Finding {
        kind: PiiKind::DateOfBirth,
        share,
        sampled: days.len(),
        in_text: false,
    })
}

/// Common given names, lower case, sorted.
const GIVEN: [&str; 80] = [
    "adam",
    "ahmed",
    "alice",
    "amanda",
    "amy",
    "andrew",
    "ann",
    "anna",
    "anne",
    "anthony",
    "barbara",
    "ben",
    "brian",
    "carlos",
    "charles",
    "chris",
    "daniel",
    "david",
    "deborah",
    "donald",
    "elizabeth",
    "emily",
    "emma",
    "eric",
    "fatima",
    "george",
    "hannah",
    "james",
    "jan",
    "jane",
    "jason",
    "jennifer",
    "jessica",
    "john",
    "jose",
    "joseph",
    "joshua",
    "julia",
    "karen",
    "kevin",
    "laura",
    "leo",
    "li",
    "liam",
    "linda",
    "lisa",
    "lucas",
    "maria",
    "mark",
    "mary",
    "matthew",
    "mia",
    "michael",
    "michelle",
    "mohammed",
    "nancy",
    "noah",
    "olivia",
    "omar",
    "patricia",
    "paul",
    "peter",
    "priya",
    "rachel",
    "raj",
    "richard",
    "robert",
    "ryan",
    "sandra",
    "sarah",
    "sophie",
    "stephen",
    "steven",
    "susan",
    "thomas",
    "timothy",
    "wei",
    "william",
    "yuki",
    "zoe",
];

/// Common surnames, lower case, sorted.
const SURNAMES: [&str; 60] = [
    "anderson",
    "berg",
    "brown",
    "chen",
    "clark",
    "davies",
    "davis",
    "dubois",
    "evans",
    "garcia",
    "gonzalez",
    "green",
    "hall",
    "harris",
    "hernandez",
    "ivanov",
    "jackson",
    "jansen",
    "johnson",
    "jones",
    "khan",
    "kim",
    "king",
    "kowalski",
    "lee",
    "lewis",
    "lopez",
    "martin",
    "martinez",
    "miller",
    "moore",
    "muller",
    "nguyen",
    "novak",
    "patel",
    "perez",
    "roberts",
    "robinson",
    "rodriguez",
    "rossi",
    "sanchez",
    "santos",
    "schmidt",
    "scott",
    "silva",
    "singh",
    "smith",
    "tanaka",
    "taylor",
    "thomas",
    "thompson",
    "walker",
    "wang",
    "white",
    "williams",
    "wilson",
    "wood",
    "wright",
    "young",
    "zhang",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_lists_are_sorted_for_binary_search() {
        let mut g = GIVEN.to_vec();
        g.sort_unstable();
        let mut s = SURNAMES.to_vec();
        s.sort_unstable();
        assert_eq!((g.as_slice(), s.as_slice()), (GIVEN.as_slice(), SURNAMES.as_slice()));
    }

    #[test]
    fn checksums_and_formats() {
        assert!(is_card_number("4111 1111 1111 1111"));
        assert!(!is_card_number("4111 1111 1111 1112"));
        assert!(is_iban("GB82 WEST 1234 5698 7654 32"));
        assert!(is_iban("DE89370400440532013000"));
        assert!(!is_iban("GB82 WEST 1234 5698 7654 33"));
        assert!(is_phone("+44 20 7946 0958") && is_phone("(555) 010-4477") && is_phone("0612345678"));
        assert!(!is_phone("4111111111111112") && !is_phone("12345678"));
        assert!(is_email("ann.lee+bank@example.co.uk") && !is_email("a@b") && !is_email("user at example.com"));
        assert!(matches_format("078-05-1120", "999-99-9999") && !matches_format("078-05-112", "999-99-9999"));
        assert!(is_postcode("SW1A 1AA") && is_postcode("K1A 0B1") && is_postcode("1012 AB"));
        assert!(is_person_name("Ann Lee") && is_person_name("Maria Garcia"));
        assert!(!is_person_name("Main Street") && !is_person_name("debt consolidation"));
    }

    /// A check digit that makes `digits` pass Luhn (`fail`: one that does not).
    fn luhn(digits: &str, fail: bool) -> String {
        (0..10)
            .map(|d| format!("{digits}{d}"))
            .find(|c| is_card_number(c) != fail)
            .expect("a digit")
    }

    /// An IBAN of `country` and `bban` with its check digits (`fail`: wrong ones).
    fn iban(country: &str, bban: &str, fail: bool) -> String {
        (2..=98)
            .map(|c| format!("{country}{c:02}{bban}"))
            .find(|c| is_iban(c) != fail)
            .expect("check digits")
    }

    #[test]
    fn planted_personal_data_is_found_in_every_column_and_look_alikes_in_none() {
        let mut rng = riskpipe_core::Rng::new(17);
        let n = 2_000;
        let pick = |rng: &mut riskpipe_core::Rng, v: &[&str]| v[rng.below(v.len() as u64) as usize].to_string();
        let digits =
            |rng: &mut riskpipe_core::Rng, k: usize| (0..k).map(|_| rng.below(10).to_string()).collect::<String>();
        let upper = |rng: &mut riskpipe_core::Rng| char::from(b'A' + rng.below(26) as u8);
        let text = |f: &mut dyn FnMut(&mut riskpipe_core::Rng) -> String, rng: &mut riskpipe_core::Rng| {
            Column::Text((0..n).map(|_| Some(f(rng))).collect())
        };
        let day = |y: i32, rng: &mut riskpipe_core::Rng| {
            riskpipe_core::frame::days_from_civil(y, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32)
        };
        let words = [
            "payment", "for", "the", "invoice", "sent", "last", "week", "please", "call", "back",
        ];
        let sentence = |rng: &mut riskpipe_core::Rng, extra: String| {
            let mut w: Vec<String> = (0..6).map(|_| pick(rng, &words)).collect();
            w.insert(3, extra);
            w.join(" ")
        };
        let planted: Vec<(&str, PiiKind, Column)> = vec![
            (
                "contact",
                PiiKind::Email,
                text(
                    &mut |r| format!("{}{}@mail{}.com", pick(r, &GIVEN), r.below(999), r.below(9)),
                    &mut rng,
                ),
            ),
            (
                "tel",
                PiiKind::Phone,
                text(&mut |r| format!("+44 20 {} {}", digits(r, 4), digits(r, 4)), &mut rng),
            ),
            (
                "pan",
                PiiKind::CardNumber,
                text(&mut |r| luhn(&format!("4{}", digits(r, 14)), false), &mut rng),
            ),
            (
                "account",
                PiiKind::Iban,
                text(&mut |r| iban("DE", &digits(r, 18), false), &mut rng),
            ),
            (
                "ref",
                PiiKind::NationalId,
                text(
                    &mut |r| format!("{}-{}-{}", digits(r, 3), digits(r, 2), digits(r, 4)),
                    &mut rng,
                ),
            ),
            (
                "born",
                PiiKind::DateOfBirth,
                Column::Date(
                    (0..n)
                        .map(|_| {
                            let y = 1940 + rng.below(60) as i32;
                            Some(day(y, &mut rng))
                        })
                        .collect(),
                ),
            ),
            (
                "area",
                PiiKind::Postcode,
                text(
                    &mut |r| {
                        format!(
                            "{}{}{} {}{}{}",
                            upper(r),
                            upper(r),
                            r.below(10),
                            r.below(10),
                            upper(r),
                            upper(r)
                        )
                    },
                    &mut rng,
                ),
            ),
            (
                "holder",
                PiiKind::PersonName,
                text(
                    &mut |r| format!("{} {}", capital(&pick(r, &GIVEN)), capital(&pick(r, &SURNAMES))),
                    &mut rng,
                ),
            ),
            (
                "notes",
                PiiKind::Email,
                text(
                    &mut |r| {
                        if r.below(10) == 0 {
                            {
                                let e = format!("write to jo{}@bank.example", r.below(99));
                                sentence(r, e)
                            }
                        } else {
                            sentence(r, "soon".into())
                        }
                    },
                    &mut rng,
                ),
            ),
            (
                "memo",
                PiiKind::Phone,
                text(
                    &mut |r| {
                        if r.below(20) == 0 {
                            {
                                let p = format!("on 020 {} {}", digits(r, 4), digits(r, 4));
                                sentence(r, p)
                            }
                        } else {
                            sentence(r, "today".into())
                        }
                    },
                    &mut rng,
                ),
            ),
        ];
        let look_alikes: Vec<(&str, Column)> = vec![
            (
                "token",
                text(&mut |r| luhn(&format!("4{}", digits(r, 14)), true), &mut rng),
            ),
            ("iban_like", text(&mut |r| iban("DE", &digits(r, 18), true), &mut rng)),
            (
                "opened",
                Column::Date(
                    (0..n)
                        .map(|_| {
                            Some(riskpipe_core::frame::days_from_civil(
                                1960 + rng.below(50) as i32,
                                1 + rng.below(12) as u32,
                                1,
                            ))
                        })
                        .collect(),
                ),
            ),
            (
                "booked",
                Column::Date(
                    (0..n)
                        .map(|_| {
                            let y = 2018 + rng.below(3) as i32;
                            Some(day(y, &mut rng))
                        })
                        .collect(),
                ),
            ),
            ("purpose", text(&mut |r| sentence(r, "car".into()), &mut rng)),
            ("order_no", text(&mut |r| digits(r, 8), &mut rng)),
            (
                "product",
                text(&mut |r| format!("{}{}{}", upper(r), upper(r), digits(r, 7)), &mut rng),
            ),
            (
                "city",
                text(
                    &mut |r| pick(r, &["New York", "Main Street", "Saint Louis", "Port Said", "Cape Town"]),
                    &mut rng,
                ),
            ),
            (
                "amount_text",
                text(
                    &mut |r| format!("{},{}.{}", r.below(90) + 1, digits(r, 3), digits(r, 2)),
                    &mut rng,
                ),
            ),
            (
                "branch",
                text(&mut |r| format!("BR-{}-{}", digits(r, 3), upper(r)), &mut rng),
            ),
            (
                "batch",
                text(
                    &mut |r| format!("{}.{}.{}", digits(r, 3), digits(r, 3), digits(r, 3)),
                    &mut rng,
                ),
            ),
        ];
        for (name, kind, col) in &planted {
            let f = detect(col, &[]);
            assert!(f.iter().any(|f| f.kind == *kind), "{name}: {f:?}");
        }
        for (name, col) in &look_alikes {
            assert_eq!(detect(col, &[]), vec![], "{name}");
        }
        // The same column gives the same findings.
        assert_eq!(detect(&planted[8].2, &[]), detect(&planted[8].2, &[]));
    }

    fn capital(s: &str) -> String {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    }
}
