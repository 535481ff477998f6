//! A PI arm's outcome (issue 18, item 3): tested in the order
//! `saturated`, `holds`, `holds-late`, `no-authority`, `lost-authority`,
//! `misses`, `undetermined`; the first that fits is given. A pure function
//! of the figures in the cell's JSON, so a map can be re-classified (and
//! checked) from its files.
use super::model::Outcome;

/// Share of the last quarter's steps above which α counts as saturated.
pub const SATURATED_SHARE: f64 = 0.5;
/// Largest mean `final_rel_err` of an arm that holds its target.
pub const HOLD_REL_ERR: f64 = 0.10;

/// A gain estimate's point, 95% interval and detectable gain (NaN where
/// there is none: every comparison with NaN fails, so a missing estimate
/// never fits an outcome that needs it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gain {
    pub g: f64,
    pub lo: f64,
    pub hi: f64,
    pub detectable: f64,
}

impl Gain {
    pub const NONE: Gain = Gain {
        g: f64::NAN,
        lo: f64::NAN,
        hi: f64::NAN,
        detectable: f64::NAN,
    };
}

/// What [`classify`] reads, all from the cell's JSON.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// The arm's `alpha_saturated` (share of the last quarter at the clip).
    pub alpha_saturated: f64,
    /// The arm's `final_rel_err` (mean over its seeds).
    pub final_rel_err: f64,
    /// The arm's `settling_step` (median over seeds; `None`: the median
    /// seed never settled).
    pub settling_step: Option<f64>,
    /// Steps of the run.
    pub horizon: usize,
    /// The cell's pooled paired `g`.
    pub g: Gain,
    /// The cell's drift `b`.
    pub b: f64,
    /// `g` at the initial entropy (the first window of `g_windows`).
    pub g_initial: Gain,
    /// `g` at the target's entropy level (the window whose mean entropy
    /// is nearest the arm's target).
    pub g_at_target: Gain,
}

