//! A loss bundle's book part: the credit bundle it embeds for each loan's PD (its files under a
//! `pd_` prefix) and the settings of the per-loan measures, EAD, EL, IFRS 9 stage and ECL and
//! IRB RWA ([`riskpipe_portfolio::book`]).

use std::path::Path;

use riskpipe_core::io::{write_atomic, write_json};
use riskpipe_core::names::{EAD, ECL, EL, PD, RWA, STAGE};
use riskpipe_core::{Column, ColumnKind, Error, Frame, Result};
use riskpipe_portfolio::book::{BookParams, LoanFacts, Measures};

use crate::info::InputColumn;

/// The prefix of the embedded credit bundle's files inside a loss bundle.
pub const PD_PREFIX: &str = "pd_";
/// The book settings' file inside a loss bundle.
pub const BOOK_FILE: &str = "book.json";

/// The columns the book adds to a loss bundle's output, after `lgd`.
pub const BOOK_OUTPUTS: [&str; 6] = [PD, EAD, EL, STAGE, ECL, RWA];

/// The raw columns the book reads beyond the LGD model's, its own and the PD bundle's, with
/// their kinds. `kind_of` gives a column's kind in the data: a book column missing from it
/// or of the wrong kind, or a PD bundle input the data lacks, is a user error naming the key.
pub fn inputs(
    params: &BookParams,
    pd_inputs: &[InputColumn],
    kind_of: &dyn Fn(&str) -> Option<ColumnKind>,
) -> Result<Vec<InputColumn>> {
    let mut v: Vec<InputColumn> = Vec::new();
    for (k, (key, name)) in params.columns.all().into_iter().enumerate() {
        let want = if k == 0 { ColumnKind::Text } else { ColumnKind::Number };
        match kind_of(name) {
            Some(kind) if kind == want => v.push(InputColumn {
                name: name.to_string(),
                kind,
            }),
            found => {
                return Err(Error::pipeline_key(
                    format!("loss.book.{key}"),
                    match found {
                        None => format!("`{name}` is not a column of the data"),
                        Some(_) => format!("`{name}` must be a {} column", format!("{want:?}").to_lowercase()),
                    },
                ));
            }
        }
    }
    for i in pd_inputs {
        if kind_of(&i.name) != Some(i.kind) {
            return Err(Error::pipeline_key(
                "loss.pd_bundle",
                format!(
                    "the PD bundle reads `{}` ({}), which the data lacks or holds as another kind",
                    i.name,
                    format!("{:?}", i.kind).to_lowercase()
                ),
            ));
        }
        if !v.iter().any(|c| c.name == i.name) {
            v.push(i.clone());
        }
    }
    Ok(v)
}

/// Each raw row's measures from its `pd` and predicted `lgd`; a bad value is a data error
/// naming the file, row and column.
pub fn measures(
    params: &BookParams,
    raw: &Frame,
    (pd, lgd): (&[f64], &[f64]),
    first_row: u64,
    file: &str,
) -> Result<Vec<Measures>> {
    let c = &params.columns;
    let number = |name: &str| -> Result<&[f64]> {
        raw.number(name).ok_or_else(|| Error::ColumnNotFound {
            file: file.to_string(),
            column: name.to_string(),
            hint: "; `loss.book` reads it as a number".into(),
        })
    };
    let segment = match raw.get(&c.segment) {
        Some(Column::Text(v)) => v,
        _ => {
            return Err(Error::ColumnNotFound {
                file: file.to_string(),
                column: c.segment.clone(),
                hint: "; `loss.book.segment` names a text column".into(),
            });
        }
    };
    let (balance, drawn, limit) = (number(&c.balance)?, number(&c.drawn)?, number(&c.limit)?);
    let (dpd, eir) = (number(&c.days_past_due)?, number(&c.eir)?);
    let (term, on_book) = (number(&c.term_months)?, number(&c.months_on_book)?);
    let origination = match &c.origination_pd {
        Some(o) => Some(number(o)?),
        None => None,
    };
    (0..raw.rows())
        .map(|i| {
            let facts = LoanFacts {
                pd: pd[i],
                lgd: lgd[i],
                segment: segment[i].as_deref().unwrap_or(""),
                balance: balance[i],
                drawn: drawn[i],
                limit: limit[i],
                days_past_due: dpd[i],
                origination_pd: origination.map_or(f64::NAN, |o| o[i]),
                eir: eir[i],
                term_months: term[i],
                months_on_book: on_book[i],
            };
            params.assess(&facts).map_err(|e| {
                let column = match e.field {
                    "classes" => c.segment.clone(),
                    "eir" => c.eir.clone(),
                    "ead" => format!("{}/{}/{}", c.balance, c.drawn, c.limit),
                    f => f.to_string(),
                };
                Error::data(file, Some(first_row + i as u64 + 1), Some(&column), e.message)
            })
        })
        .collect()
}

/// Writes the book into the bundle folder `bundle`: `book.json` and the PD bundle's files
/// (from `pd_dir`, checked against its seal) under the `pd_` prefix.
pub fn write(params: &BookParams, pd_dir: &Path, bundle: &Path) -> Result<()> {
    write_json(&bundle.join(BOOK_FILE), params)?;
    for f in crate::seal::check(pd_dir)?.files {
        let bytes = fs_err::read(pd_dir.join(&f.path))?;
        write_atomic(&bundle.join(format!("{PD_PREFIX}{}", f.path)), &bytes)?;
    }
    Ok(())
}

/// The output columns of `measures`, in [`BOOK_OUTPUTS`] order.
pub fn columns(measures: &[Measures]) -> Vec<(&'static str, Column)> {
    let col = |f: &dyn Fn(&Measures) -> f64| Column::Number(measures.iter().map(f).collect());
    vec![
        (PD, col(&|m| m.pd)),
        (EAD, col(&|m| m.ead)),
        (EL, col(&|m| m.el)),
        (STAGE, col(&|m| f64::from(m.stage as u8))),
        (ECL, col(&|m| m.ecl)),
        (RWA, col(&|m| m.rwa)),
    ]
}
