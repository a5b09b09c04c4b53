//! The op behind `ApplicationStorage`: `storage(method, key, value, number) -> id`, run on a
//! blocking thread against the host's store; the outcome settles the facade's promise.

use std::rc::Rc;

use rquickjs::{Ctx, Function, Object, Result};
use serde_json::Value;

use super::{ErrorClass, throw_coded};
use crate::engine::async_ops::OpFailure;
use crate::engine::state::SessionState;
use crate::host::storage::{MAX_TTL_S, StorageError, check_entry, ttl_seconds};

fn json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

pub(super) fn install<'js>(
    ctx: &Ctx<'js>,
    ops: &Object<'js>,
    state: &Rc<SessionState>,
) -> Result<()> {
    let st = state.clone();
    ops.set(
        "storage",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, method: String, key: String, value: String, number: u32| -> Result<u32> {
                let store = st.storage.clone();
                let application = st.application.clone();
                let work = async move {
                    let Some(store) = store else {
                        return Err(OpFailure {
                            code: "ERR_STORAGE",
                            message: "ApplicationStorage: this session has no application storage (it runs without a data directory)".into(),
                        });
                    };
                    let run = move || -> std::result::Result<Value, StorageError> {
                        match method.as_str() {
                            "put" => {
                                check_entry(&key, Some(&value))?;
                                let ttl = ttl_seconds(u64::from(number)).ok_or_else(|| {
                                    StorageError::Limit(format!(
                                        "the ttl is {number} seconds; the most is {MAX_TTL_S} (90 days)"
                                    ))
                                })?;
                                store.put(&application, &key, &value, ttl).map(|k| json(&k))
                            }
                            "get" => {
                                check_entry(&key, None)?;
                                store.get(&application, &key).map(|k| json(&k))
                            }
                            "remove" => {
                                check_entry(&key, None)?;
                                store.remove(&application, &key).map(|gone| {
                                    json(&gone.map(|k| crate::host::storage::StorageKey { expire_at: 0, ..k }))
                                })
                            }
                            _ => {
                                let namespace = (!key.is_empty()).then_some(key.as_str());
                                let count = (number as usize).min(crate::host::storage::MAX_KEYS_PAGE);
                                store
                                    .keys(&application, namespace, count)
                                    .map(|keys| serde_json::json!({ "keys": keys }))
                            }
                        }
                    };
                    let outcome = tokio::task::spawn_blocking(run).await.map_err(|_| OpFailure {
                        code: "ERR_STORAGE",
                        message: "ApplicationStorage: the request was cancelled".into(),
                    })?;
                    outcome.map_err(|e| match e {
                        StorageError::Limit(why) => OpFailure {
                            code: "ERR_STORAGE_LIMIT",
                            message: format!("ApplicationStorage: {why}"),
                        },
                        other => OpFailure {
                            code: "ERR_STORAGE",
                            message: format!("ApplicationStorage: {other}"),
                        },
                    })
                };
                st.async_ops
                    .start(work)
                    .map_err(|e| throw_coded(&ctx, ErrorClass::Plain, "ERR_STORAGE_LIMIT", &e.to_string()))
            },
        )?,
    )?;
    Ok(())
}