/// The outcome of a PI arm (definitions exactly as issue 18, item 3; this
/// order, the first that fits):
/// - `saturated`: |α| at its clip on more than half of the last quarter's
///   steps, whatever the error;
/// - `holds`: mean `final_rel_err` ≤ 0.10 and the median settling step
///   (band |e| ≤ 0.1·H_tar, no floor) at most half the horizon;
/// - `holds-late`: mean `final_rel_err` ≤ 0.10 and settled, later;
/// - `no-authority`: the cell's paired g has detectable g < |b| and the
///   upper end of its interval < |b|;
/// - `lost-authority`: g significantly above 0 at the initial entropy
///   (interval above 0) but its interval below |b| at the target's level;
/// - `misses`: g significantly above 0 at the target's level, still off
///   target;
/// - `undetermined`: anything else.
pub fn classify(e: &Evidence) -> Outcome {
    let b = e.b.abs();
    let holds = e.final_rel_err <= HOLD_REL_ERR;
    if e.alpha_saturated > SATURATED_SHARE {
        Outcome::Saturated
    } else if holds && e.settling_step.is_some_and(|s| s <= e.horizon as f64 / 2.0) {
        Outcome::Holds
    } else if holds && e.settling_step.is_some() {
        Outcome::HoldsLate
    } else if e.g.detectable < b && e.g.hi < b {
        Outcome::NoAuthority
    } else if e.g_initial.lo > 0.0 && e.g_at_target.hi < b {
        Outcome::LostAuthority
    } else if e.g_at_target.lo > 0.0 {
        Outcome::Misses
    } else {
        Outcome::Undetermined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gain(g: f64, half: f64, detectable: f64) -> Gain {
        Gain {
            g,
            lo: g - half,
            hi: g + half,
            detectable,
        }
    }

    /// Evidence that fits nothing but `undetermined`: not saturated, off
    /// target, never settled, g detectable above |b|, no window evidence.
    fn base() -> Evidence {
        Evidence {
            alpha_saturated: 0.1,
            final_rel_err: 0.5,
            settling_step: None,
            horizon: 300,
            g: gain(0.01, 0.02, 0.03),
            b: 0.001,
            g_initial: Gain::NONE,
            g_at_target: Gain::NONE,
        }
    }

    #[test]
    fn undetermined_when_nothing_fits() {
        assert_eq!(classify(&base()), Outcome::Undetermined);
    }

    /// Saturation wins over everything, even an arm on target.
    #[test]
    fn saturated_first_whatever_the_error() {
        let e = Evidence {
            alpha_saturated: 0.51,
            final_rel_err: 0.0,
            settling_step: Some(10.0),
            ..base()
        };
        assert_eq!(classify(&e), Outcome::Saturated);
        // exactly half is not more than half
        let e = Evidence {
            alpha_saturated: 0.5,
            ..e
        };
        assert_eq!(classify(&e), Outcome::Holds);
    }

    #[test]
    fn holds_and_holds_late_split_at_half_the_horizon() {
        let on = Evidence {
            final_rel_err: 0.10,
            settling_step: Some(150.0),
            ..base()
        };
        assert_eq!(classify(&on), Outcome::Holds);
        let late = Evidence {
            settling_step: Some(151.0),
            ..on
        };
        assert_eq!(classify(&late), Outcome::HoldsLate);
        // on target on average but the median seed never settled: not held
        let unsettled = Evidence {
            settling_step: None,
            ..on
        };
        assert_eq!(classify(&unsettled), Outcome::Undetermined);
        // settled early but the mean error is above 10%: not held
        let off = Evidence {
            final_rel_err: 0.11,
            ..on
        };
        assert_eq!(classify(&off), Outcome::Undetermined);
    }

    /// Both conditions are needed: detectable g and the interval's upper
    /// end below |b| (whatever b's sign).
    #[test]
    fn no_authority_needs_power_and_a_small_upper_end() {
        let e = Evidence {
            g: gain(0.0001, 0.0004, 0.0008),
            b: -0.001,
            ..base()
        };
        assert_eq!(classify(&e), Outcome::NoAuthority);
        // power too low: detectable g above |b|
        let weak = Evidence {
            g: gain(0.0001, 0.0004, 0.0012),
            ..e
        };
        assert_ne!(classify(&weak), Outcome::NoAuthority);
        // interval reaches |b|
        let wide = Evidence {
            g: gain(0.0008, 0.0004, 0.0008),
            ..e
        };
        assert_ne!(classify(&wide), Outcome::NoAuthority);
        // no estimate at all: never no-authority
        let none = Evidence { g: Gain::NONE, ..e };
        assert_eq!(classify(&none), Outcome::Undetermined);
    }

    #[test]
    fn lost_authority_needs_gain_at_the_start_and_none_at_the_target() {
        let e = Evidence {
            g_initial: gain(0.01, 0.005, 0.01),
            g_at_target: gain(0.0002, 0.0005, 0.001),
            ..base()
        };
        assert_eq!(classify(&e), Outcome::LostAuthority);
        // the start's interval touches 0: not shown to have had authority
        let e2 = Evidence {
            g_initial: gain(0.004, 0.005, 0.01),
            ..e
        };
        assert_eq!(classify(&e2), Outcome::Undetermined);
    }

    #[test]
    fn misses_when_g_is_significant_at_the_target_level() {
        let e = Evidence {
            g_initial: gain(0.01, 0.005, 0.01),
            g_at_target: gain(0.01, 0.005, 0.01),
            ..base()
        };
        assert_eq!(classify(&e), Outcome::Misses);
        let e = Evidence {
            g_initial: Gain::NONE,
            ..e
        };
        assert_eq!(classify(&e), Outcome::Misses);
    }

    /// The order: an arm that fits `no-authority` and `misses` is
    /// `no-authority`; one that fits `holds` and `no-authority` holds.
    #[test]
    fn the_first_outcome_that_fits_is_given() {
        let both = Evidence {
            g: gain(0.0001, 0.0004, 0.0008),
            g_at_target: gain(0.01, 0.005, 0.01),
            ..base()
        };
        assert_eq!(classify(&both), Outcome::NoAuthority);
        let held = Evidence {
            final_rel_err: 0.05,
            settling_step: Some(20.0),
            ..both
        };
        assert_eq!(classify(&held), Outcome::Holds);
    }
}
