//! Applying a masking plan to a frame, and spotting columns that look like personal data.

use std::borrow::Cow;

use riskpipe_core::frame::{civil_from_days, days_from_civil, parse_date};
use riskpipe_core::{Column, Error, Frame, Result};

use crate::config::{Action, PrivacyParams};
use crate::key::{domain_key, pseudonym};

/// Applies the plan to `frame`; `file` names the data in errors. `key` must match
/// `params.key_id` when a column is hashed.
pub fn apply(params: &PrivacyParams, frame: &Frame, key: Option<&[u8]>, file: &str) -> Result<Frame> {
    check_planned(params, frame, file)?;
    let columns = frame.iter().map(|(n, c)| (n.to_string(), Cow::Borrowed(c)));
    mask(params, columns, key, file)
}

/// [`apply`] consuming the frame: a column the plan keeps is moved, not copied.
pub fn apply_owned(params: &PrivacyParams, frame: Frame, key: Option<&[u8]>, file: &str) -> Result<Frame> {
    check_planned(params, &frame, file)?;
    mask(params, frame.into_columns().map(|(n, c)| (n, Cow::Owned(c))), key, file)
}

/// Every column the plan names is in the frame.
fn check_planned(params: &PrivacyParams, frame: &Frame, file: &str) -> Result<()> {
    for name in params.columns.keys() {
        if frame.get(name).is_none() {
            return Err(Error::ColumnNotFound {
                file: file.to_string(),
                column: name.clone(),
                hint: format!("; it is masked by `privacy.columns.{name}`"),
            });
        }
    }
    Ok(())
}

/// Masks `columns` by the plan.
fn mask<'a>(
    params: &PrivacyParams,
    columns: impl Iterator<Item = (String, Cow<'a, Column>)>,
    key: Option<&[u8]>,
    file: &str,
) -> Result<Frame> {
    let mut out = Frame::new();
    for (name, col) in columns {
        let name = name.as_str();
        let Some(action) = params.columns.get(name) else {
            out.push(name, col.into_owned());
            continue;
        };
        if let Some(masked) = mask_column(action, col, key, name, file)? {
            out.push(name, masked);
        }
    }
    Ok(out)
}

/// One column masked by `action` (`None`: dropped); `name` and `file` name it in errors.
pub fn mask_column(
    action: &Action,
    col: Cow<'_, Column>,
    key: Option<&[u8]>,
    name: &str,
    file: &str,
) -> Result<Option<Column>> {
    {
        let bad_kind = |what: &str| {
            Error::data(
                file,
                None,
                Some(name),
                format!("`{what}` cannot apply to a {:?} column", col.kind()).to_lowercase(),
            )
        };
        let masked = match (action, col.as_ref()) {
            (Action::Drop, _) => return Ok(None),
            (Action::Keep, _) => col.into_owned(),
            (Action::Hash { domain }, c) => {
                let key = key.ok_or_else(|| Error::Internal("hash action without a key".into()))?;
                let key = domain.as_deref().map_or_else(|| key.to_vec(), |d| domain_key(key, d));
                Column::Text(
                    (0..c.len())
                        .map(|i| c.display(i).map(|v| pseudonym(&key, &v)))
                        .collect(),
                )
            }
            (Action::Fpe { domain }, Column::Text(v)) => {
                let key = key.ok_or_else(|| Error::Internal("fpe action without a key".into()))?;
                let cipher = crate::ff1::Ff1::new(&crate::key::fpe_key(key, domain), 10).map_err(Error::Internal)?;
                let mut out = Vec::with_capacity(v.len());
                for (row, s) in v.iter().enumerate() {
                    out.push(match s {
                        Some(s) => Some(encrypt_digits(&cipher, s).map_err(|m| {
                            Error::data(
                                file,
                                Some(row as u64 + 1),
                                Some(name),
                                format!("`fpe`: {m}; hash the column instead"),
                            )
                        })?),
                        None => None,
                    });
                }
                Column::Text(out)
            }
            (Action::Fpe { .. }, _) => return Err(bad_kind("fpe (a text column of digits)")),
            (Action::Year, Column::Date(v)) => Column::Number(
                v.iter()
                    .map(|d| d.map_or(f64::NAN, |d| civil_from_days(d).0 as f64))
                    .collect(),
            ),
            (Action::Year, _) => return Err(bad_kind("generalize to year")),
            (Action::Month, Column::Date(v)) => Column::Date(
                v.iter()
                    .map(|d| {
                        d.map(|d| {
                            let (y, m, _) = civil_from_days(d);
                            days_from_civil(y, m, 1)
                        })
                    })
                    .collect(),
            ),
            (Action::Month, _) => return Err(bad_kind("generalize to month")),
            (Action::AgeBand { band_years, as_of }, Column::Date(v)) => {
                let (ry, rm, rd) = civil_from_days(parse_date(as_of).unwrap_or(0));
                Column::Text(
                    v.iter()
                        .map(|d| {
                            d.map(|d| {
                                let (y, m, dd) = civil_from_days(d);
                                let mut age = ry - y;
                                if (rm, rd) < (m, dd) {
                                    age -= 1;
                                }
                                let lo = age.div_euclid(*band_years as i32) * *band_years as i32;
                                format!("{lo}-{}", lo + *band_years as i32 - 1)
                            })
                        })
                        .collect(),
                )
            }
            (Action::AgeBand { .. }, _) => return Err(bad_kind("generalize to age_band")),
            (Action::Bucket { width }, Column::Number(v)) => {
                Column::Number(v.iter().map(|x| (x / width).floor() * width).collect())
            }
            (Action::Bucket { .. }, _) => return Err(bad_kind("generalize with bucket")),
            (Action::Truncate { chars }, Column::Text(v)) => Column::Text(
                v.iter()
                    .map(|s| s.as_ref().map(|s| s.chars().take(*chars).collect()))
                    .collect(),
            ),
            (Action::Truncate { .. }, _) => return Err(bad_kind("truncate")),
        };
        Ok(Some(masked))
    }
}

