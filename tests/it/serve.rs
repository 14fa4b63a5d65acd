//! The scoring service end to end: the real binary serving a bundle on loopback, driven over
//! HTTP/1.1: V2 and MLflow requests give what `riskpipe score` gives, bit for bit; bad requests
//! get 4xx naming the input and the service stays up; the audit log's chain verifies and holds
//! masked inputs only; SIGTERM stops it cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use riskpipe_core::{Column, Frame};
use serde_json::{Value, json};

use crate::util::{TestDir, small_pipeline};

/// A running `riskpipe serve`, stopped (SIGTERM) on drop.
struct Service {
    child: Child,
    addr: String,
}

impl Service {
    fn start(t: &TestDir, args: &[&str]) -> Service {
        Service::start_env(t, args, &[])
    }

    fn start_env(t: &TestDir, args: &[&str], env: &[(&str, &str)]) -> Service {
        let mut child = t
            .cmd()
            .envs(env.iter().copied())
            .arg("serve")
            .args(args)
            .args(["--addr", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn riskpipe serve");
        let mut line = String::new();
        BufReader::new(child.stderr.as_mut().expect("stderr"))
            .read_line(&mut line)
            .expect("read the address line");
        let addr = line
            .split("://")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in `{line}`"))
            .to_string();
        Service { child, addr }
    }

    /// One HTTP/1.1 request; returns (status, body).
    fn call(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        self.call_with(method, path, body, "")
    }

    /// A request with extra header lines (`Name: value\r\n` each).
    fn call_with(&self, method: &str, path: &str, body: &[u8], headers: &str) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).expect("connect");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
            self.addr,
            body.len()
        );
        // Write from another thread while this one reads, as an HTTP client does: the service
        // may answer before the body is all sent (413 for a body above the limit) and close,
        // and the rest of the write then fails; the answer is what the test checks.
        let mut writer = s.try_clone().expect("clone the stream");
        let payload = [head.as_bytes(), body].concat();
        let sending = std::thread::spawn(move || {
            let _ = writer.write_all(&payload);
        });
        let mut raw = Vec::new();
        // Bytes read before a reset are kept.
        let _ = s.read_to_end(&mut raw);
        let _ = sending.join();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status: u16 = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map(|b| b.1.to_string()).unwrap_or_default();
        (status, body)
    }

    fn json(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let (status, text) = self.call(method, path, body.to_string().as_bytes());
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// SIGTERM; the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn cell(c: &Column, i: usize) -> Value {
    match c {
        Column::Number(v) if v[i].is_finite() => json!(v[i]),
        Column::Number(_) => Value::Null,
        _ => c.display(i).map_or(Value::Null, Value::String),
    }
}

/// V2 tensors for the bundle's inputs (from its metadata) over `rows` of `f`.
fn v2_request(meta: &Value, f: &Frame, rows: std::ops::Range<usize>) -> Value {
    let inputs: Vec<Value> = meta["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let name = i["name"].as_str().unwrap();
            let c = f.get(name).unwrap_or_else(|| panic!("no `{name}`"));
            json!({"name": name, "datatype": i["datatype"], "shape": [rows.len()],
                   "data": rows.clone().map(|r| cell(c, r)).collect::<Vec<_>>()})
        })
        .collect();
    json!({ "inputs": inputs })
}

