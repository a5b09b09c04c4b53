//! ACD queues (`VoxEngine.enqueueACDRequest`): each application's `[[application.queue]]`s,
//! served by its users while they are registered.
//!
//! A queue is first in, first out. The request at the head is offered the first operator of
//! the queue's list who is registered, not busy with another request, and has not failed
//! this request in the last [`RETRY_AFTER`]; the requesting session rings that operator
//! (an ordinary `callUser` leg) and reports the outcome: answered (busy until the call ends),
//! failed (the request goes back to the head), ended (free again). A session that ends takes
//! its requests out and frees their operators. Queues are checked again every
//! [`DISPATCH_EVERY`], so an operator who registers picks up waiting requests.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dialtone_bindings::host::acd::{AcdCommand, AcdEvent, OperatorOutcome};
use dialtone_bindings::host::{HostEvent, HostEventSender};

use crate::config::QueueConfig;

/// What the queues need to know of the server: the queues configured now, and who is
/// registered. The call context provides it.
pub trait Operators {
    /// Application `application`'s queues, as configured now.
    fn queues(&self, application: &str) -> Vec<QueueConfig>;
    /// Whether `user` of `application` has a registered phone now.
    fn registered(&self, application: &str, user: &str) -> bool;
}

/// How often waiting requests are offered operators who became free or registered.
pub const DISPATCH_EVERY: Duration = Duration::from_secs(1);
/// An operator who failed a request is not offered it again for this long.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);
/// The handling time a queue assumes (per request) before it has seen one.
const DEFAULT_HANDLING: Duration = Duration::from_secs(120);

/// One request, waiting or being served.
#[derive(Debug)]
struct Waiter {
    session: String,
    request: String,
    events: HostEventSender,
    /// Operators who failed it, and when.
    failed: HashMap<String, Instant>,
}

/// Tells a session about its request.
fn tell(events: &HostEventSender, request: &str, event: AcdEvent) {
    let _ = events.send(HostEvent::Acd {
        request: request.to_owned(),
        event,
    });
}

impl Waiter {
    fn tell(&self, event: AcdEvent) {
        tell(&self.events, &self.request, event);
    }

    fn is(&self, session: &str, request: &str) -> bool {
        self.session == session && self.request == request
    }
}

/// An operator's request: rung, then answered.
#[derive(Debug)]
struct Serving {
    waiter: Waiter,
    answered: Option<Instant>,
}

#[derive(Debug, Default)]
struct Queue {
    waiting: VecDeque<Waiter>,
    busy: HashMap<String, Serving>,
    /// Finished calls: total handling time and count.
    handled: (Duration, u32),
}

impl Queue {
    fn handling_time(&self) -> Duration {
        match self.handled {
            (_, 0) => DEFAULT_HANDLING,
            (total, n) => total / n,
        }
    }
}

/// Every application's queues.
#[derive(Debug, Default)]
pub struct AcdQueues {
    queues: Mutex<HashMap<(String, String), Queue>>,
}

/// Where a session's command goes and whom it answers.
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    /// The session's application.
    pub application: &'a str,
    /// The session.
    pub session: &'a str,
    /// The session's events.
    pub events: &'a HostEventSender,
}

