//! WebSocket load for issue 4's benchmark: idle sockets (server memory per
//! connection), fan-out to one large group, and direct messages between
//! pairs. Senders put their send time in the message text; receivers in
//! this same process read it back, so latency is send → receipt on one
//! monotonic clock.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type Ws = WebSocketStream<TcpStream>;

/// Ephemeral ports one source address may use towards one server port,
/// with room to spare; beyond it sockets come from 127.0.0.2, .3, …
const PER_SOURCE: usize = 20_000;

pub struct User {
    pub id: String,
    pub token: String,
}

/// Signs up `n` accounts, `in_flight` at a time.
pub async fn users(base: &str, n: usize, in_flight: usize) -> anyhow::Result<Vec<User>> {
    let client = reqwest::Client::new();
    let run = crate::uuid_like();
    let gate = Arc::new(Semaphore::new(in_flight));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (client, gate) = (client.clone(), gate.clone());
        let base = base.to_owned();
        let email = format!("ws-{run}-{i}@example.com");
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            let body = crate::sign_up(&client, &base, &email).await?;
            Ok::<_, anyhow::Error>(User {
                id: body["user"]["id"].as_str().unwrap_or_default().to_owned(),
                token: body["access_token"].as_str().unwrap_or_default().to_owned(),
            })
        }));
    }
    let mut out = Vec::with_capacity(n);
    for task in tasks {
        out.push(task.await??);
    }
    Ok(out)
}

async fn post(base: &str, token: &str, path: &str, body: Value) -> anyhow::Result<Value> {
    let res = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "{path}: {}", res.status());
    Ok(res.json().await?)
}

fn server(base: &str) -> anyhow::Result<SocketAddr> {
    let host = base.trim_start_matches("http://");
    host.parse().context("BASE must be http://<ip>:<port>")
}

/// A WebSocket handshake for `req`, over TCP from source address number
/// `n / PER_SOURCE`.
async fn connect(
    server: SocketAddr,
    n: usize,
    req: impl tokio_tungstenite::tungstenite::client::IntoClientRequest + Unpin,
) -> anyhow::Result<Ws> {
    let source = Ipv4Addr::new(127, 0, 0, 1 + u8::try_from(n / PER_SOURCE)?);
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    // tungstenite's default read buffer is 128 KiB per socket, here too.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config)).await?;
    Ok(ws)
}

/// Opens a socket from source address number `n / PER_SOURCE` and waits
/// for `ready`.
async fn open(server: SocketAddr, n: usize, token: &str) -> anyhow::Result<Ws> {
    let mut ws = connect(server, n, format!("ws://{server}/ws?token={token}")).await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.contains(r#""type":"ready""#) => return Ok(ws),
            Some(Ok(_)) => {}
            other => anyhow::bail!("no ready frame: {other:?}"),
        }
    }
}

/// Opens a GraphQL socket (`graphql-transport-ws`) from source address
/// number `n / PER_SOURCE`, subscribed to `chat`'s new messages once
/// acknowledged.
async fn open_graphql(server: SocketAddr, n: usize, token: &str, chat: &str) -> anyhow::Result<Ws> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let source = Ipv4Addr::new(127, 0, 0, 1 + u8::try_from(n / PER_SOURCE)?);
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let mut req = format!("ws://{server}/graphql").into_client_request()?;
    req.headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut ws, _) =
        tokio_tungstenite::client_async_with_config(req, stream, Some(config)).await?;
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
    ws.send(Message::text(init.to_string())).await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.contains("connection_ack") => break,
            Some(Ok(_)) => {}
            other => anyhow::bail!("no connection_ack: {other:?}"),
        }
    }
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {
        "query": "subscription($c: ID) { messageAdded(chatId: $c) { seq content } }",
        "variables": {"c": chat},
    }});
    ws.send(Message::text(subscribe.to_string())).await?;
    Ok(ws)
}

