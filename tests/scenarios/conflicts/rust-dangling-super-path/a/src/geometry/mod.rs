pub mod shapes;

/// Keeps `value` within `[low, high]`.
pub fn bound(value: f64, low: f64, high: f64) -> f64 {
    value.max(low).min(high)
}
