//! SIGINT / SIGTERM during `entropic run`: the first signal sets a flag the
//! seeds check before every step (so finished seeds are kept and the report
//! of what finished is written); the handler then restores the default
//! action, so a second Ctrl-C ends the process at once.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Set by the first SIGINT or SIGTERM.
pub static STOP: AtomicBool = AtomicBool::new(false);
/// The signal number that set [`STOP`] (0 before).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only atomics and signal(2), both async-signal-safe.
    SIGNAL.store(sig, Ordering::SeqCst);
    STOP.store(true, Ordering::SeqCst);
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
    }
}

/// Installs the handler for SIGINT and SIGTERM.
pub fn install() {
    let h = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only touches atomics and calls signal(2).
    unsafe {
        libc::signal(libc::SIGINT, h);
        libc::signal(libc::SIGTERM, h);
    }
}

/// The signal received, if any: its name and number.
pub fn received() -> Option<(&'static str, i32)> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s if s == libc::SIGINT => Some(("SIGINT", s)),
        s if s == libc::SIGTERM => Some(("SIGTERM", s)),
        s => Some(("signal", s)),
    }
}
