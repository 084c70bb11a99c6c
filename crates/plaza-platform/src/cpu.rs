//! A small pool of long-lived threads for CPU-heavy work (password hashing,
//! image decoding), one per core by default.
//!
//! Not tokio's blocking pool: that one grows to hundreds of threads under a
//! burst, and each thread's allocator arena keeps the large buffers it freed
//! (argon2's 19 MiB, a decoded image), so memory would grow with the burst
//! and stay. A fixed set of threads bounds both the parallelism and what the
//! arenas can hold, and queues the rest without blocking the async threads.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use tracing::Span;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Debug, thiserror::Error)]
#[error("the CPU pool has stopped")]
pub struct PoolStopped;

#[derive(Clone)]
pub struct CpuPool {
    jobs: mpsc::Sender<Job>,
    threads: usize,
}

impl std::fmt::Debug for CpuPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuPool")
            .field("threads", &self.threads)
            .finish()
    }
}

impl CpuPool {
    /// Starts `threads` workers (at least one) named `<name>-<n>`.
    pub fn new(name: &str, threads: usize) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while taking a job.
                        let next = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match next {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Self { jobs, threads })
    }

    /// One worker per core.
    pub fn for_machine(name: &str) -> std::io::Result<Self> {
        Self::new(
            name,
            std::thread::available_parallelism().map_or(2, |n| n.get()),
        )
    }

    /// Runs `work` on a pool thread, inside the caller's tracing span.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolStopped> {
        let (done, result) = oneshot::channel();
        let span = Span::current();
        let job: Job = Box::new(move || {
            let _ = done.send(span.in_scope(work));
        });
        self.jobs.send(job).map_err(|_| PoolStopped)?;
        result.await.map_err(|_| PoolStopped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_pool_threads_and_queues_beyond_them() {
        let pool = CpuPool::new("test-cpu", 2).unwrap();
        let names = futures_util::future::join_all((0..8).map(|i| {
            let pool = pool.clone();
            async move {
                pool.run(move || (i * 2, std::thread::current().name().map(str::to_owned)))
                    .await
                    .unwrap()
            }
        }))
        .await;
        let mut values: Vec<i32> = names.iter().map(|(v, _)| *v).collect();
        values.sort_unstable();
        assert_eq!(values, [0, 2, 4, 6, 8, 10, 12, 14]);
        assert!(
            names
                .iter()
                .all(|(_, n)| n.as_deref().is_some_and(|n| n.starts_with("test-cpu-")))
        );
    }
}
