//! The served models: each bundle loaded into a [`Model`] (scorer, version, shadow, live drift
//! window), and the [`Repository`] the handlers read, which reloads a bundle from its folder
//! without dropping a request in flight (a request keeps the `Arc` of the model it started with).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use riskpipe_core::{Error, Frame, Result};
use riskpipe_scoring::Scorer;
use riskpipe_scoring::drift::{Counts, Drift, Reference};

/// Rows per chunk of the drift window: the window drops its oldest chunk as a new one fills.
pub const DRIFT_CHUNK: u64 = 256;

/// The live drift of one model: the scored rows of the last `window` rows, counted into the
/// bundle's reference bins in chunks.
pub struct Window {
    pub reference: Reference,
    chunks: std::collections::VecDeque<Counts>,
    current: Counts,
    max_chunks: usize,
}

impl Window {
    pub fn new(reference: Reference, window: usize) -> Window {
        Window {
            current: reference.counter(),
            chunks: std::collections::VecDeque::new(),
            max_chunks: (window as u64).div_ceil(DRIFT_CHUNK).max(1) as usize,
            reference,
        }
    }

    pub fn add(&mut self, scores: &[f64], masked: &Frame) {
        self.current.add(&self.reference, scores, masked);
        if self.current.rows() >= DRIFT_CHUNK {
            let full = std::mem::replace(&mut self.current, self.reference.counter());
            self.chunks.push_back(full);
            while self.chunks.len() > self.max_chunks {
                self.chunks.pop_front();
            }
        }
    }

    pub fn drift(&self) -> (u64, Vec<Drift>) {
        let mut all = self.reference.counter();
        for c in self.chunks.iter().chain(std::iter::once(&self.current)) {
            all.merge(c);
        }
        (all.rows(), all.compare(&self.reference))
    }
}

/// A served bundle.
pub struct Model {
    pub name: String,
    /// The first 12 hex digits of `sha256`: the version clients see.
    pub version: String,
    /// sha256 of the bundle's seal, which lists every file's hash.
    pub sha256: String,
    pub scorer: Scorer,
    /// The challenger scored beside it, if any.
    pub shadow: Option<Box<Model>>,
    /// The live drift window (a bundle with a reference).
    pub window: Option<Mutex<Window>>,
}

pub fn load_model(dir: &std::path::Path, window: usize) -> Result<Model> {
    let scorer = Scorer::load(dir)?;
    let sha256 = riskpipe_core::hash::sha256_file(&dir.join(riskpipe_scoring::SEAL_FILE))?;
    let window = match riskpipe_scoring::monitor::reference(dir) {
        Ok(r) => Some(Mutex::new(Window::new(r, window))),
        Err(_) => None,
    };
    Ok(Model {
        window,
        name: scorer.info.pipeline.clone(),
        version: sha256[..12].to_string(),
        sha256,
        scorer,
        shadow: None,
    })
}

/// Loads every bundle and pairs each shadow with the served bundle of its pipeline: a folder
/// that is not a sealed bundle, two bundles of one pipeline, or a shadow without a champion is a
/// user error.
pub fn load_models(bundles: &[PathBuf], shadows: &[PathBuf], window: usize) -> Result<Vec<Model>> {
    let mut models: Vec<Model> = Vec::new();
    for dir in bundles {
        let model = load_model(dir, window)?;
        let name = model.name.clone();
        if models.iter().any(|m| m.name == name) {
            return Err(Error::data(
                dir.display().to_string(),
                None,
                None,
                format!("is a second bundle of the pipeline `{name}`; serve one bundle per model name"),
            ));
        }
        models.push(model);
    }
    if models.is_empty() {
        return Err(Error::data("--bundle", None, None, "name at least one bundle folder"));
    }
    for dir in shadows {
        let shadow = load_model(dir, window)?;
        let at = |m: String| Error::data(dir.display().to_string(), None, None, m);
        let Some(champion) = models.iter_mut().find(|m| m.name == shadow.name) else {
            return Err(at(format!(
                "is a bundle of `{}`, which no `--bundle` serves: a shadow is scored beside the champion of its pipeline",
                shadow.name
            )));
        };
        if champion.shadow.is_some() {
            return Err(at(format!("is a second shadow of `{}`", shadow.name)));
        }
        champion.shadow = Some(Box::new(shadow));
    }
    Ok(models)
}