/// `s` with its digits encrypted by FF1 in place (radix 10, no tweak); other characters kept.
fn encrypt_digits(cipher: &crate::ff1::Ff1, s: &str) -> std::result::Result<String, String> {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    let enc = cipher.encrypt(&digits, &[])?;
    let mut it = enc.into_iter();
    Ok(s.chars()
        .map(|c| match c.to_digit(10) {
            Some(_) => char::from_digit(it.next().unwrap_or(0), 10).unwrap_or(c),
            None => c,
        })
        .collect())
}

/// k-anonymity of the quasi-identifier columns: the size of the smallest group of rows sharing
/// the same values, the number of groups, and the rows in groups smaller than 5.
pub fn k_anonymity(frame: &Frame, columns: &[String], file: &str) -> Result<KAnonymity> {
    let cols: Vec<&Column> = columns
        .iter()
        .map(|c| {
            frame.get(c).ok_or_else(|| Error::ColumnNotFound {
                file: file.to_string(),
                column: c.clone(),
                hint: "; it is listed in `privacy.quasi_identifiers` (after masking; a dropped column cannot be one)"
                    .into(),
            })
        })
        .collect::<Result<_>>()?;
    let mut groups: std::collections::BTreeMap<Vec<Option<String>>, u64> = std::collections::BTreeMap::new();
    for r in 0..frame.rows() {
        *groups.entry(cols.iter().map(|c| c.display(r)).collect()).or_insert(0) += 1;
    }
    Ok(KAnonymity {
        quasi_identifiers: columns.to_vec(),
        k: groups.values().copied().min().unwrap_or(0),
        groups: groups.len() as u64,
        rows_in_groups_below_5: groups.values().filter(|n| **n < 5).sum(),
    })
}

/// The k-anonymity figures of [`k_anonymity`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KAnonymity {
    /// The columns combined.
    pub quasi_identifiers: Vec<String>,
    /// Smallest group size: every row shares its values with at least k - 1 others.
    pub k: u64,
    /// Distinct value combinations.
    pub groups: u64,
    /// Rows whose combination occurs fewer than 5 times.
    pub rows_in_groups_below_5: u64,
}

