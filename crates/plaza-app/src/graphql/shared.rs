//! One event, resolved once per node for everyone who asked the same.
//!
//! A message sent to a 1,000-member chat reaches a thousand subscriptions,
//! and most of them ask for the same fields with the same document. The
//! hub hands every socket of the chat the same frame (one allocation), so
//! a worker thread parses that frame once per subscription type, and
//! resolves it once per document ([`Shape`]); the others on the thread
//! clone what it made. Nothing a subscription yields may depend on who
//! subscribed — the feed decides what reaches a caller, the payload is the
//! event's — so sharing the resolved payload across callers is sound; a
//! type added to a subscription must keep that so (see types.rs).
//!
//! An event whose resolution failed anywhere (a sender's profile could not
//! be read, say) is not kept: every subscriber resolves it and sees its
//! own error.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use async_graphql::extensions::ExtensionContext;
use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};
use axum::extract::ws::Utf8Bytes;

/// Which document, operation and variables a subscription runs: two
/// subscriptions with the same shape resolve an event to the same
/// payload. Set on each request that arrives over a GraphQL socket.
pub struct Shape {
    key: u64,
    /// Fields of this request whose resolver failed, so far.
    failed: AtomicUsize,
}

impl Shape {
    /// The shape of `request`: its text (or persisted-query hash),
    /// operation name and variables.
    pub fn of(request: &async_graphql::Request) -> Arc<Self> {
        // Keyed per process, so a made-up document cannot be written to
        // collide with another's.
        static KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);
        let persisted = request
            .extensions
            .get("persistedQuery")
            .map(|p| p.to_string())
            .unwrap_or_default();
        let variables = serde_json::to_string(&request.variables).unwrap_or_default();
        let key = KEYS.hash_one((
            &request.query,
            persisted,
            &request.operation_name,
            variables,
        ));
        Arc::new(Self {
            key,
            failed: AtomicUsize::new(0),
        })
    }
}

/// Counts a failed field into its request's [`Shape`] (the schema's
/// metrics extension calls it for every field that fails).
pub fn count_failure(ctx: &ExtensionContext<'_>) {
    if let Some(shape) = ctx.data_opt::<Arc<Shape>>() {
        shape.failed.fetch_add(1, Ordering::Relaxed);
    }
}

/// An event a subscription yields: resolved once per thread for each
/// shape that asks for it.
pub struct Shared<T> {
    frame: Utf8Bytes,
    event: Arc<T>,
    shape: Option<Arc<Shape>>,
}

impl<T: OutputType + Send + Sync + 'static> OutputType for Shared<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let Some(shape) = &self.shape else {
            return self.event.resolve(ctx, field).await;
        };
        if let Some(value) = with_kept::<T, _>(&self.frame, |kept| kept.resolved(shape.key)) {
            return Ok(value);
        }
        let failed = shape.failed.load(Ordering::Relaxed);
        let value = self.event.resolve(ctx, field).await?;
        if shape.failed.load(Ordering::Relaxed) == failed {
            keep(&self.frame, &self.event, Some((shape.key, value.clone())));
        }
        Ok(value)
    }
}

/// `parse` of `frame` as a `T`, or what it gave for the same frame on this
/// thread, ready to be resolved for `shape`.
pub fn parsed<T: Send + Sync + 'static>(
    frame: &Utf8Bytes,
    shape: Option<&Arc<Shape>>,
    parse: impl FnOnce() -> Option<T>,
) -> Option<Shared<T>> {
    let event = match with_kept::<T, _>(frame, |kept| Some(Arc::clone(&kept.event))) {
        Some(event) => event.downcast::<T>().ok()?,
        None => {
            let event = Arc::new(parse()?);
            keep(frame, &event, None);
            event
        }
    };
    Some(Shared {
        frame: frame.clone(),
        event,
        shape: shape.cloned(),
    })
}

/// A frame lately seen on this thread: the event parsed from it as one
/// type, and that event resolved for each shape asked. The entry holds
/// the frame, so its address (the key) is not reused while it is kept.
struct Kept {
    frame: Utf8Bytes,
    ty: TypeId,
    event: Arc<dyn Any + Send + Sync>,
    resolved: Vec<(u64, Value)>,
}

