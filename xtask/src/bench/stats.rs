//! Order statistics of a sample: median, quartiles, extremes.

/// Median, quartiles and extremes of a non-empty sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of values.
    pub count: usize,
    /// Smallest value.
    pub min: f64,
    /// 25th percentile.
    pub p25: f64,
    /// 50th percentile.
    pub median: f64,
    /// 75th percentile.
    pub p75: f64,
    /// Largest value.
    pub max: f64,
}

impl Summary {
    /// Summarizes `values`; `None` when empty or when a value is NaN.
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.iter().any(|v| v.is_nan()) {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Self {
            count: sorted.len(),
            min: *sorted.first()?,
            p25: percentile(&sorted, 25.0)?,
            median: percentile(&sorted, 50.0)?,
            p75: percentile(&sorted, 75.0)?,
            max: *sorted.last()?,
        })
    }

    /// The interquartile range, `p75 - p25`.
    pub fn iqr(&self) -> f64 {
        self.p75 - self.p25
    }
}

/// The `p`th percentile (0 to 100) of `sorted` (ascending), interpolating
/// linearly between the two nearest ranks (the "type 7" definition used by
/// R and NumPy by default). The 50th percentile is the usual median: the
/// middle value, or the mean of the two middle values. `None` when `sorted`
/// is empty or `p` is out of range.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let below = rank.floor() as usize;
    let above = rank.ceil() as usize;
    let low = *sorted.get(below)?;
    let high = *sorted.get(above)?;
    Some(low + (high - low) * (rank - below as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_samples() {
        assert_eq!(percentile(&[7.0], 50.0), Some(7.0));
        assert_eq!(percentile(&[1.0, 2.0, 10.0], 50.0), Some(2.0));
        assert_eq!(percentile(&[1.0, 2.0, 4.0, 10.0], 50.0), Some(3.0));
    }

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let sorted = [10.0, 20.0, 30.0, 40.0, 50.0];
        assert_eq!(percentile(&sorted, 0.0), Some(10.0));
        assert_eq!(percentile(&sorted, 25.0), Some(20.0));
        assert_eq!(percentile(&sorted, 75.0), Some(40.0));
        assert_eq!(percentile(&sorted, 100.0), Some(50.0));
        assert_eq!(percentile(&sorted, 10.0), Some(14.0));
        // Four values: rank 0.75 for p25 and 2.25 for p75.
        let four = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&four, 25.0), Some(1.75));
        assert_eq!(percentile(&four, 75.0), Some(3.25));
    }

    #[test]
    fn percentile_rejects_empty_and_out_of_range() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[1.0], -1.0), None);
        assert_eq!(percentile(&[1.0], 100.5), None);
        assert_eq!(percentile(&[1.0], f64::NAN), None);
    }

    #[test]
    fn summary_sorts_its_input() {
        let summary = Summary::of(&[5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
        assert_eq!(
            summary,
            Summary {
                count: 5,
                min: 1.0,
                p25: 2.0,
                median: 3.0,
                p75: 4.0,
                max: 5.0,
            }
        );
        assert_eq!(summary.iqr(), 2.0);
    }

    #[test]
    fn summary_of_nothing_or_nan_is_none() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
    }
}