/// Why a column looks like personal data by its name, if it does (its values are
/// [`crate::pii::detect`]'s).
pub fn looks_like_pii(name: &str, _col: &Column) -> Option<String> {
    let lower = name.to_lowercase();
    const NAMES: [&str; 17] = [
        "name",
        "email",
        "e_mail",
        "phone",
        "mobile",
        "ssn",
        "national_id",
        "passport",
        "card_number",
        "iban",
        "address",
        "postcode",
        "zip",
        "birth",
        "dob",
        "tax_id",
        "social_security",
    ];
    NAMES
        .iter()
        .find(|n| lower.contains(*n))
        .map(|n| format!("column name contains `{n}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn plan(cols: &[(&str, Action)]) -> PrivacyParams {
        PrivacyParams {
            key_env: "K".into(),
            key_id: None,
            quasi_identifiers: vec![],
            allow_pii: vec![],
            national_id_formats: vec![],
            keep_raw: false,
            k_anonymity: None,
            columns: cols
                .iter()
                .map(|(n, a)| (n.to_string(), a.clone()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    /// FF1 keeps the format (digits stay digits in their places), is a permutation the key
    /// undoes, differs by domain, and refuses a value with fewer than 6 digits by its row.
    #[test]
    fn format_preserving_encryption_keeps_the_format() {
        let mut f = Frame::new();
        let values = ["4111-1111-1111-1111", "GB 12 3456 7890", "120-46-7181", "12-34"];
        f.push(
            "n",
            Column::Text(values[..3].iter().map(|s| Some(s.to_string())).collect()),
        );
        let key = b"a-masking-key-of-some-length-123";
        let plan = |d: &str| PrivacyParams {
            columns: [("n".to_string(), Action::Fpe { domain: d.into() })].into(),
            ..plan(&[])
        };
        let out = apply(&plan("bank"), &f, Some(key), "t").unwrap();
        let other = apply(&plan("insurer"), &f, Some(key), "t").unwrap();
        let cipher = crate::ff1::Ff1::new(&crate::key::fpe_key(key, "bank"), 10).unwrap();
        for i in 0..3 {
            let (a, b) = (values[i], out.get("n").unwrap().display(i).unwrap());
            assert_ne!(a, b);
            assert_eq!(a.len(), b.len());
            for (x, y) in a.chars().zip(b.chars()) {
                assert_eq!(x.is_ascii_digit(), y.is_ascii_digit(), "{a} -> {b}");
                if !x.is_ascii_digit() {
                    assert_eq!(x, y);
                }
            }
            assert_ne!(Some(b.clone()), other.get("n").unwrap().display(i), "domains differ");
            let digits: Vec<u32> = b.chars().filter_map(|c| c.to_digit(10)).collect();
            let back: String = cipher
                .decrypt(&digits, &[])
                .unwrap()
                .iter()
                .map(|d| d.to_string())
                .collect();
            assert_eq!(back, a.chars().filter(char::is_ascii_digit).collect::<String>());
        }
        let mut short = Frame::new();
        short.push("n", Column::Text(vec![Some(values[0].into()), Some(values[3].into())]));
        let e = apply(&plan("bank"), &short, Some(key), "t.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 2") && e.contains("`n`") && e.contains("1,000,000"),
            "{e}"
        );
    }

    #[test]
    fn actions_do_what_they_say() {
        let mut f = Frame::new();
        f.push("email", Column::Text(vec![Some("a.b@example.com".into()), None]));
        f.push("dob", Column::Date(vec![parse_date("1980-06-15"), None]));
        f.push("pc", Column::Text(vec![Some("SW1A 1AA".into()), Some("E1 6AN".into())]));
        f.push("inc", Column::Number(vec![52_345.0, f64::NAN]));
        f.push("name", Column::Text(vec![Some("Ann".into()), Some("Bo".into())]));
        let p = plan(&[
            ("email", Action::Hash { domain: None }),
            (
                "dob",
                Action::AgeBand {
                    band_years: 10,
                    as_of: "2025-01-01".into(),
                },
            ),
            ("pc", Action::Truncate { chars: 2 }),
            ("inc", Action::Bucket { width: 10_000.0 }),
            ("name", Action::Drop),
        ]);
        let m = apply(&p, &f, Some(b"secret"), "d").unwrap();
        assert!(m.get("name").is_none());
        let e = m.get("email").unwrap().display(0).unwrap();
        assert_eq!(e.len(), 32);
        assert_eq!(e, pseudonym(b"secret", "a.b@example.com"));
        assert_ne!(e, pseudonym(b"other", "a.b@example.com"));
        assert_eq!(m.get("email").unwrap().display(1), None);
        // Under a domain the key is derived: another domain, another pseudonym.
        let in_domain = |d: &str| {
            let p = plan(&[("email", Action::Hash { domain: Some(d.into()) })]);
            apply(&p, &f, Some(b"secret"), "d")
                .unwrap()
                .get("email")
                .unwrap()
                .display(0)
                .unwrap()
        };
        assert_eq!(
            in_domain("bank"),
            pseudonym(&domain_key(b"secret", "bank"), "a.b@example.com")
        );
        assert_eq!(in_domain("bank"), in_domain("bank"));
        assert_ne!(in_domain("bank"), in_domain("insurer"));
        assert_ne!(in_domain("bank"), e);
        assert_eq!(m.get("dob").unwrap().display(0).as_deref(), Some("40-49"));
        assert_eq!(m.get("pc").unwrap().display(0).as_deref(), Some("SW"));
        assert_eq!(m.number("inc").unwrap()[0], 50_000.0);
        let missing = plan(&[("nope", Action::Drop)]);
        assert!(
            apply(&missing, &f, None, "d")
                .unwrap_err()
                .to_string()
                .contains("`nope`")
        );
    }

    #[test]
    fn k_anonymity_counts_the_smallest_group() {
        let mut f = Frame::new();
        f.push(
            "pc",
            Column::Text(["A", "A", "A", "B", "B"].iter().map(|s| Some(s.to_string())).collect()),
        );
        f.push("year", Column::Number(vec![1980.0, 1980.0, 1980.0, 1990.0, 1991.0]));
        let k = k_anonymity(&f, &["pc".into(), "year".into()], "d").unwrap();
        assert_eq!((k.k, k.groups, k.rows_in_groups_below_5), (1, 3, 5));
        let k = k_anonymity(&f, &["pc".into()], "d").unwrap();
        assert_eq!((k.k, k.groups), (2, 2));
        assert!(k_anonymity(&f, &["zip".into()], "d").is_err());
    }

    #[test]
    fn names_that_look_personal() {
        assert!(looks_like_pii("customer_email", &Column::Number(vec![])).is_some());
        assert!(looks_like_pii("purpose", &Column::Text(vec![Some("car".into())])).is_none());
    }

    /// What plain hashing leaves open: whoever can list the possible values (every national id
    /// of a format, every e-mail of a customer list) hashes them all and reads the values back.
    /// Keyed pseudonyms give that attacker nothing without the key.
    #[test]
    fn a_dictionary_attack_recovers_plain_hashes_and_no_keyed_pseudonym() {
        use sha2::{Digest, Sha256};
        let sha = |v: &str| hex::encode(Sha256::digest(v.as_bytes()));
        // Ids of a small known space: 078-05-0000 to 078-05-9999.
        let space: Vec<String> = (0..10_000).map(|i| format!("078-05-{i:04}")).collect();
        let held: Vec<String> = (0..500).map(|i| space[(i * 7_919) % 10_000].clone()).collect();
        let mut f = Frame::new();
        f.push("national_id", Column::Text(held.iter().cloned().map(Some).collect()));
        let dictionary: std::collections::BTreeMap<String, &String> = space.iter().map(|v| (sha(v), v)).collect();
        let plain: Vec<String> = held.iter().map(|v| sha(v)).collect();
        let recovered = plain.iter().filter(|h| dictionary.contains_key(*h)).count();
        assert_eq!(recovered, 500);
        let p = plan(&[(
            "national_id",
            Action::Hash {
                domain: Some("bank".into()),
            },
        )]);
        let key = b"a secret the attacker does not hold";
        let keyed = apply(&p, &f, Some(key), "d").unwrap();
        // The attacker tries plain hashes, and pseudonyms under guessed keys and the domain.
        let guesses: Vec<std::collections::BTreeMap<String, &String>> = ["", "secret", "riskpipe", "bank"]
            .iter()
            .map(|g| {
                let k = domain_key(g.as_bytes(), "bank");
                space.iter().map(|v| (pseudonym(&k, v), v)).collect()
            })
            .collect();
        let col = keyed.get("national_id").unwrap();
        for i in 0..col.len() {
            let h = col.display(i).unwrap();
            assert!(
                !dictionary.contains_key(&h) && guesses.iter().all(|g| !g.contains_key(&h)),
                "row {i}"
            );
        }
        // The key holder still links: the same id, the same pseudonym.
        assert_eq!(
            col.display(0),
            apply(&p, &f, Some(key), "d")
                .unwrap()
                .get("national_id")
                .unwrap()
                .display(0)
        );
    }
}
