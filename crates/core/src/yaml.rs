//! Parsing pipeline files: straight from the text, so every error keeps its line and column.

use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// Parses YAML text into `T`; errors name the file, line, column and key path, and quote the line.
pub fn parse<T: DeserializeOwned>(file: &str, text: &str) -> Result<T> {
    parse_located(file, text).map_err(|(_, e)| e)
}

/// Parses YAML text into `T` and reports every key that is unknown or of the wrong type, not
/// only the first: each offending entry (with the lines indented under it) is set aside and the
/// text parsed again. Returns the value of the text without those entries when one could be
/// parsed, and the errors with the key paths set aside.
pub fn parse_all<T: DeserializeOwned>(file: &str, text: &str) -> (Option<T>, Vec<Error>, Vec<String>) {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut errs = Vec::new();
    let mut removed = Vec::new();
    for _ in 0..100 {
        let current = lines.join("\n") + "\n";
        match parse_located::<T>(file, &current) {
            Ok(v) => return (Some(v), errs, removed),
            Err((line, e)) => {
                let (key, message) = match &e {
                    Error::Config { key, message, .. } => (key.clone(), message.clone()),
                    _ => (String::new(), String::new()),
                };
                // Past the first error, only errors of a key itself are the file's; a missing
                // field or an emptied mapping comes from what was set aside.
                let own = ["unknown field", "unknown variant", "invalid"]
                    .iter()
                    .any(|m| message.starts_with(m));
                if !errs.is_empty() && !own {
                    return (None, errs, removed);
                }
                errs.push(e);
                // Line numbers stay those of the file: removed lines are blanked, not deleted.
                let Some(l) = line.filter(|l| (1..=lines.len()).contains(l) && !lines[l - 1].trim().is_empty()) else {
                    return (None, errs, removed);
                };
                let indent = |s: &str| s.len() - s.trim_start().len();
                let own = indent(&lines[l - 1]);
                lines[l - 1].clear();
                for next in lines.iter_mut().skip(l) {
                    if next.trim().is_empty() || next.trim_start().starts_with('#') {
                        continue;
                    }
                    if indent(next) <= own {
                        break;
                    }
                    next.clear();
                }
                removed.push(key);
            }
        }
    }
    (None, errs, removed)
}

/// [`parse`], with the 1-based line of the error when known.
fn parse_located<T: DeserializeOwned>(file: &str, text: &str) -> std::result::Result<T, (Option<usize>, Error)> {
    serde_saphyr::from_str::<T>(text).map_err(|e| {
        let (line, col) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        let rendered = e.to_string();
        let message = first_message(&rendered);
        let key = if line > 0 {
            key_path_at(text, line as usize, col as usize)
        } else {
            String::new()
        };

        let snippet = if line > 0 {
            text.lines()
                .nth(line as usize - 1)
                .map(|l| format!("\n  {line} | {l}"))
                .unwrap_or_default()
        } else {
            String::new()
        };
        let at = (line > 0).then_some((line as usize, col as usize));
        let err = Error::Config {
            file: file.to_string(),
            at,
            key,
            message: format!("{message}{snippet}"),
        };
        (at.map(|a| a.0), err)
    })
}

/// The first line of serde-saphyr's rendered error, without its position prefix.
fn first_message(rendered: &str) -> String {
    let first = rendered
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(rendered)
        .trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // serde-saphyr writes `line L column C: msg`; we print the position ourselves.
    let re_pos = |s: &str| -> Option<usize> {
        let rest = s.strip_prefix("line ")?;
        let i = rest.find(": ")?;
        Some(5 + i + 2)
    };
    match re_pos(first) {
        Some(i) => first[i..].to_string(),
        None => first.to_string(),
    }
}

/// The dotted key path of the mapping entry at (1-based) `line`, found from indentation.
pub fn key_path_at(text: &str, line: usize, _col: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if line == 0 || line > lines.len() {
        return String::new();
    }
    let indent = |l: &str| l.len() - l.trim_start().len();
    let key_of = |l: &str| -> Option<String> {
        let t = l.trim_start().trim_start_matches("- ");
        if t.starts_with('#') {
            return None;
        }
        let i = t.find(':')?;
        let k = t[..i].trim();
        (!k.is_empty() && !k.contains(' ')).then(|| k.trim_matches('"').to_string())
    };
    let mut path = Vec::new();
    let mut cur = lines[line - 1];
    if let Some(k) = key_of(cur) {
        path.push(k);
    }
    let mut level = indent(cur);
    for l in lines[..line - 1].iter().rev() {
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        if indent(l) < level {
            if let Some(k) = key_of(l) {
                path.push(k);
            }
            level = indent(l);
            cur = l;
            if level == 0 {
                break;
            }
        }
    }
    let _ = cur;
    path.reverse();
    path.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        rows: u64,
    }
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        version: u32,
        data: Inner,
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let text = "version: 1\ndata:\n  rows: 5\n  rowz: 6\n";
        let err = parse::<Outer>("p.yaml", text).unwrap_err().to_string();
        assert!(err.starts_with("p.yaml:4:"), "{err}");
        match parse::<Outer>("p.yaml", text).unwrap_err() {
            Error::Config { file, at, key, .. } => {
                assert_eq!((file.as_str(), key.as_str()), ("p.yaml", "data.rowz"));
                assert_eq!(at.map(|a| a.0), Some(4));
            }
            e => panic!("{e:?}"),
        }
        assert!(err.contains("data.rowz"), "{err}");
        assert!(err.contains("rowz"), "{err}");
    }

    #[test]
    fn every_bad_key_is_reported() {
        let text = "version: 1\nversionz: 2\ndata:\n  rows: many\n  rowz: 6\n    deeper: 1\n";
        let (v, errs, removed) = parse_all::<Outer>("p.yaml", text);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].to_string().contains("p.yaml:2:"), "{}", errs[0]);
        assert!(errs[2].to_string().contains("rowz"), "{}", errs[2]);
        assert!(v.is_none(), "`data.rows` is required and was set aside");
        assert_eq!(removed, ["versionz", "data.rows", "data.rowz"]);
    }

    #[test]
    fn wrong_type_names_the_key() {
        let text = "version: 1\ndata:\n  rows: many\n";
        let err = parse::<Outer>("p.yaml", text).unwrap_err().to_string();
        assert!(err.contains("p.yaml:3:"), "{err}");
        assert!(err.contains("data.rows"), "{err}");
    }
}