#[test]
fn the_service_scores_as_riskpipe_score_does_and_audits_every_decision() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(3000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    t.run(&["synth", "loans", "--rows", "400", "--seed", "9", "--out", "new.parquet"])
        .ok();
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "new.parquet",
        "--output",
        "batch.parquet",
    ])
    .ok();
    let raw = riskpipe_core::io::read_parquet(&t.join("new.parquet")).unwrap();
    let batch = riskpipe_core::io::read_parquet(&t.join("batch.parquet")).unwrap();
    let s = Service::start(&t, &["--bundle", "run/deploy/bundle", "--audit-log", "audit.jsonl"]);
    assert_eq!(s.json("GET", "/v2/health/ready", &json!({})).0, 200);
    let (status, meta) = s.json("GET", "/v2/models/small", &json!({}));
    assert_eq!(status, 200, "{meta}");
    let version = meta["versions"][0].as_str().unwrap().to_string();

    // Every row in one V2 batch: the outputs equal `riskpipe score`'s, bit for bit.
    let (status, r) = s.json("POST", "/v2/models/small/infer", &v2_request(&meta, &raw, 0..400));
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["model_version"], version.as_str());
    for out in r["outputs"].as_array().unwrap() {
        let name = out["name"].as_str().unwrap();
        if name == "input_warnings" {
            continue;
        }
        let want = batch
            .get(name)
            .unwrap_or_else(|| panic!("`{name}` not in score's output"));
        for (i, v) in out["data"].as_array().unwrap().iter().enumerate() {
            match want {
                Column::Number(w) => assert_eq!(v.as_f64().map(f64::to_bits), Some(w[i].to_bits()), "{name} row {i}"),
                _ => assert_eq!(v.as_str().map(String::from), want.display(i), "{name} row {i}"),
            }
        }
    }
    // The live drift over the sliding window: the same population as training.
    let (status, d) = s.json("GET", "/v2/models/small/drift", &json!({}));
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["rows"], 400);
    let vars = d["variables"].as_array().unwrap();
    assert_eq!(vars[0]["name"], "pd");
    assert!(
        vars.len() > 5 && vars.iter().all(|v| v["psi"].as_f64().unwrap() < 0.25),
        "{d}"
    );
    // Single records through the MLflow door: the same PDs.
    let pd = batch.number("pd").unwrap();
    for i in 0..15 {
        let record: serde_json::Map<String, Value> = meta["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let n = c["name"].as_str().unwrap();
                (n.to_string(), cell(raw.get(n).unwrap(), i))
            })
            .collect();
        let (status, r) = s.json("POST", "/invocations", &json!({ "dataframe_records": [record] }));
        assert_eq!(status, 200, "{r}");
        assert_eq!(r["predictions"][0]["pd"].as_f64().unwrap().to_bits(), pd[i].to_bits());
    }

    // Values training never saw are scored and flagged, and counted in the metrics.
    let mut odd = v2_request(&meta, &raw, 0..2);
    for i in odd["inputs"].as_array_mut().unwrap() {
        if i["name"] == "income" {
            i["data"][1] = json!(1e12);
        }
        if i["name"] == "housing" {
            i["data"][1] = json!("houseboat");
        }
    }
    let (status, r) = s.json("POST", "/v2/models/small/infer", &odd);
    assert_eq!(status, 200, "{r}");
    let warnings = r["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "input_warnings")
        .unwrap();
    let second = warnings["data"][1].as_str().unwrap();
    assert!(
        second.contains("`income` = 1000000000000 is outside the training range"),
        "{second}"
    );
    assert!(
        second.contains("`housing` = `houseboat` was not seen in training"),
        "{second}"
    );
    // Bad requests: 4xx naming the problem, and the service stays up.
    let mut missing = v2_request(&meta, &raw, 0..2);
    missing["inputs"]
        .as_array_mut()
        .unwrap()
        .retain(|i| i["name"] != "income");
    let (status, r) = s.json("POST", "/v2/models/small/infer", &missing);
    assert_eq!(status, 400, "{r}");
    assert!(r["error"].as_str().unwrap().contains("`income` is missing"), "{r}");
    let mut typed = v2_request(&meta, &raw, 0..2);
    for i in typed["inputs"].as_array_mut().unwrap() {
        if i["name"] == "income" {
            i["datatype"] = json!("BYTES");
        }
    }
    assert_eq!(s.json("POST", "/v2/models/small/infer", &typed).0, 400);
    assert_eq!(s.call("POST", "/v2/models/small/infer", b"{not json").0, 400);
    assert_eq!(s.json("POST", "/v2/models/other/infer", &json!({})).0, 404);
    let (status, text) = s.call("POST", "/v2/models/small/infer", &vec![b' '; 9 << 20]);
    assert_eq!(status, 413, "a body above the limit");
    // Errors the HTTP stack answers by itself are JSON too.
    let error = |text: &str| {
        serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v["error"].as_str().map(String::from))
    };
    assert!(error(&text).is_some_and(|e| e.contains("length limit")), "{text}");
    let (status, text) = s.call("GET", "/v2/nowhere", b"");
    assert_eq!((status, error(&text).as_deref()), (404, Some("not found")), "{text}");
    let (status, text) = s.call("DELETE", "/v2/models/small/infer", b"");
    assert_eq!(status, 405, "{text}");
    assert!(error(&text).is_some(), "{text}");
    assert_eq!(s.json("GET", "/v2/health/live", &json!({})).0, 200);
    let (_, metrics) = s.call("GET", "/metrics", b"");
    assert!(
        metrics.contains("riskpipe_requests_total{model=\"small\",outcome=\"ok\"} 17"),
        "{metrics}"
    );
    assert!(metrics.contains("riskpipe_audit_lines 417"), "{metrics}");
    assert!(metrics.contains("riskpipe_audit_waiting_lines 0"), "{metrics}");
    assert!(
        metrics.contains("# TYPE riskpipe_audit_synced_lines gauge"),
        "{metrics}"
    );
    assert!(
        metrics.contains("riskpipe_input_out_of_range_total{model=\"small\",feature=\"housing\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("riskpipe_input_missing_total{model=\"small\",feature="),
        "{metrics}"
    );
    assert!(
        metrics.contains("riskpipe_drift_psi{model=\"small\",variable=\"pd\"}"),
        "{metrics}"
    );

    // SIGTERM: a clean exit; the audit log holds one line per scored row and its chain holds.
    assert!(s.stop().success());
    let audit = fs_err::read_to_string(t.join("audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 417);
    let verified = t.run(&["audit", "verify", "audit.jsonl"]).ok();
    assert!(
        verified.stdout.contains("417 lines, chain intact"),
        "{}",
        verified.stdout
    );
    // Inputs are logged after masking: the dropped name and the hashed national id never appear.
    let ids = raw.get("national_id").unwrap();
    let names = raw.get("name").unwrap();
    for i in 0..20 {
        assert!(
            !audit.contains(&format!("\"{}\"", ids.display(i).unwrap())),
            "raw national id in the log"
        );
        assert!(
            !audit.contains(&format!("\"{}\"", names.display(i).unwrap())),
            "raw name in the log"
        );
    }
    let first: Value = serde_json::from_str(audit.lines().next().unwrap()).unwrap();
    assert_eq!(first["version"], version.as_str());
    assert!(first["input"].get("name").is_none(), "{first}");
    // An edited line is caught, and named.
    let edited = audit.replacen("\"row\":3", "\"row\":4", 1);
    t.write("edited.jsonl", &edited);
    t.run(&["audit", "verify", "edited.jsonl"])
        .fails(2, &["edited.jsonl", "row 4", "changed"]);
}

/// The python of the PyPI clients' venv (`tests/clients/setup_venv.sh` makes it when missing).
fn clients_python() -> String {
    let setup = crate::util::repo().join("tests/clients/setup_venv.sh");
    let py = std::process::Command::new("bash")
        .arg(&setup)
        .output()
        .expect("run setup_venv.sh");
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    String::from_utf8_lossy(&py.stdout).trim().to_string()
}

/// Triton's stock V2 HTTP client (from PyPI, installed by `tests/clients/setup_venv.sh`) scores
/// rows through the service unchanged, and gets what `riskpipe score` gives.
#[test]
#[cfg_attr(no_python3, ignore = "python3 is not installed")]
fn a_stock_v2_client_from_pypi_works_unchanged() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(2000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    t.run(&["synth", "loans", "--rows", "300", "--seed", "3", "--out", "new.parquet"])
        .ok();
    let s = Service::start(&t, &["--bundle", "run/deploy/bundle"]);
    let (_, meta) = s.json("GET", "/v2/models/small", &json!({}));
    let raw = riskpipe_core::io::read_parquet(&t.join("new.parquet")).unwrap();
    // The V2 JSON encoding has no missing FP64: rows whose numeric inputs are all present.
    let numeric: Vec<&str> = meta["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["datatype"] == "FP64")
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    let rows: Vec<usize> = (0..raw.rows())
        .filter(|&i| numeric.iter().all(|n| raw.number(n).unwrap()[i].is_finite()))
        .take(40)
        .collect();
    assert!(rows.len() >= 20, "{} complete rows", rows.len());
    let picked = raw.take(&rows);
    riskpipe_core::io::write_parquet(&t.join("picked.parquet"), &picked).unwrap();
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "picked.parquet",
        "--output",
        "want.parquet",
    ])
    .ok();
    let columns: serde_json::Map<String, Value> = meta["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let n = i["name"].as_str().unwrap();
            let c = picked.get(n).unwrap();
            (
                n.to_string(),
                Value::Array((0..picked.rows()).map(|r| cell(c, r)).collect()),
            )
        })
        .collect();
    t.write("rows.json", &Value::Object(columns).to_string());
    let python = clients_python();
    let client = crate::util::repo().join("tests/clients/v2_client.py");
    let out = std::process::Command::new(&python)
        .arg(&client)
        .args([s.addr.as_str(), "small", "rows.json", "got.json"])
        .current_dir(t.path())
        .output()
        .expect("run the V2 client");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_str(&fs_err::read_to_string(t.join("got.json")).unwrap()).unwrap();
    let want = riskpipe_core::io::read_parquet(&t.join("want.parquet")).unwrap();
    for (name, c) in want.iter() {
        let values = got[name]
            .as_array()
            .unwrap_or_else(|| panic!("the client got no `{name}`"));
        assert_eq!(values.len(), want.rows());
        for (i, v) in values.iter().enumerate() {
            match c {
                Column::Number(w) => assert_eq!(v.as_f64().unwrap().to_bits(), w[i].to_bits(), "{name} row {i}"),
                _ => assert_eq!(v.as_str().map(String::from), c.display(i), "{name} row {i}"),
            }
        }
    }
}