/// Opens `count` sockets spread over `users`, `in_flight` handshakes at a time.
async fn open_many(
    server: SocketAddr,
    users: &[User],
    count: usize,
    in_flight: usize,
) -> anyhow::Result<Vec<Ws>> {
    let gate = Arc::new(Semaphore::new(in_flight));
    let mut tasks = Vec::with_capacity(count);
    for n in 0..count {
        let token = users[n % users.len()].token.clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            open(server, n, &token).await
        }));
    }
    let mut out = Vec::with_capacity(count);
    for task in tasks {
        out.push(task.await??);
    }
    Ok(out)
}

/// Server memory per idle authenticated socket, at each of `counts`.
pub async fn idle(base: String, pid: u32, counts: Vec<usize>, users: usize) -> anyhow::Result<()> {
    let addr = server(&base)?;
    let accounts = self::users(&base, users, 16).await?;
    // Warm the paths every socket takes (a few sockets, then closed).
    drop(open_many(addr, &accounts, 64, 64).await?);
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Memory freed by an earlier round stays with the allocator and is
    // reused, so every round is measured from the same starting point.
    let before = crate::rss_mib(pid)?;
    for count in counts {
        let started = Instant::now();
        let sockets = open_many(addr, &accounts, count, 256).await?;
        let opened = started.elapsed();
        // Pongs are answered while reading; keep every socket read.
        let readers: Vec<_> = sockets
            .into_iter()
            .map(|mut ws| tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} }))
            .collect();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let after = crate::rss_mib(pid)?;
        let per = (after - before) * 1024.0 / count as f64;
        println!(
            "idle sockets={count} users={users} opened_in={:.1}s rss_before={before:.1}MiB rss_after={after:.1}MiB per_socket={per:.2}KiB",
            opened.as_secs_f64()
        );
        for reader in readers {
            reader.abort();
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    Ok(())
}

/// Latencies of one receiver: (message number, microseconds).
type Log = Arc<Mutex<Vec<(u32, u32)>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads `new_message` frames whose text is `b:<message>:<micros>` and logs
/// their latency; other frames are ignored (and pings answered).
fn receive(mut stream: SplitStream<Ws>, epoch: Instant, log: Log, closed: Arc<Mutex<Vec<String>>>) {
    tokio::spawn(async move {
        while let Some(item) = stream.next().await {
            let text = match item {
                Ok(Message::Text(t)) => t,
                Ok(Message::Close(frame)) => {
                    lock(&closed).push(format!("{frame:?}"));
                    return;
                }
                Ok(_) => continue,
                Err(e) => {
                    lock(&closed).push(e.to_string());
                    return;
                }
            };
            let Some(rest) = text.split(r#""content":"b:"#).nth(1) else {
                continue;
            };
            let mut parts = rest.split(['"', ':']);
            let (Some(Ok(n)), Some(Ok(sent))) = (
                parts.next().map(str::parse::<u32>),
                parts.next().map(str::parse::<u64>),
            ) else {
                continue;
            };
            let now = epoch.elapsed().as_micros() as u64;
            let micros = u32::try_from(now.saturating_sub(sent)).unwrap_or(u32::MAX);
            lock(&log).push((n, micros));
        }
    });
}

