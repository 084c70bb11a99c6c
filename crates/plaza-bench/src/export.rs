//! Event export throughput, in process: events are recorded in the outbox
//! first (the relay not yet running), then plaza's exporter is started and
//! timed until the last one is confirmed by the broker. RabbitMQ gets a
//! durable queue bound to the exchange, so every message is persisted and
//! routed as in production; NATS stores into a file-backed stream.

use std::time::{Duration, Instant};

use plaza_platform::config::Dsn;
use plaza_platform::export::Broker;
use plaza_platform::outbox::{Event, record};
use plaza_platform::testing;

pub async fn run(events: usize, url: String) -> anyhow::Result<()> {
    let broker = Broker::of(&url).ok_or_else(|| anyhow::anyhow!("{url} names no broker"))?;
    let name = testing::unique_name("plaza_bench");
    let queue = match broker {
        Broker::Rabbit => Some(testing::rabbitmq_queue(&name).await),
        Broker::Nats => None,
    };
    let (state, data) = crate::in_process("export", |config| {
        config.features.event_export = true;
        config.export.url = Some(Dsn::new(url.clone()));
        config.export.exchange = name.clone();
        config.export.stream = name.clone();
    })
    .await?;

    let now = plaza_core::Clock::now(&*state.clock);
    for chunk in (0..events).collect::<Vec<_>>().chunks(1000) {
        let mut tx = state.db.begin().await?;
        for n in chunk {
            let event = Event::new(
                "bench.happened",
                format!("bench:{n}"),
                None,
                serde_json::json!({"n": n, "text": "a payload about the size of a chat message"}),
                now,
            );
            record(&mut tx, &event).await?;
        }
        tx.commit().await?;
    }

    let started = Instant::now();
    state.start();
    loop {
        let left: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE exported_at IS NULL",
        )
        .fetch_one(state.db.reader())
        .await?;
        if left == 0 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "export did not finish in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = started.elapsed();
    state.shutdown.halt();
    let stored = match &queue {
        Some(queue) => {
            testing::rabbitmq_delete(queue, &name).await;
            None
        }
        None => Some(testing::nats_count_and_delete(&url, &name).await),
    };
    println!(
        "broker={} database={} events={events} exported_per_s={:.0} seconds={:.2}{}",
        match broker {
            Broker::Rabbit => "rabbitmq",
            Broker::Nats => "nats",
        },
        state.db.backend().name(),
        events as f64 / took.as_secs_f64(),
        took.as_secs_f64(),
        stored.map_or(String::new(), |n| format!(" stored={n}")),
    );
    let _ = std::fs::remove_dir_all(data);
    Ok(())
}
