//! Statistics and formatting: the median of the rounds, and numbers as the report prints them.

pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

pub fn fmt_int(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let s = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration given in microseconds, in µs or ms.
pub fn fmt_us(us: f64) -> String {
    if !us.is_finite() {
        "–".into()
    } else if us < 1_000.0 {
        format!("{us:.0} µs")
    } else if us < 100_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.0} ms", us / 1e3)
    }
}

pub fn fmt_ratio(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x >= 100.0 {
        format!("{x:.0}×")
    } else if x >= 10.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

pub fn fmt_mb(kib: f64) -> String {
    if !kib.is_finite() || kib == 0.0 {
        "–".into()
    } else {
        format!("{:.1} MB", kib * 1024.0 / 1e6)
    }
}