#[test]
fn a_bearer_token_guards_all_but_health_and_a_shadow_is_logged_never_returned() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(2000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "champion"]).ok();
    t.write(
        "c.yaml",
        &small_pipeline(2000, "").replace("train:\n  cv_folds: 3", "train:\n  cv_folds: 3\n  select: tree"),
    );
    t.run(&["run", "c.yaml", "--run-dir", "challenger"]).ok();
    t.run(&["synth", "loans", "--rows", "5", "--seed", "2", "--out", "new.parquet"])
        .ok();
    let raw = riskpipe_core::io::read_parquet(&t.join("new.parquet")).unwrap();
    // Without the token's variable the service does not start.
    t.run(&[
        "serve",
        "--bundle",
        "champion/deploy/bundle",
        "--auth-token-env",
        "NO_SUCH_TOKEN_VAR",
    ])
    .fails(2, &["NO_SUCH_TOKEN_VAR"]);
    let s = Service::start_env(
        &t,
        &[
            "--bundle",
            "champion/deploy/bundle",
            "--shadow",
            "challenger/deploy/bundle",
            "--audit-log",
            "a.jsonl",
            "--auth-token-env",
            "SERVE_TOKEN",
        ],
        &[("SERVE_TOKEN", "s3cret")],
    );
    let bearer = "Authorization: Bearer s3cret\r\n";
    assert_eq!(s.call("GET", "/v2/health/ready", b"").0, 200, "health stays open");
    assert_eq!(s.call("GET", "/v2/models/small", b"").0, 401);
    assert_eq!(
        s.call_with("GET", "/v2/models/small", b"", "Authorization: Bearer nope\r\n")
            .0,
        401
    );
    assert_eq!(s.call("GET", "/metrics", b"").0, 401);
    let (status, meta) = s.call_with("GET", "/v2/models/small", b"", bearer);
    assert_eq!(status, 200, "{meta}");
    let meta: Value = serde_json::from_str(&meta).unwrap();
    let body = v2_request(&meta, &raw, 0..5).to_string();
    assert_eq!(s.call("POST", "/v2/models/small/infer", body.as_bytes()).0, 401);
    let (status, r) = s.call_with("POST", "/v2/models/small/infer", body.as_bytes(), bearer);
    assert_eq!(status, 200, "{r}");
    let r: Value = serde_json::from_str(&r).unwrap();
    // The response is the champion's alone; the challenger's outputs are in the audit log.
    assert_eq!(r["model_version"], meta["versions"][0]);
    assert!(!r.to_string().contains("shadow"));
    assert!(s.stop().success());
    let log = fs_err::read_to_string(t.join("a.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 5);
    let line: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    let (champion, challenger) = (&line["output"]["pd"], &line["shadow"]["output"]["pd"]);
    assert!(challenger.is_f64() && champion != challenger, "{line}");
    assert_ne!(line["shadow"]["version"], line["version"]);
    t.run(&["audit", "verify", "a.jsonl"]).ok();
}

#[test]
fn monitor_compares_scored_data_with_the_training_reference_by_period() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(3000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    assert!(t.join("run/deploy/bundle/reference.json").is_file());
    t.run(&[
        "synth",
        "loans",
        "--rows",
        "4000",
        "--seed",
        "21",
        "--out",
        "same.parquet",
    ])
    .ok();
    // The same population: stable.
    let r = t
        .run(&[
            "monitor",
            "--bundle",
            "run/deploy/bundle",
            "--input",
            "same.parquet",
            "--out",
            "same",
            "--time-column",
            "application_date",
            "--by",
            "quarter",
        ])
        .ok();
    assert!(r.stdout.contains("all: 4000 rows"), "{}", r.stdout);
    let d = riskpipe_core::io::read_parquet(&t.join("same/drift.parquet")).unwrap();
    let (var, psi, period) = (
        d.get("variable").unwrap(),
        d.number("psi").unwrap(),
        d.get("period").unwrap(),
    );
    let all: Vec<usize> = (0..d.rows())
        .filter(|&i| period.display(i).as_deref() == Some("all"))
        .collect();
    assert!(all.len() > 5, "score and features");
    for &i in &all {
        assert!(
            psi[i] < 0.1,
            "{:?} PSI {} on the same population",
            var.display(i),
            psi[i]
        );
    }
    assert!(
        (0..d.rows()).any(|i| period.display(i).is_some_and(|p| p.contains("-Q"))),
        "quarters"
    );
    // Outcomes that arrived later: the realised AUC and default rate per period.
    let r = t
        .run(&[
            "monitor",
            "--bundle",
            "run/deploy/bundle",
            "--input",
            "same.parquet",
            "--out",
            "labelled",
            "--time-column",
            "application_date",
            "--by",
            "year",
            "--labels",
            "same.parquet",
        ])
        .ok();
    assert!(r.stdout.contains("all: 4000 labelled rows"), "{}", r.stdout);
    let p = riskpipe_core::io::read_parquet(&t.join("labelled/performance.parquet")).unwrap();
    let auc = p.number("auc").unwrap();
    assert!(auc.iter().all(|a| *a > 0.6), "{auc:?}");
    let rate = p.number("event_rate").unwrap();
    assert!(rate.iter().all(|e| (0.02..0.4).contains(e)), "{rate:?}");
    assert!(
        fs_err::read_to_string(t.join("labelled/drift.html"))
            .unwrap()
            .contains("Realised performance")
    );
    // Incomes tripled: the income CSI flags drift, and the score moves.
    let mut raw = riskpipe_core::io::read_parquet(&t.join("same.parquet")).unwrap();
    let income: Vec<f64> = raw.number("income").unwrap().iter().map(|v| v * 3.0).collect();
    raw.replace("income", Column::Number(income));
    riskpipe_core::io::write_parquet(&t.join("shifted.parquet"), &raw).unwrap();
    let r = t
        .run(&[
            "monitor",
            "--bundle",
            "run/deploy/bundle",
            "--input",
            "shifted.parquet",
            "--out",
            "shifted",
        ])
        .ok();
    assert!(r.stdout.contains("income"), "{}", r.stdout);
    let d = riskpipe_core::io::read_parquet(&t.join("shifted/drift.parquet")).unwrap();
    let i = (0..d.rows())
        .find(|&i| d.get("variable").unwrap().display(i).as_deref() == Some("income"))
        .unwrap();
    assert_eq!(d.get("flag").unwrap().display(i).as_deref(), Some("drift"));
    let html = fs_err::read_to_string(t.join("shifted/drift.html")).unwrap();
    assert!(html.contains("class=\"drift\""), "the page flags it");
    t.run(&[
        "monitor",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "same.parquet",
        "--out",
        "x",
        "--by",
        "week",
    ])
    .fails(2, &["week"]);
}

#[test]
fn bundles_reload_on_request_and_on_sighup_and_unloaded_models_are_refused() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(1500, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let s = Service::start(&t, &["--bundle", "run/deploy/bundle"]);
    let version = |s: &Service| s.json("GET", "/v2/models/small", &json!({})).1["versions"][0].clone();
    let first = version(&s);
    // A redeployed bundle (another seed) is served once loaded again.
    t.write("p.yaml", &small_pipeline(1500, "").replace("seed: 7", "seed: 8"));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    assert_eq!(version(&s), first, "served until loaded");
    assert_eq!(s.json("POST", "/v2/repository/models/small/load", &json!({})).0, 200);
    let second = version(&s);
    assert_ne!(second, first);
    assert_eq!(s.json("POST", "/v2/repository/models/nope/load", &json!({})).0, 404);
    // Unloaded: refused, listed as unavailable, and back once loaded.
    assert_eq!(s.json("POST", "/v2/repository/models/small/unload", &json!({})).0, 200);
    assert_eq!(s.json("GET", "/v2/models/small", &json!({})).0, 404);
    let (_, index) = s.json("POST", "/v2/repository/index", &json!({}));
    assert_eq!(index[0]["state"], "UNAVAILABLE", "{index}");
    assert_eq!(s.json("POST", "/v2/repository/models/small/load", &json!({})).0, 200);
    assert_eq!(version(&s), second);
    // SIGHUP reloads every bundle.
    t.write("p.yaml", &small_pipeline(1500, "").replace("seed: 7", "seed: 9"));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let pid = s.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    let mut reloaded = false;
    for _ in 0..100 {
        if version(&s) != second {
            reloaded = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(reloaded, "SIGHUP did not reload the bundle");
    assert!(s.stop().success());
}

#[test]
fn a_request_slower_than_the_timeout_gets_408_and_a_bad_timeout_is_refused() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(1000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    t.run(&["serve", "--bundle", "run/deploy/bundle", "--request-timeout-secs", "0"])
        .fails(2, &["--request-timeout-secs"]);
    let s = Service::start(&t, &["--bundle", "run/deploy/bundle", "--request-timeout-secs", "0.5"]);
    // Headers announce 100 bytes; 10 arrive and the client stalls.
    let mut c = TcpStream::connect(&s.addr).unwrap();
    write!(
        c,
        "POST /v2/models/small/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"inputs\":"
    )
    .unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    // The service is still up.
    assert_eq!(s.call("GET", "/v2/health/live", b"").0, 200);
    assert!(s.stop().success());
}

/// A client that never finishes its headers is cut off after the timeout instead of holding a
/// connection (slowloris); the service stays up.
#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(1000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let s = Service::start(&t, &["--bundle", "run/deploy/bundle", "--request-timeout-secs", "0.5"]);
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    write!(c, "GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
    let t0 = std::time::Instant::now();
    let mut raw = Vec::new();
    let read = c.read_to_end(&mut raw);
    assert!(read.is_ok(), "the connection was not closed: {read:?}");
    assert!(t0.elapsed().as_secs_f64() < 10.0, "closed after {:?}", t0.elapsed());
    assert_eq!(s.call("GET", "/v2/health/live", b"").0, 200);
    assert!(s.stop().success());
}

/// A self-signed certificate for localhost and 127.0.0.1 in `dir` (openssl's command line).
fn self_signed(t: &TestDir) {
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        .current_dir(t.path())
        .output()
        .expect("run openssl (Debian package openssl)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// With `--tls-cert` and `--tls-key` the service speaks HTTPS only: curl trusting the certificate
/// scores a row; plain HTTP gets no answer; unreadable or mismatched files are exit 2 naming them.
#[test]
fn tls_from_certificate_and_key_files() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(1000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    self_signed(&t);
    t.write("not.pem", "hello");
    // `serve` with a certificate and key that cannot serve: exit 2 naming what is wrong.
    let refused = |cert: &str, key: &str, words: &[&str]| {
        t.run(&[
            "serve",
            "--bundle",
            "run/deploy/bundle",
            "--tls-cert",
            cert,
            "--tls-key",
            key,
        ])
        .fails(2, words);
    };
    refused("not.pem", "key.pem", &["not.pem", "certificate"]);
    refused("cert.pem", "not.pem", &["not.pem", "private key"]);
    t.run(&["serve", "--bundle", "run/deploy/bundle", "--tls-cert", "cert.pem"])
        .fails(2, &["--tls-key"]);
    // A key of another certificate.
    fs_err::rename(t.join("key.pem"), t.join("key1.pem")).unwrap();
    fs_err::rename(t.join("cert.pem"), t.join("cert1.pem")).unwrap();
    self_signed(&t);
    refused("cert.pem", "key1.pem", &["key1.pem", "cert.pem"]);
    let s = Service::start(
        &t,
        &[
            "--bundle",
            "run/deploy/bundle",
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
        ],
    );
    let port = s.addr.rsplit(':').next().unwrap().to_string();
    let curl = |args: &[&str]| {
        std::process::Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert", "cert.pem"])
            .args(args)
            .current_dir(t.path())
            .output()
            .expect("run curl")
    };
    let out = curl(&[&format!("https://localhost:{port}/v2/models/small")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(meta["name"], "small");
    let records = json!({"dataframe_records": [meta["inputs"].as_array().unwrap().iter().map(|i| {
        let v = if i["datatype"] == "FP64" { json!(1.0) } else { json!("1990-01-01") };
        (i["name"].as_str().unwrap().to_string(), v)
    }).collect::<serde_json::Map<String, Value>>()]});
    t.write("body.json", &records.to_string());
    let out = curl(&[
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        "@body.json",
        &format!("https://localhost:{port}/invocations"),
    ]);
    let scored: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(scored["predictions"][0]["pd"].is_number(), "{scored}");
    // Plain HTTP to the TLS port gets no HTTP answer.
    let (status, _) = s.call("GET", "/v2/health/live", b"");
    assert_eq!(status, 0);
    assert!(s.stop().success());
}

/// `docs/openapi.json` is what `riskpipe serve --openapi` prints, and schemathesis (PyPI, in the
/// venv `tests/clients/setup_venv.sh` makes) fuzzing the live service with it, valid and invalid
/// requests alike, finds no 5xx and no response outside the description.
#[test]
#[cfg_attr(no_python3, ignore = "python3 is not installed")]
fn the_openapi_description_is_checked_in_and_schemathesis_finds_nothing() {
    let t = TestDir::new();
    let printed = t.cmd().args(["serve", "--openapi"]).output().expect("run riskpipe");
    assert!(printed.status.success());
    let doc = crate::util::repo().join("docs/openapi.json");
    let checked_in = fs_err::read_to_string(&doc).unwrap();
    assert!(
        String::from_utf8_lossy(&printed.stdout) == checked_in,
        "docs/openapi.json is not what `riskpipe serve --openapi` prints; write it again with it"
    );
    t.write("p.yaml", &small_pipeline(1000, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    let s = Service::start(&t, &["--bundle", "run/deploy/bundle", "--audit-log", "audit.jsonl"]);
    let python = std::path::PathBuf::from(clients_python());
    // Paths name the served model (else every call is a 404); unloading it is left out so the
    // rest keeps a model to call (the reload test covers unload).
    t.write("schemathesis.toml", "[parameters]\n\"path.name\" = \"small\"\n");
    let out = std::process::Command::new(python.with_file_name("schemathesis"))
        .arg("run")
        .arg(&doc)
        .args(["--url", &format!("http://{}", s.addr)])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "40",
            "--seed",
            "7",
            "--workers",
            "2",
            "--generation-database",
            "none",
            "--no-color",
            "--exclude-path-regex",
            "unload",
        ])
        .current_dir(t.path())
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("Tested: 13") && report.contains("passed"), "{report}");
    // The service survived it and its audit chain holds.
    assert_eq!(s.call("GET", "/v2/health/live", b"").0, 200);
    assert!(s.stop().success());
    t.run(&["audit", "verify", "audit.jsonl"]).ok();
}
