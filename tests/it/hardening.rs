//! Hardening: unusual but plausible input gets exit 2 and a named culprit, never a panic, a
//! half-written artifact, a lost file or a silent change of meaning.

use std::path::Path;

use crate::util::{TestDir, small_pipeline};

fn csv_pipeline(extra: &str) -> String {
    format!("version: 1\nname: hard\ntask: credit_scoring\ndata:\n  path: d.csv\n  target: y\n{extra}")
}

/// A CSV of `n` rows: `x` informative, `y` 0/1, and the extra columns given as (header, cell(i)).
fn csv(n: usize, extra: &[(&str, &dyn Fn(usize) -> String)]) -> String {
    let mut s = String::from("x,y");
    for (h, _) in extra {
        s.push(',');
        s.push_str(h);
    }
    s.push('\n');
    for i in 0..n {
        let y = usize::from(i % 3 == 0);
        s.push_str(&format!("{},{y}", (i * 7919) % 1000 + 400 * y));
        for (_, f) in extra {
            s.push(',');
            s.push_str(&f(i));
        }
        s.push('\n');
    }
    s
}

/// Runs `yaml` on `data` in a fresh folder: exit 2 with every needle, and nothing left behind.
fn refused(data: &str, yaml: &str, needles: &[&str]) {
    let t = refused_later(data, yaml, needles);
    assert!(!t.join("out").exists(), "a failed run left its run folder behind");
}

/// As [`refused`], for a problem found after the first stages succeeded; no temporary folder.
fn refused_later(data: &str, yaml: &str, needles: &[&str]) -> TestDir {
    let t = TestDir::new();
    t.write("d.csv", data);
    t.write("p.yaml", yaml);
    let r = t.run(&["run", "p.yaml", "--run-dir", "out/run"]).fails(2, needles);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    if let Ok(dir) = fs_err::read_dir(t.join("out/run")) {
        for e in dir.filter_map(|e| e.ok()) {
            assert!(
                !e.file_name().to_string_lossy().contains(".tmp-"),
                "temporary folder left"
            );
        }
    }
    t
}

