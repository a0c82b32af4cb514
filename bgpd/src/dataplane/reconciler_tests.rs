use std::net::Ipv6Addr;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::*;
use crate::dataplane::{
    Capabilities, DataplaneError, LocalBehavior, LocalSid, MAIN_TABLE, Policy, SegmentList,
    Steering,
};

/// A backend that holds its state in memory, logs every change it is asked to make, can be
/// told to fail some kinds of change, and can "restart" (lose everything).
#[derive(Default)]
struct Fake {
    state: DataplaneState,
    log: Vec<&'static str>,
    fail_kind: Option<&'static str>,
    reads: usize,
}

#[derive(Clone)]
struct FakeBackend {
    inner: Arc<Mutex<Fake>>,
    restart: Arc<Notify>,
}

impl Dataplane for FakeBackend {
    fn name(&self) -> &'static str {
        "fake"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    async fn read(&mut self) -> Result<DataplaneState, DataplaneError> {
        let mut f = self.inner.lock().unwrap();
        f.reads += 1;
        Ok(f.state.clone())
    }
    async fn apply(&mut self, changes: &[Change]) -> Vec<Result<(), DataplaneError>> {
        let mut f = self.inner.lock().unwrap();
        changes
            .iter()
            .map(|c| {
                f.log.push(c.kind());
                if f.fail_kind == Some(c.kind()) {
                    return Err(DataplaneError::new("refused"));
                }
                c.apply_to(&mut f.state);
                Ok(())
            })
            .collect()
    }
    async fn restarted(&mut self) {
        self.restart.notified().await
    }
}

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn desired(prefixes: &[&str]) -> Arc<DataplaneState> {
    let mut s = DataplaneState {
        encap_source: Some(a("fd00::1")),
        ..Default::default()
    };
    s.add_local_sid(LocalSid {
        sid: a("fc00:0:1:1::"),
        behavior: LocalBehavior::EndDt6,
        table: MAIN_TABLE,
    });
    s.add_policy(Policy {
        bsid: a("fcff::1"),
        segment_lists: vec![SegmentList {
            segments: vec![a("fc00:0:2:1::")],
            weight: 1,
        }],
    });
    for p in prefixes {
        s.add_steering(Steering {
            table: MAIN_TABLE,
            prefix: p.parse().unwrap(),
            bsid: a("fcff::1"),
        });
    }
    Arc::new(s)
}

fn fake(state: DataplaneState) -> FakeBackend {
    FakeBackend {
        inner: Arc::new(Mutex::new(Fake {
            state,
            ..Default::default()
        })),
        restart: Arc::new(Notify::new()),
    }
}

#[tokio::test(start_paused = true)]
async fn converges_and_reports_in_sync() {
    let b = fake(DataplaneState::default());
    let (mut h, first) = spawn(b.clone(), false);
    assert!(first.await.unwrap().is_empty());
    let want = desired(&["10.2.0.0/24", "2001:db8:2::/64"]);
    h.set_desired(want.clone());
    assert!(h.wait_in_sync(Duration::from_secs(5)).await);
    let f = b.inner.lock().unwrap();
    assert_eq!(f.state, *want);
    assert_eq!(
        f.log,
        [
            "encap_source",
            "local_sid_add",
            "policy_add",
            "steering_set",
            "steering_set"
        ]
    );
    assert_eq!(h.status.borrow().applied_total, 5);
}

#[tokio::test(start_paused = true)]
async fn a_failed_change_is_retried_after_a_fresh_read() {
    let b = fake(DataplaneState::default());
    b.inner.lock().unwrap().fail_kind = Some("policy_add");
    let (mut h, _first) = spawn(b.clone(), false);
    h.set_desired(desired(&["10.2.0.0/24"]));
    tokio::time::sleep(Duration::from_millis(100)).await;
    {
        let st = h.status.borrow();
        assert!(!st.in_sync);
        assert_eq!(st.failed_total, 1);
        assert!(st.last_error.as_deref().unwrap().contains("policy_add"));
        // The steering entry into the missing policy went nowhere either (kept: the fake
        // does not check dependencies), but the policy must be retried.
        let f = b.inner.lock().unwrap();
        assert!(f.state.policies.is_empty());
    }
    b.inner.lock().unwrap().fail_kind = None;
    assert!(h.wait_in_sync(Duration::from_secs(10)).await);
    let f = b.inner.lock().unwrap();
    assert_eq!(f.state.policies.len(), 1);
    assert!(f.reads >= 2, "state read again after the failure");
}

#[tokio::test(start_paused = true)]
async fn after_a_backend_restart_everything_is_re_added_in_order() {
    let b = fake(DataplaneState::default());
    let (mut h, _first) = spawn(b.clone(), false);
    h.set_desired(desired(&["10.2.0.0/24"]));
    assert!(h.wait_in_sync(Duration::from_secs(5)).await);
    {
        let mut f = b.inner.lock().unwrap();
        f.state = DataplaneState::default();
        f.log.clear();
    }
    b.restart.notify_one();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(h.wait_in_sync(Duration::from_secs(5)).await);
    let f = b.inner.lock().unwrap();
    assert_eq!(
        f.log,
        [
            "encap_source",
            "local_sid_add",
            "policy_add",
            "steering_set"
        ]
    );
    assert_eq!(f.state, *desired(&["10.2.0.0/24"]));
}

#[tokio::test(start_paused = true)]
async fn removals_wait_until_the_hold_is_released() {
    // A restart: the backend still has last run's entries.
    let b = fake((*desired(&["10.2.0.0/24", "10.3.0.0/24"])).clone());
    let (mut h, first) = spawn(b.clone(), true);
    assert_eq!(first.await.unwrap().steering.len(), 2);
    h.set_desired(desired(&["10.2.0.0/24", "10.4.0.0/24"]));
    assert!(h.wait_in_sync(Duration::from_secs(5)).await);
    {
        let f = b.inner.lock().unwrap();
        assert_eq!(f.state.steering.len(), 3, "nothing removed while holding");
        assert!(h.status.borrow().holding_removals);
    }
    h.hold_removals(false);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(h.wait_in_sync(Duration::from_secs(5)).await);
    let f = b.inner.lock().unwrap();
    assert_eq!(f.state, *desired(&["10.2.0.0/24", "10.4.0.0/24"]));
    assert_eq!(f.log.last(), Some(&"steering_del"));
}