impl AcdQueues {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Queue>> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Carries out a session's command.
    pub fn command(&self, context: &dyn Operators, asker: Asker<'_>, command: &AcdCommand) {
        let tell = |request: &str, event: AcdEvent| tell(asker.events, request, event);
        match command {
            AcdCommand::Enqueue { request, queue } => {
                let Some(config) = queue_config(context, asker.application, queue) else {
                    let names: Vec<String> = context
                        .queues(asker.application)
                        .into_iter()
                        .map(|q| q.name)
                        .collect();
                    let known = if names.is_empty() {
                        "it has none; add [[application.queue]]".to_owned()
                    } else {
                        format!("queues: {}", names.join(", "))
                    };
                    tell(
                        request,
                        AcdEvent::Error {
                            error: format!(
                                "application '{}' has no queue named '{queue}' ({known})",
                                asker.application
                            ),
                        },
                    );
                    return;
                };
                if !config
                    .operators
                    .iter()
                    .any(|o| registered(context, asker.application, o))
                {
                    tell(request, AcdEvent::Offline);
                    return;
                }
                let mut queues = self.lock();
                let state = queues
                    .entry((asker.application.to_owned(), queue.clone()))
                    .or_default();
                if state.waiting.len() >= config.max_queue_size as usize {
                    tell(request, AcdEvent::QueueFull);
                    return;
                }
                state.waiting.push_back(Waiter {
                    session: asker.session.to_owned(),
                    request: request.clone(),
                    events: asker.events.clone(),
                    failed: HashMap::new(),
                });
                tell(request, AcdEvent::Queued);
                dispatch(context, asker.application, &config, state);
            }
            AcdCommand::Status { request } => {
                let queues = self.lock();
                for ((application, name), state) in queues.iter() {
                    if application != asker.application {
                        continue;
                    }
                    let place = state
                        .waiting
                        .iter()
                        .position(|w| w.is(asker.session, request))
                        .map(|at| at + 1)
                        .or_else(|| {
                            state
                                .busy
                                .values()
                                .any(|s| s.waiter.is(asker.session, request))
                                .then_some(0)
                        });
                    if let Some(position) = place {
                        let operators = queue_config(context, application, name)
                            .map(|c| {
                                c.operators
                                    .iter()
                                    .filter(|o| registered(context, application, o))
                                    .count()
                            })
                            .unwrap_or(0)
                            .max(1);
                        let wait = state.handling_time() * position as u32 / operators as u32;
                        tell(
                            request,
                            AcdEvent::Waiting {
                                position: position as u32,
                                ewt: (wait.as_secs() / 60) as u32,
                            },
                        );
                        return;
                    }
                }
            }
            AcdCommand::Cancel { request } => {
                let mut queues = self.lock();
                for state in queues.values_mut() {
                    state.waiting.retain(|w| !w.is(asker.session, request));
                    state
                        .busy
                        .retain(|_, s| !s.waiter.is(asker.session, request));
                }
            }
            AcdCommand::Operator {
                request,
                operator,
                outcome,
            } => {
                let mut queues = self.lock();
                for ((application, name), state) in queues.iter_mut() {
                    let mine = state
                        .busy
                        .get(operator)
                        .is_some_and(|s| s.waiter.is(asker.session, request));
                    if application != asker.application || !mine {
                        continue;
                    }
                    match outcome {
                        OperatorOutcome::Answered => {
                            if let Some(serving) = state.busy.get_mut(operator) {
                                serving.answered = Some(Instant::now());
                            }
                        }
                        OperatorOutcome::Failed { .. } => {
                            if let Some(mut serving) = state.busy.remove(operator) {
                                serving
                                    .waiter
                                    .failed
                                    .insert(operator.clone(), Instant::now());
                                state.waiting.push_front(serving.waiter);
                            }
                        }
                        OperatorOutcome::Ended => {
                            if let Some(serving) = state.busy.remove(operator)
                                && let Some(at) = serving.answered
                            {
                                state.handled.0 += at.elapsed();
                                state.handled.1 = state.handled.1.saturating_add(1);
                            }
                        }
                    }
                    if let Some(config) = queue_config(context, application, name) {
                        dispatch(context, application, &config, state);
                    }
                    return;
                }
            }
            _ => {}
        }
    }

    /// A session ended: its requests leave their queues, their operators are free.
    pub fn forget_session(&self, session: &str) {
        let mut queues = self.lock();
        for state in queues.values_mut() {
            state.waiting.retain(|w| w.session != session);
            state.busy.retain(|_, s| s.waiter.session != session);
        }
    }

    /// Offers every queue's head the operators who are free now.
    pub fn dispatch_all(&self, context: &dyn Operators) {
        let mut queues = self.lock();
        for ((application, name), state) in queues.iter_mut() {
            if let Some(config) = queue_config(context, application, name) {
                dispatch(context, application, &config, state);
            }
        }
        queues.retain(|_, q| !q.waiting.is_empty() || !q.busy.is_empty());
    }
}

fn queue_config(context: &dyn Operators, application: &str, queue: &str) -> Option<QueueConfig> {
    context
        .queues(application)
        .into_iter()
        .find(|q| q.name == queue)
}

fn registered(context: &dyn Operators, application: &str, operator: &str) -> bool {
    context.registered(application, operator)
}