/// Sends `send_message` frames to `chat` at `rate` per second for
/// `duration`, numbered from `first`; how many. The sink's acks are read
/// elsewhere.
async fn send_at(
    sink: &mut SplitSink<Ws, Message>,
    chat: &str,
    epoch: Instant,
    first: u32,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<u32> {
    let every = Duration::from_secs_f64(1.0 / rate);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let end = Instant::now() + duration;
    let mut n = first;
    while Instant::now() < end {
        tick.tick().await;
        let sent = epoch.elapsed().as_micros();
        let frame = json!({"type": "send_message", "data": {"room_id": chat, "content": format!("b:{n}:{sent}")}});
        sink.send(Message::text(frame.to_string())).await?;
        n += 1;
    }
    Ok(n - first)
}

type Sink = Arc<tokio::sync::Mutex<SplitSink<Ws, Message>>>;

/// The sockets split: the senders' sinks (their frames read into one log,
/// `own`), and a log per other socket.
struct Wired {
    sinks: Vec<Sink>,
    logs: Vec<Log>,
    own: Log,
}

/// Starts reading every socket; those `is_sender` picks send, the rest
/// only receive.
fn wire(
    sockets: Vec<Ws>,
    epoch: Instant,
    closed: &Arc<Mutex<Vec<String>>>,
    is_sender: impl Fn(usize) -> bool,
) -> Wired {
    let mut wired = Wired {
        sinks: Vec::new(),
        logs: Vec::new(),
        own: Arc::default(),
    };
    for (i, ws) in sockets.into_iter().enumerate() {
        let (sink, stream) = ws.split();
        let log: Log = Arc::default();
        receive(stream, epoch, log.clone(), closed.clone());
        if is_sender(i) {
            wired.sinks.push(Arc::new(tokio::sync::Mutex::new(sink)));
            receive_into(&wired.own, log);
        } else {
            wired.logs.push(log);
        }
    }
    wired
}

/// Sends from each sink to its chat at `per_sender` a second for
/// `duration`, the senders spread evenly over one period, sink `i`
/// numbering its messages from `first + i × 1 000 000`; how many in all.
async fn send_from_all(
    senders: &[(Sink, String)],
    epoch: Instant,
    first: u32,
    per_sender: f64,
    duration: Duration,
) -> anyhow::Result<u64> {
    let mut tasks = Vec::new();
    for (i, (sink, chat)) in senders.iter().enumerate() {
        let (sink, chat) = (sink.clone(), chat.clone());
        let offset = Duration::from_secs_f64(i as f64 / senders.len() as f64 / per_sender);
        let number = first + u32::try_from(i)? * 1_000_000;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut sink = sink.lock().await;
            send_at(&mut sink, &chat, epoch, number, per_sender, duration).await
        }));
    }
    let mut sent = 0u64;
    for task in tasks {
        sent += u64::from(task.await??);
    }
    Ok(sent)
}

/// Makes `own` see what `log` records (the sender's socket).
fn receive_into(own: &Log, log: Log) {
    let own = own.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let got = std::mem::take(&mut *lock(&log));
            lock(&own).extend(got);
        }
    });
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

fn summary(latencies: &mut [u32]) -> String {
    latencies.sort_unstable();
    format!(
        "p50={:.2}ms p99={:.2}ms max={:.2}ms",
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        percentile(latencies, 1.0)
    )
}

fn drain(logs: &[Log]) -> Vec<(u32, u32)> {
    logs.iter()
        .flat_map(|l| std::mem::take(&mut *lock(l)))
        .collect()
}