impl Kept {
    fn resolved(&self, key: u64) -> Option<Value> {
        let found = self.resolved.iter().find(|(k, _)| *k == key);
        found.map(|(_, value)| value.clone())
    }
}

/// Frames kept per thread: enough for the events a burst delivers to many
/// subscribers at once; an older one is parsed and resolved again.
const KEPT_FRAMES: usize = 16;
/// Shapes kept resolved per frame.
const KEPT_SHAPES: usize = 8;

thread_local! {
    static KEPT: RefCell<VecDeque<Kept>> = const { RefCell::new(VecDeque::new()) };
}

fn with_kept<T: 'static, R>(frame: &Utf8Bytes, f: impl FnOnce(&Kept) -> Option<R>) -> Option<R> {
    KEPT.with_borrow(|kept| {
        let entry = kept
            .iter()
            .find(|k| k.ty == TypeId::of::<T>() && same(&k.frame, frame))?;
        f(entry)
    })
}

/// Keeps `event` for `frame` on this thread, with one shape's payload.
fn keep<T: Send + Sync + 'static>(
    frame: &Utf8Bytes,
    event: &Arc<T>,
    resolved: Option<(u64, Value)>,
) {
    KEPT.with_borrow_mut(|kept| {
        let at = kept
            .iter()
            .position(|k| k.ty == TypeId::of::<T>() && same(&k.frame, frame));
        let at = at.unwrap_or_else(|| {
            if kept.len() == KEPT_FRAMES {
                kept.pop_front();
            }
            kept.push_back(Kept {
                frame: frame.clone(),
                ty: TypeId::of::<T>(),
                event: Arc::clone(event) as Arc<dyn Any + Send + Sync>,
                resolved: Vec::new(),
            });
            kept.len() - 1
        });
        let Some(entry) = kept.get_mut(at) else {
            return;
        };
        if let Some(resolved) = resolved {
            if entry.resolved.len() == KEPT_SHAPES {
                entry.resolved.remove(0);
            }
            entry.resolved.push(resolved);
        }
    });
}

/// The same frame: one allocation, not equal text (a replayed message is
/// its own frame, parsed for its one subscriber).
fn same(a: &Utf8Bytes, b: &Utf8Bytes) -> bool {
    std::ptr::eq(a.as_str(), b.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_parsed_once_per_thread_and_a_copy_again() {
        let frame = Utf8Bytes::from(r#"{"type":"x","data":{"n":1}}"#.to_owned());
        let mut parses = 0;
        for _ in 0..3 {
            let got = parsed(&frame.clone(), None, || {
                parses += 1;
                Some(1_u32)
            });
            assert_eq!(got.map(|s| *s.event), Some(1));
        }
        assert_eq!(parses, 1);
        // Equal text in another allocation is another frame.
        let copy = Utf8Bytes::from(frame.as_str().to_owned());
        let got = parsed(&copy, None, || {
            parses += 1;
            Some(2_u32)
        });
        assert_eq!(got.map(|s| *s.event), Some(2));
        assert_eq!(parses, 2);
        // Another type from the same frame is parsed for itself.
        let other = parsed(&frame, None, || Some("text"));
        assert_eq!(other.map(|s| *s.event), Some("text"));
    }

    #[test]
    fn shapes_differ_by_document_operation_and_variables() {
        let base = || async_graphql::Request::new("subscription { messageAdded { seq } }");
        let key = |r: async_graphql::Request| Shape::of(&r).key;
        assert_eq!(key(base()), key(base()));
        assert_ne!(
            key(base()),
            key(async_graphql::Request::new(
                "subscription { messageAdded { content } }"
            ))
        );
        assert_ne!(key(base()), key(base().operation_name("A")));
        let vars = |v: serde_json::Value| base().variables(async_graphql::Variables::from_json(v));
        assert_ne!(
            key(vars(serde_json::json!({"c": "1"}))),
            key(vars(serde_json::json!({"c": "2"})))
        );
    }
}