/// Offers the head of `state` the first operator who can take it, while there is one.
fn dispatch(context: &dyn Operators, application: &str, config: &QueueConfig, state: &mut Queue) {
    while let Some(head) = state.waiting.front() {
        let now = Instant::now();
        let free = config.operators.iter().find(|operator| {
            !state.busy.contains_key(*operator)
                && head
                    .failed
                    .get(*operator)
                    .is_none_or(|at| now.duration_since(*at) >= RETRY_AFTER)
                && registered(context, application, operator)
        });
        let Some(operator) = free.cloned() else {
            return;
        };
        let Some(waiter) = state.waiting.pop_front() else {
            return;
        };
        waiter.tell(AcdEvent::Offer {
            operator: operator.clone(),
        });
        state.busy.insert(
            operator,
            Serving {
                waiter,
                answered: None,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use dialtone_bindings::host::HostEventReceiver;

    use super::*;

    /// Queue "q" of application "app": operators alice and bob, at most two waiting.
    struct Fake {
        registered: BTreeSet<&'static str>,
    }

    impl Operators for Fake {
        fn queues(&self, application: &str) -> Vec<QueueConfig> {
            if application != "app" {
                return Vec::new();
            }
            vec![QueueConfig {
                name: "q".into(),
                operators: vec!["alice".into(), "bob".into()],
                max_queue_size: 2,
            }]
        }

        fn registered(&self, _: &str, user: &str) -> bool {
            self.registered.contains(user)
        }
    }

    fn session() -> (HostEventSender, HostEventReceiver) {
        let (host, session) = dialtone_bindings::host::channel();
        (host.events, session.events)
    }

    async fn next(events: &mut HostEventReceiver) -> (String, AcdEvent) {
        match events.recv().await {
            Some(HostEvent::Acd { request, event }) => (request, event),
            other => panic!("expected an ACD event, got {other:?}"),
        }
    }

    fn enqueue(request: &str) -> AcdCommand {
        AcdCommand::Enqueue {
            request: request.into(),
            queue: "q".into(),
        }
    }

    fn outcome(request: &str, operator: &str, outcome: OperatorOutcome) -> AcdCommand {
        AcdCommand::Operator {
            request: request.into(),
            operator: operator.into(),
            outcome,
        }
    }

    #[tokio::test]
    async fn requests_are_served_first_in_first_out_and_a_failure_goes_back_to_the_head() {
        let queues = AcdQueues::default();
        let mut fake = Fake {
            registered: BTreeSet::from(["alice"]),
        };
        let (tx, mut rx) = session();
        let asker = Asker {
            application: "app",
            session: "s1",
            events: &tx,
        };
        queues.command(&fake, asker, &enqueue("acd-1"));
        assert_eq!(next(&mut rx).await, ("acd-1".into(), AcdEvent::Queued));
        assert_eq!(
            next(&mut rx).await,
            (
                "acd-1".into(),
                AcdEvent::Offer {
                    operator: "alice".into()
                }
            )
        );
        // alice is busy: the next two wait, the fourth finds the queue full.
        for request in ["acd-2", "acd-3"] {
            queues.command(&fake, asker, &enqueue(request));
            assert_eq!(next(&mut rx).await, (request.into(), AcdEvent::Queued));
        }
        queues.command(&fake, asker, &enqueue("acd-4"));
        assert_eq!(next(&mut rx).await, ("acd-4".into(), AcdEvent::QueueFull));
        queues.command(
            &fake,
            asker,
            &AcdCommand::Status {
                request: "acd-3".into(),
            },
        );
        assert_eq!(
            next(&mut rx).await,
            (
                "acd-3".into(),
                AcdEvent::Waiting {
                    position: 2,
                    ewt: 4
                }
            )
        );
        // alice fails acd-1: it goes back to the head, and she is not offered it again for
        // 30 s; the head waits (first in, first out) until bob registers and takes it, and
        // then alice takes acd-2.
        queues.command(
            &fake,
            asker,
            &outcome("acd-1", "alice", OperatorOutcome::Failed { code: 486 }),
        );
        fake.registered.insert("bob");
        queues.dispatch_all(&fake);
        assert_eq!(
            next(&mut rx).await,
            (
                "acd-1".into(),
                AcdEvent::Offer {
                    operator: "bob".into()
                }
            )
        );
        assert_eq!(
            next(&mut rx).await,
            (
                "acd-2".into(),
                AcdEvent::Offer {
                    operator: "alice".into()
                }
            )
        );
    }

    #[tokio::test]
    async fn no_registered_operator_is_offline_and_an_ended_session_lets_its_operator_go() {
        let queues = AcdQueues::default();
        let nobody = Fake {
            registered: BTreeSet::new(),
        };
        let (tx, mut rx) = session();
        let asker = Asker {
            application: "app",
            session: "s1",
            events: &tx,
        };
        queues.command(&nobody, asker, &enqueue("acd-1"));
        assert_eq!(next(&mut rx).await, ("acd-1".into(), AcdEvent::Offline));
        let elsewhere = Asker {
            application: "other",
            ..asker
        };
        queues.command(&nobody, elsewhere, &enqueue("acd-2"));
        assert_eq!(
            next(&mut rx).await,
            (
                "acd-2".into(),
                AcdEvent::Error {
                    error: "application 'other' has no queue named 'q' (it has none; add [[application.queue]])".into()
                }
            )
        );
        let alice = Fake {
            registered: BTreeSet::from(["alice"]),
        };
        queues.command(&alice, asker, &enqueue("acd-3"));
        assert_eq!(next(&mut rx).await, ("acd-3".into(), AcdEvent::Queued));
        assert!(matches!(next(&mut rx).await.1, AcdEvent::Offer { .. }));
        queues.forget_session("s1");
        // alice is free again: another session's request gets her.
        let (tx2, mut rx2) = session();
        let other = Asker {
            session: "s2",
            events: &tx2,
            ..asker
        };
        queues.command(&alice, other, &enqueue("acd-1"));
        assert_eq!(next(&mut rx2).await, ("acd-1".into(), AcdEvent::Queued));
        assert_eq!(
            next(&mut rx2).await,
            (
                "acd-1".into(),
                AcdEvent::Offer {
                    operator: "alice".into()
                }
            )
        );
    }
}