/// One group of `members` (all online); messages at each of `rates`, from
/// `senders` of them in turn (one socket's frames are handled in order, so a
/// single sender is bounded by its own round trips).
pub async fn fanout(
    base: String,
    members: usize,
    senders: usize,
    rates: Vec<f64>,
    seconds: u64,
    graphql: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(senders >= 1 && senders < members, "1 ≤ senders < members");
    let addr = server(&base)?;
    let accounts = users(&base, members, 16).await?;
    let owner = &accounts[0];
    let others: Vec<&str> = accounts[1..].iter().map(|u| u.id.as_str()).collect();
    let group = post(
        &base,
        &owner.token,
        "/api/chats",
        json!({"type": "group", "name": "fan-out", "member_ids": others}),
    )
    .await?;
    let chat = group["id"].as_str().unwrap_or_default().to_owned();
    let epoch = Instant::now();
    let closed = Arc::new(Mutex::new(Vec::new()));
    let sockets = if graphql {
        // Senders on /ws as always; every receiver subscribed over GraphQL.
        let mut sockets = open_many(addr, &accounts[..senders], senders, 128).await?;
        let gate = Arc::new(Semaphore::new(128));
        let mut tasks = Vec::new();
        for (n, user) in accounts.iter().enumerate().skip(senders) {
            let (gate, token, chat) = (gate.clone(), user.token.clone(), chat.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await?;
                open_graphql(addr, n, &token, &chat).await
            }));
        }
        for task in tasks {
            sockets.push(task.await??);
        }
        // A subscription is live a moment after it is asked for.
        tokio::time::sleep(Duration::from_secs(2)).await;
        sockets
    } else {
        open_many(addr, &accounts, members, 128).await?
    };
    // Senders are members too; their deliveries are not counted, but their
    // acks (and echoes) time the stored send.
    let Wired { sinks, logs, own } = wire(sockets, epoch, &closed, |i| i < senders);
    let senders_to: Vec<(Sink, String)> = sinks.into_iter().map(|s| (s, chat.clone())).collect();
    let receivers = members - senders;
    for (phase, rate) in (0u32..).zip(rates) {
        drain(&logs);
        drain(std::slice::from_ref(&own));
        // Each phase and sender numbers its messages in a range of its own.
        let first = phase * 100_000_000;
        let per_sender = rate / senders as f64;
        let started = Instant::now();
        let sent = send_from_all(
            &senders_to,
            epoch,
            first,
            per_sender,
            Duration::from_secs(seconds),
        )
        .await?;
        // Let the tail arrive.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let window = started.elapsed().as_secs_f64() - 2.0;
        let got = drain(&logs);
        let mut acks: Vec<u32> = drain(std::slice::from_ref(&own))
            .iter()
            .map(|(_, us)| *us)
            .collect();
        let expected = sent * receivers as u64;
        let mut all: Vec<u32> = got.iter().map(|(_, us)| *us).collect();
        // Per message: its first and last receipt, and how many.
        let mut per: std::collections::HashMap<u32, (u32, u32, usize)> = Default::default();
        for (n, us) in &got {
            let e = per.entry(*n).or_insert((u32::MAX, 0, 0));
            *e = (e.0.min(*us), e.1.max(*us), e.2 + 1);
        }
        let mut first_in: Vec<u32> = per.values().map(|e| e.0).collect();
        let mut complete: Vec<u32> = per
            .values()
            .filter(|e| e.2 == receivers)
            .map(|e| e.1)
            .collect();
        println!(
            "fanout via={} members={members} senders={senders} rate={rate}/s sent={sent} delivered={}/{expected} deliveries_per_s={:.0} | acks: {} | all: {} | to first member: {} | to last member: {} | disconnected={}",
            if graphql { "graphql" } else { "ws" },
            got.len(),
            got.len() as f64 / window,
            summary(&mut acks),
            summary(&mut all),
            summary(&mut first_in),
            summary(&mut complete),
            lock(&closed).len()
        );
    }
    Ok(())
}

/// `pairs` direct chats; each first member sends to the second at
/// `rate / pairs` per second.
pub async fn dm(base: String, pairs: usize, rates: Vec<f64>, seconds: u64) -> anyhow::Result<()> {
    let addr = server(&base)?;
    let accounts = users(&base, pairs * 2, 16).await?;
    let mut chats = Vec::with_capacity(pairs);
    for pair in accounts.chunks(2) {
        let chat = post(
            &base,
            &pair[0].token,
            "/api/chats",
            json!({"type": "direct", "member_ids": [pair[1].id]}),
        )
        .await?;
        chats.push(chat["id"].as_str().unwrap_or_default().to_owned());
    }
    let epoch = Instant::now();
    let closed = Arc::new(Mutex::new(Vec::new()));
    let sockets = open_many(addr, &accounts, pairs * 2, 128).await?;
    let Wired { sinks, logs, own } = wire(sockets, epoch, &closed, |i| i % 2 == 0);
    let senders: Vec<(Sink, String)> = sinks.into_iter().zip(chats).collect();
    for rate in rates {
        drain(&logs);
        drain(std::slice::from_ref(&own));
        let per_sender = rate / pairs as f64;
        let started = Instant::now();
        let sent =
            send_from_all(&senders, epoch, 0, per_sender, Duration::from_secs(seconds)).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let window = started.elapsed().as_secs_f64() - 2.0;
        let got = drain(&logs);
        let mut all: Vec<u32> = got.iter().map(|(_, us)| *us).collect();
        println!(
            "dm pairs={pairs} rate={rate}/s sent={sent} delivered={} delivered_per_s={:.0} {} | disconnected={}",
            got.len(),
            got.len() as f64 / window,
            summary(&mut all),
            lock(&closed).len()
        );
    }
    Ok(())
}
