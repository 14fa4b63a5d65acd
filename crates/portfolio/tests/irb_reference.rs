//! riskpipe's IRB risk weights against an independent computation with scipy's normal
//! distribution (`bench/irb_reference.py` writes `irb_reference.csv`): 3,600 exposures over
//! class, PD (below and above the floor), LGD, maturity (inside and outside [1, 5] years) and
//! SME sales, each equal to 1e-9.

use riskpipe_portfolio::irb::{Exposure, ExposureClass, IrbParams, capital};

#[test]
fn risk_weights_equal_an_independent_computation() {
    let text = fs_err::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/irb_reference.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("class,pd,lgd,maturity,sales,risk_weight"));
    let mut n = 0;
    let mut worst = 0.0f64;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let class = ExposureClass::ALL
            .into_iter()
            .find(|c| c.name() == f[0])
            .unwrap_or_else(|| panic!("class {}", f[0]));
        let num = |s: &str| s.parse::<f64>().unwrap();
        let e = Exposure {
            class,
            pd: num(f[1]),
            lgd: num(f[2]),
            ead: 1.0,
            maturity: num(f[3]),
            sales: (!f[4].is_empty()).then(|| num(f[4])),
        };
        let got = capital(&e, &IrbParams::default()).unwrap().risk_weight;
        let want = num(f[5]);
        worst = worst.max((got - want).abs());
        assert!((got - want).abs() < 1e-9, "{line}: riskpipe {got}");
        n += 1;
    }
    assert_eq!(n, 3600);
    eprintln!("largest difference {worst:e} over {n} exposures");
}