#[test]
fn names_riskpipe_writes_are_refused_as_source_columns() {
    let i = |i: usize| i.to_string();
    for col in ["source_row", "row", "woe_x", "x__missing"] {
        refused(&csv(200, &[(col, &i)]), &csv_pipeline(""), &[col, "reserved", "rename"]);
    }
    // A target named `row`, an id named `score` or `reason_2`: the pipeline file is refused.
    let data = csv(200, &[("row", &i)]).replace("x,y,row", "x,zz,row");
    refused(
        &data,
        &csv_pipeline("").replace("target: y", "target: row"),
        &["data.target", "reserves"],
    );
    for id in ["score", "reason_2"] {
        refused(
            &csv(200, &[(id, &i)]),
            &csv_pipeline(&format!("  id: {id}\n")),
            &["data.id", "reserves"],
        );
    }
    // A feature called `score` is fine: scoring output does not carry features.
    let t = TestDir::new();
    t.write("d.csv", &csv(300, &[("score", &i)]));
    t.write("p.yaml", &csv_pipeline(""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
}

#[test]
fn nothing_left_to_fit_names_the_filter_and_the_best_iv() {
    let noise = |i: usize| ((i * 37) % 11).to_string();
    let data = csv(600, &[("noise", &noise)]);
    let yaml = csv_pipeline("features:\n  selection:\n    min_iv: 50\n");
    let t = TestDir::new();
    t.write("d.csv", &data);
    t.write("p.yaml", &yaml);
    // Raised by the train stage, named with the pipeline file by the runner.
    t.run(&["run", "p.yaml", "--run-dir", "run"])
        .fails(2, &["error: p.yaml: train.models.logistic", "min_iv", "best", "`x`"]);
    assert!(!t.join("run/train").exists());
    let left: Vec<_> = fs_err::read_dir(t.join("run"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(left.is_empty(), "temporary stage folder left behind");
}

#[test]
fn type_inference_never_demotes_a_number_column_silently() {
    // 20 bad cells in 100 (the old rule's 1 % let this through as text).
    let bad20 = |i: usize| {
        if i.is_multiple_of(5) {
            "n/a-ish".to_string()
        } else {
            i.to_string()
        }
    };
    refused(
        &csv(100, &[("income", &bad20)]),
        &csv_pipeline(""),
        &["`income`", "80 of 100", "20 are not", "row 1: `n/a-ish`", "data.schema"],
    );
    // 80 infinite values in 100.
    let inf80 = |i: usize| {
        if i.is_multiple_of(5) {
            i.to_string()
        } else {
            "inf".to_string()
        }
    };
    refused(
        &csv(100, &[("income", &inf80)]),
        &csv_pipeline(""),
        &["`income`", "80 are not", "`inf`"],
    );
    // Declared as text, the same column is kept as text; a mostly-text column is text, stated.
    let t = TestDir::new();
    let code = |i: usize| {
        if i.is_multiple_of(4) {
            i.to_string()
        } else {
            format!("A{i}")
        }
    };
    t.write("d.csv", &csv(300, &[("income", &bad20), ("code", &code)]));
    t.write("p.yaml", &csv_pipeline("  schema: { income: text }\n"));
    let r = t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    assert!(r.stderr.contains("Column `code` read as text"), "{}", r.stderr);
    let q: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(t.join("run/ingest/quality.json")).unwrap()).unwrap();
    assert!(q["read_as_text"]["code"].as_str().unwrap().contains("75 of 300"), "{q}");
    let html = fs_err::read_to_string(t.join("run/evaluate/report.html")).unwrap();
    assert!(html.contains("read as text by the type-inference rule"));
}

#[test]
fn ids_must_identify_rows_and_differ_from_the_target() {
    let dup = |i: usize| (if i == 150 { 3 } else { i }).to_string();
    refused(
        &csv(200, &[("id", &dup)]),
        &csv_pipeline("  id: id\n"),
        &["id `3`", "row 151", "row 4"],
    );
    refused(
        &csv(200, &[]),
        &csv_pipeline("  id: y\n"),
        &["data.id", "also `data.target`"],
    );
    let i = |i: usize| i.to_string();
    refused(
        &csv(200, &[("id", &i)]),
        &csv_pipeline("  id: id\nprivacy:\n  columns:\n    id: { action: drop }\n"),
        &["privacy.columns.id.action", "use `hash`"],
    );
}

#[test]
fn time_split_refuses_rows_without_a_date() {
    let date = |i: usize| {
        if i == 17 {
            String::new()
        } else {
            format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1)
        }
    };
    refused_later(
        &csv(300, &[("d", &date)]),
        &csv_pipeline("features:\n  split: time\n  time_column: d\n"),
        &["row 18", "`d`", "1 rows have no date"],
    );
}

#[test]
fn every_yaml_problem_is_reported_at_once() {
    let yaml =
        csv_pipeline("features:\n  test_fractoin: 0.3\n  max_bins: 5\ntrain:\n  cv_fold: 3\n  select: nonsense\n")
            .replace("task: credit_scoring", "task: credit_scoring\nseeds: 3");
    let r = {
        let t = TestDir::new();
        t.write("d.csv", &csv(100, &[]));
        t.write("p.yaml", &yaml);
        t.run(&["validate", "p.yaml"])
    };
    let r = r.fails(
        2,
        &["seeds", "test_fractoin", "max_bins", "cv_fold", "unknown `nonsense`"],
    );
    assert!(r.stderr.contains("p.yaml:4:"), "{}", r.stderr);
}

#[test]
fn bad_files_are_user_errors() {
    let t = TestDir::new();
    // A truncated Parquet file as data.
    t.run(&["synth", "loans", "--rows", "500", "--out", "l.parquet"]).ok();
    let bytes = fs_err::read(t.join("l.parquet")).unwrap();
    fs_err::write(t.join("cut.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    t.write(
        "p.yaml",
        "version: 1\nname: p\ntask: credit_scoring\ndata: { path: cut.parquet, target: default_flag }\n",
    );
    t.run(&["run", "p.yaml"]).fails(2, &["cut.parquet", "Parquet"]);
    // data.path is a folder.
    fs_err::create_dir(t.join("folder.csv")).unwrap();
    t.write(
        "q.yaml",
        "version: 1\nname: q\ntask: credit_scoring\ndata: { path: folder.csv, target: y }\n",
    );
    t.run(&["run", "q.yaml"]).fails(2, &["folder.csv", "is a folder"]);
    // The pipeline file is a folder, or binary.
    t.run(&["run", "."]).fails(2, &["is a folder"]);
    fs_err::write(t.join("bin.yaml"), [0xffu8, 0xfe, 0x00, 0x81]).unwrap();
    t.run(&["validate", "bin.yaml"])
        .fails(2, &["bin.yaml", "not a text file"]);
    // A run id that climbs out of runs/.
    t.run(&["run", "p.yaml", "--run-id", "../../../x"])
        .fails(2, &["--run-id"]);
    assert!(!t.path().parent().unwrap().join("x").exists());
}

/// A small trained run in `t` at `run`, and a CSV of applications.
fn deployed(t: &TestDir) {
    t.write("p.yaml", &small_pipeline(1500, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    t.run(&["synth", "loans", "--rows", "300", "--seed", "9", "--out", "apps.csv"])
        .ok();
}

#[test]
fn score_never_overwrites_its_input() {
    let t = TestDir::new();
    deployed(&t);
    let before = fs_err::read(t.join("apps.csv")).unwrap();
    fs_err::create_dir(t.join("x")).unwrap();
    for out in ["apps.csv", "./x/../apps.csv"] {
        t.run(&[
            "score",
            "--bundle",
            "run/deploy/bundle",
            "--input",
            "apps.csv",
            "--output",
            out,
        ])
        .fails(2, &["is the input file", "--output"]);
        assert_eq!(fs_err::read(t.join("apps.csv")).unwrap(), before);
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(t.join("apps.csv"), t.join("link.csv")).unwrap();
        t.run(&[
            "score",
            "--bundle",
            "run/deploy/bundle",
            "--input",
            "apps.csv",
            "--output",
            "link.csv",
        ])
        .fails(2, &["is the input file"]);
        assert_eq!(fs_err::read(t.join("apps.csv")).unwrap(), before);
    }
    // A bad batch size is refused, not ignored; a failed score leaves no file.
    t.run_env(
        &[
            "score",
            "--bundle",
            "run/deploy/bundle",
            "--input",
            "apps.csv",
            "--output",
            "s.csv",
        ],
        &[("RISKPIPE_BATCH_ROWS", Some("lots"))],
    )
    .fails(2, &["RISKPIPE_BATCH_ROWS", "`lots`"]);
    assert!(!t.join("s.csv").exists());
    // The wrong key says so (the id is pseudonymised here, so scoring needs the key).
    t.write(
        "h.yaml",
        &small_pipeline(1500, "").replace(
            "    name: { action: drop }",
            "    name: { action: drop }\n    id: { action: hash }",
        ),
    );
    t.run(&["run", "h.yaml", "--run-dir", "hrun"]).ok();
    t.run_env(
        &[
            "score",
            "--bundle",
            "hrun/deploy/bundle",
            "--input",
            "apps.csv",
            "--output",
            "s.csv",
        ],
        &[("RISKPIPE_MASK_KEY", Some("another key"))],
    )
    .fails(2, &["RISKPIPE_MASK_KEY", "holds a different key"]);
    let leftovers: Vec<_> = fs_err::read_dir(t.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn the_bundle_is_sealed() {
    let t = TestDir::new();
    deployed(&t);
    let bundle = t.join("run/deploy/bundle");
    let score = |t: &TestDir| {
        t.run(&[
            "score",
            "--bundle",
            "run/deploy/bundle",
            "--input",
            "apps.csv",
            "--output",
            "s.csv",
        ])
    };
    score(&t).ok();
    // An added calibration file: refused by score, reported by verify.
    fs_err::write(bundle.join("calibration.json"), r#"{"method":"platt","a":5.0,"b":0.0}"#).unwrap();
    score(&t).fails(2, &["calibration.json", "not in its bundle_manifest.json"]);
    t.run(&["verify", "run"])
        .fails(1, &["deploy/bundle/calibration.json", "not in its manifest"]);
    fs_err::remove_file(bundle.join("calibration.json")).unwrap();
    // A changed file and a missing file.
    let model = bundle.join("model.json");
    let text = fs_err::read_to_string(&model).unwrap();
    fs_err::write(&model, text.replacen('1', "2", 1)).unwrap();
    score(&t).fails(2, &["model.json", "has changed"]);
    fs_err::write(&model, &text).unwrap();
    let csv = fs_err::read(bundle.join("scorecard.csv")).unwrap();
    fs_err::remove_file(bundle.join("scorecard.csv")).unwrap();
    score(&t).fails(2, &["scorecard.csv", "missing"]);
    fs_err::write(bundle.join("scorecard.csv"), csv).unwrap();
    score(&t).ok();
}

#[test]
fn verify_names_a_deleted_manifest() {
    let t = TestDir::new();
    deployed(&t);
    fs_err::remove_file(t.join("run/features/manifest.json")).unwrap();
    let r = t
        .run(&["verify", "run"])
        .fails(1, &["features/manifest.json: missing", "--stage features --force"]);
    assert!(
        !r.stderr.contains("riskpipe-verify-"),
        "blames the scratch folder: {}",
        r.stderr
    );
    assert!(r.stderr.contains("train/: not re-executed"), "{}", r.stderr);
}

#[test]
fn a_run_folder_has_one_writer_at_a_time() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(1500, ""));
    fs_err::create_dir_all(t.join("run")).unwrap();
    // Another process holds the lock (this test process, through the same OS lock).
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(t.join("run/.lock"))
        .unwrap();
    f.lock().unwrap();
    fs_err::write(t.join("run/.lock"), "424242").unwrap();
    t.run(&["run", "p.yaml", "--run-dir", "run"])
        .fails(2, &["in use by riskpipe process 424242", "--wait"]);
    t.run(&["run", "p.yaml", "--run-dir", "run", "--stage", "ingest"])
        .fails(2, &["in use"]);
    t.run(&["verify", "run"]).fails(2, &["in use"]);
    assert!(t.join("run/.lock").exists(), "the holder's lock file was removed");
    // With --wait the run queues behind the holder and then succeeds.
    let child = t
        .cmd()
        .args(["run", "p.yaml", "--run-dir", "run", "--wait"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(!t.join("run/ingest").exists(), "ran while the folder was locked");
    drop(f);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(t.join("run/deploy/bundle/bundle.json").exists());
}

#[test]
fn leftovers_of_a_killed_run_are_removed_and_reported() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(1500, ""));
    t.run(&["run", "p.yaml", "--run-dir", "run", "--stage", "ingest"]).ok();
    // What a killed process leaves: a temporary stage folder named after a pid that is gone.
    let dead = t.join("run/.privacy.tmp-999999999");
    fs_err::create_dir_all(&dead).unwrap();
    fs_err::write(dead.join("data.parquet"), "half").unwrap();
    // And the raw table re-executed for a stage that read it after it left the run folder.
    let raw = t.join("run/.raw.tmp-999999998");
    fs_err::create_dir_all(raw.join("ingest")).unwrap();
    fs_err::write(raw.join("ingest/data.parquet"), "raw").unwrap();
    let r = t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    assert!(!dead.exists() && !raw.exists());
    assert!(r.stderr.contains("removed .privacy.tmp-999999999"), "{}", r.stderr);
    assert!(r.stderr.contains("removed .raw.tmp-999999998"), "{}", r.stderr);
}

#[test]
#[cfg_attr(no_python3, ignore = "python3 is not installed")]
fn dag_commands_receive_hostile_paths_unchanged() {
    let python = crate::util::tool("python3");
    let t = TestDir::new();
    // A stand-in `airflow` package that records each operator, and a stand-in `riskpipe` that
    // prints its arguments one per line (NUL-separated).
    t.write(
        "stub/airflow/__init__.py",
        "class DAG:\n    def __init__(self, **kw):\n        self.kw = kw\n    def __enter__(self):\n        return self\n    def __exit__(self, *a):\n        return False\n",
    );
    t.write("stub/airflow/operators/__init__.py", "");
    t.write(
        "stub/airflow/operators/bash.py",
        "OPS = []\nclass BashOperator:\n    def __init__(self, task_id, bash_command):\n        self.task_id = task_id\n        self.bash_command = bash_command\n        OPS.append(self)\n    def __rshift__(self, other):\n        return other\n",
    );
    t.write("bin/riskpipe", "#!/bin/sh\nprintf '%s\\0' \"$@\"\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(t.join("bin/riskpipe"), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let hostile = "run'$(touch PWNED)'`touch PWNED2` \"x\"\n$HOME;x";
    let dir = t.join("odd 'dir' $(x)");
    fs_err::create_dir_all(&dir).unwrap();
    fs_err::write(dir.join("p.yaml"), small_pipeline(100, "")).unwrap();
    let pipeline = dir.join("p.yaml");
    t.run(&[
        "dag",
        pipeline.to_str().unwrap(),
        "--airflow",
        "--out",
        "dag.py",
        "--run-dir",
        hostile,
    ])
    .ok();
    let script = format!(
        "import sys, subprocess\nsys.path.insert(0, 'stub')\nimport runpy\nrunpy.run_path('dag.py')\nfrom airflow.operators.bash import OPS\nassert len(OPS) == 6, len(OPS)\nfor op in OPS:\n    out = subprocess.run(['bash', '-c', op.bash_command], capture_output=True, check=True, env={{'PATH': '{}:/usr/bin:/bin'}}).stdout\n    sys.stdout.write(repr(out.split(b'\\0')[:-1]) + '\\n')\n",
        t.join("bin").display()
    );
    t.write("check.py", &script);
    let out = std::process::Command::new(&python)
        .arg("check.py")
        .current_dir(t.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 6);
    for (line, stage) in lines
        .iter()
        .zip(["ingest", "privacy", "features", "train", "evaluate", "deploy"])
    {
        let want = format!(
            "[b'run', {}, b'--stage', b'{stage}', b'--run-dir', {}, b'--log-format', b'json']",
            py_bytes(pipeline.to_str().unwrap()),
            py_bytes(hostile)
        );
        assert_eq!(*line, want);
    }
    assert!(!t.join("PWNED").exists() && !t.join("PWNED2").exists());
}

/// Python's `repr` of the bytes of an ASCII string.
fn py_bytes(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[test]
fn dag_write_failures_are_errors() {
    let t = TestDir::new();
    t.write("p.yaml", &small_pipeline(100, ""));
    if Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = t
            .cmd()
            .args(["dag", "p.yaml", "--airflow"])
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("standard output"));
    }
}

/// Rewrites an MLP's layers so that every prediction is NaN: hidden units at 1.7e308, output
/// weights of alternating sign, whose products are +inf and -inf.
fn poison_mlp(path: &Path) {
    let mut m: serde_json::Value = serde_json::from_str(&fs_err::read_to_string(path).unwrap()).unwrap();
    let model = if m.get("layers").is_some() {
        &mut m
    } else {
        &mut m["model"]
    };
    let layers = model["layers"].as_array_mut().unwrap();
    let last = layers.len() - 1;
    for (k, layer) in layers.iter_mut().enumerate() {
        let n = layer["w"].as_array().unwrap().len();
        let w: Vec<f64> = (0..n)
            .map(|i| {
                if k < last {
                    0.0
                } else if i % 2 == 0 {
                    1e308
                } else {
                    -1e308
                }
            })
            .collect();
        layer["w"] = serde_json::json!(w);
        let nb = layer["b"].as_array().unwrap().len();
        layer["b"] = serde_json::json!(vec![if k < last { 1.7e308 } else { 0.0 }; nb]);
    }
    fs_err::write(path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
}

#[test]
fn non_finite_pds_are_errors_naming_the_model_and_row() {
    let t = TestDir::new();
    t.write(
        "p.yaml",
        &small_pipeline(1500, "    mlp: { hidden: [[4]], max_epochs: 2 }\n  select: mlp\n"),
    );
    t.run(&["run", "p.yaml", "--run-dir", "run"]).ok();
    t.run(&["synth", "loans", "--rows", "50", "--seed", "9", "--out", "apps.csv"])
        .ok();
    // A bundle whose model gives NaN, resealed by hand: score names the model and the first row.
    let bundle = t.join("run/deploy/bundle");
    poison_mlp(&bundle.join("model.json"));
    let seal_path = bundle.join("bundle_manifest.json");
    let mut seal: serde_json::Value = serde_json::from_str(&fs_err::read_to_string(&seal_path).unwrap()).unwrap();
    for f in seal["files"].as_array_mut().unwrap() {
        let p = bundle.join(f["path"].as_str().unwrap());
        f["sha256"] = serde_json::json!(riskpipe_core::hash::sha256_file(&p).unwrap());
    }
    fs_err::write(&seal_path, serde_json::to_string_pretty(&seal).unwrap()).unwrap();
    t.run(&[
        "score",
        "--bundle",
        "run/deploy/bundle",
        "--input",
        "apps.csv",
        "--output",
        "s.csv",
    ])
    .fails(2, &["row 1", "the mlp model gives a PD of NaN"]);
    assert!(!t.join("s.csv").exists());
    // The same model in the train stage's folder: evaluate refuses it (a bug, exit 1).
    poison_mlp(&t.join("run/train/mlp.json"));
    t.run(&["run", "p.yaml", "--run-dir", "run", "--stage", "evaluate"])
        .fails(1, &["the mlp model gives a PD of NaN", "row 1"]);
}