/// The served models and the folders they come from.
pub struct Repository {
    models: RwLock<Vec<Arc<Model>>>,
    /// Each model name's bundle folder and its shadow's, as given at start.
    sources: Vec<(String, PathBuf, Option<PathBuf>)>,
    window: usize,
}

impl Repository {
    /// Loads every bundle (see [`load_models`]).
    pub fn load(bundles: &[PathBuf], shadows: &[PathBuf], window: usize) -> Result<Repository> {
        let models = load_models(bundles, shadows, window)?;
        let sources = models
            .iter()
            .zip(bundles)
            .map(|(m, dir)| {
                let shadow = shadows
                    .iter()
                    .find(|s| load_name(s).as_deref() == Some(m.name.as_str()));
                (m.name.clone(), dir.clone(), shadow.cloned())
            })
            .collect();
        Ok(Repository {
            models: RwLock::new(models.into_iter().map(Arc::new).collect()),
            sources,
            window,
        })
    }

    /// The models now served.
    pub fn all(&self) -> Vec<Arc<Model>> {
        self.models.read().map(|m| m.clone()).unwrap_or_default()
    }

    /// The served model `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Model>> {
        self.all().into_iter().find(|m| m.name == name)
    }

    /// Every model name the repository knows, with whether it is served.
    pub fn index(&self) -> Vec<(String, Option<String>)> {
        let served = self.all();
        self.sources
            .iter()
            .map(|(n, _, _)| {
                (
                    n.clone(),
                    served.iter().find(|m| &m.name == n).map(|m| m.version.clone()),
                )
            })
            .collect()
    }

    /// Loads model `name` again from its folder (a redeployed bundle) and serves it; on error the
    /// model served before stays. `Ok(false)`: no such model.
    pub fn reload(&self, name: &str) -> Result<bool> {
        let Some((_, dir, shadow)) = self.sources.iter().find(|(n, _, _)| n == name) else {
            return Ok(false);
        };
        let mut model = load_model(dir, self.window)?;
        if model.name != name {
            return Err(Error::data(
                dir.display().to_string(),
                None,
                None,
                format!("now holds a bundle of `{}`, not `{name}`", model.name),
            ));
        }
        if let Some(s) = shadow {
            model.shadow = Some(Box::new(load_model(s, self.window)?));
        }
        let mut models = self.models.write().map_err(|_| Error::Internal("model lock".into()))?;
        models.retain(|m| m.name != name);
        models.push(Arc::new(model));
        models.sort_by_key(|m| self.sources.iter().position(|(n, _, _)| *n == m.name));
        Ok(true)
    }

    /// Stops serving model `name` (it can be loaded again). `false`: it was not served.
    pub fn unload(&self, name: &str) -> bool {
        let Ok(mut models) = self.models.write() else {
            return false;
        };
        let before = models.len();
        models.retain(|m| m.name != name);
        models.len() < before
    }

    /// Reloads every model (SIGHUP); returns the errors of those that kept their old bundle.
    pub fn reload_all(&self) -> Vec<Error> {
        self.sources
            .iter()
            .filter_map(|(n, _, _)| self.reload(n).err())
            .collect()
    }
}

/// The pipeline name of the bundle in `dir`, if it loads.
fn load_name(dir: &std::path::Path) -> Option<String> {
    riskpipe_core::io::read_json::<riskpipe_scoring::BundleInfo>(&dir.join("bundle.json"))
        .ok()
        .map(|i| i.pipeline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskpipe_core::Frame;
    use riskpipe_scoring::drift::{Bins, Variable};

    #[test]
    fn the_drift_window_keeps_the_latest_rows_only() {
        let reference = Reference {
            rows: 100,
            score: Variable {
                name: "pd".into(),
                bins: Bins::Numeric { edges: vec![0.5] },
                shares: vec![0.5, 0.5, 0.0],
            },
            features: Vec::new(),
        };
        let mut w = Window::new(reference, 512);
        // 1,000 low scores, then 600 high ones: the window sees the high ones only.
        for _ in 0..10 {
            w.add(&[0.1; 100], &Frame::new());
        }
        for _ in 0..6 {
            w.add(&[0.9; 100], &Frame::new());
        }
        let (rows, drift) = w.drift();
        assert!((512..=512 + DRIFT_CHUNK).contains(&rows), "{rows}");
        assert!(drift[0].psi > 0.25, "{drift:?}");
    }
}
