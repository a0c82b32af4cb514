//! Polling with a deadline: the only way tests wait for a condition (never fixed sleeps).

use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// What one poll saw.
#[derive(Debug)]
pub enum Check<T> {
    /// The condition holds; the value is handed back.
    Ready(T),
    /// Not yet; the text describes the state observed, for the timeout error.
    NotYet(String),
}

/// Call `check` every `interval` until it is ready, for at most `timeout`.
///
/// An `Err` from `check` ends the wait at once (a daemon died, a config was refused). On timeout the
/// error names `what` and the last state observed.
pub fn wait_until<T>(
    what: &str,
    timeout: Duration,
    interval: Duration,
    mut check: impl FnMut() -> Result<Check<T>>,
) -> Result<T> {
    let start = Instant::now();
    let interval = interval.max(Duration::from_millis(1));
    // Bounded in count too, in case the clock misbehaves.
    let max_polls = timeout.as_millis() / interval.as_millis() + 2;
    let mut last = String::from("(not polled)");
    for _ in 0..max_polls {
        match check()? {
            Check::Ready(v) => return Ok(v),
            Check::NotYet(state) => last = state,
        }
        if start.elapsed() >= timeout {
            break;
        }
        thread::sleep(interval);
    }
    Err(Error::Timeout {
        what: what.to_string(),
        waited: start.elapsed(),
        last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_and_timeout() {
        let mut n = 0;
        let v = wait_until(
            "n to reach 3",
            Duration::from_secs(5),
            Duration::from_millis(1),
            || {
                n += 1;
                Ok(if n >= 3 {
                    Check::Ready(n)
                } else {
                    Check::NotYet(format!("n={n}"))
                })
            },
        );
        assert_eq!(v.unwrap(), 3);
        let e = wait_until::<()>(
            "never",
            Duration::from_millis(30),
            Duration::from_millis(5),
            || Ok(Check::NotYet("still waiting".into())),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("never") && msg.contains("still waiting"),
            "{msg}"
        );
        let e = wait_until::<()>(
            "x",
            Duration::from_secs(5),
            Duration::from_millis(1),
            || Err(Error::Other("daemon died".into())),
        );
        assert!(e.unwrap_err().to_string().contains("daemon died"));
    }
}
