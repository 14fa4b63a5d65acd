//! Typed views of the JSON artifacts one stage writes and later stages read. A stage reads an
//! earlier stage's file through these, never through that stage's code; each view holds only
//! the fields readers need, so the writer may add fields freely.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::ColumnKind;

/// A column of `ingest/schema.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct SchemaColumnView {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: ColumnKind,
}

/// `ingest/schema.json`, as later stages read it.
#[derive(Debug, Clone, Deserialize)]
pub struct SchemaView {
    /// Columns in file order.
    #[serde(default)]
    pub columns: Vec<SchemaColumnView>,
    /// The target column.
    pub target: String,
    /// The id column, if any.
    pub id: Option<String>,
    /// Tokens read as missing in CSV input.
    #[serde(default)]
    pub missing_values: Vec<String>,
}

impl SchemaView {
    /// Where the file is, in a run folder.
    pub const PATH: &str = "ingest/schema.json";

    /// The kind of column `name`, if the schema has it.
    pub fn kind_of(&self, name: &str) -> Option<ColumnKind> {
        self.columns.iter().find(|c| c.name == name).map(|c| c.kind)
    }
}

/// `train/selection.json`, as later stages read it.
#[derive(Debug, Clone, Deserialize)]
pub struct SelectionView {
    /// The model deploy uses.
    pub selected: String,
    /// The cross-validated metric of every model trained.
    #[serde(default)]
    pub cv_auc: BTreeMap<String, f64>,
}

impl SelectionView {
    /// Where the file is, in a run folder.
    pub const PATH: &str = "train/selection.json";
}
