//! `/graphql` over HTTP and WebSocket: `POST` (JSON, or the multipart
//! request spec for uploads), `GET` with the query in the URL (queries
//! only; the explorer for a browser that asks for HTML), and the
//! WebSocket upgrade for `graphql-transport-ws` and the older
//! `subscriptions-transport-ws`.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::http::{MultipartOptions, WebSocketProtocols, WsMessage};
use async_graphql::parser::types::OperationType;
use async_graphql::{
    BatchRequest, BatchResponse, Data, Executor, Request as GqlRequest, Response as GqlResponse,
};
use axum::Extension;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::context::Caller;
use super::error::stamp;
use super::loaders::{Members, People};
use super::schema::PlazaSchema;
use crate::auth::handlers::client;
use crate::http::error::codes;
use crate::http::{ApiError, ClientIp};
use crate::state::AppState;

/// The explorer page and its script, shipped in the binary.
const EXPLORER_HTML: &str = include_str!("explorer.html");
const EXPLORER_JS: &str = include_str!("explorer.js");

/// What every execution of this request or socket carries.
fn data(state: &AppState, caller: Caller) -> Data {
    let mut data = Data::default();
    let me = caller
        .token
        .as_ref()
        .and_then(|t| t.as_ref().ok())
        .map(|u| u.user_id);
    data.insert(state.clone());
    data.insert(DataLoader::new(People(state.clone()), tokio::spawn));
    data.insert(DataLoader::new(
        Members {
            state: state.clone(),
            me,
        },
        tokio::spawn,
    ));
    data.insert(caller);
    data
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The caller of an HTTP request: the token the middleware checked.
fn caller(req: &Request, state: &AppState) -> Caller {
    let ip = ClientIp::from_parts(
        req.headers(),
        req.extensions(),
        state.config.http.trust_proxy_headers,
    );
    Caller {
        token: crate::http::auth::token_of(req.extensions()),
        client: client(&ip, req.headers()),
        request_id: request_id(req.headers()),
    }
}

/// `POST /graphql`.
pub async fn post(
    State(state): State<AppState>,
    Extension(schema): Extension<PlazaSchema>,
    req: Request,
) -> Response {
    let caller = caller(&req, &state);
    let batch = match read_body(&state, req).await {
        Ok(batch) => batch,
        Err(e) => return e.into_response(),
    };
    let batch = match admit(&state, batch) {
        Ok(batch) => batch,
        Err(e) => return e.into_response(),
    };
    let answer = match batch {
        BatchRequest::Single(one) => {
            BatchResponse::Single(run(&schema, one, &state, &caller).await)
        }
        BatchRequest::Batch(many) => {
            let mut answers = Vec::with_capacity(many.len());
            for one in many {
                answers.push(run(&schema, one, &state, &caller).await);
            }
            BatchResponse::Batch(answers)
        }
    };
    json(&answer)
}

/// Runs one operation with its own loaders (they batch per operation).
async fn run(
    schema: &PlazaSchema,
    mut req: GqlRequest,
    state: &AppState,
    caller: &Caller,
) -> GqlResponse {
    req.data = data(state, caller.clone());
    let mut response = schema.execute(req).await;
    stamp(&mut response, &caller.request_id);
    response
}

fn json(answer: &BatchResponse) -> Response {
    match serde_json::to_vec(answer) {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// Reads a JSON or multipart body: no NUL characters in JSON (as over
/// REST), the query no longer than `graphql.max_query`, uploads no
/// larger than files may be.
async fn read_body(state: &AppState, req: Request) -> Result<BatchRequest, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let multipart = content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let limit = usize::try_from(state.config.http.body_limit.0).unwrap_or(usize::MAX);
    let max_file = crate::files::service::max_upload(state);
    let body_limit = if multipart {
        limit.max(max_file + 64 * 1024)
    } else {
        limit
    };
    let bytes = axum::body::to_bytes(req.into_body(), body_limit)
        .await
        .map_err(|_| ApiError::payload_too_large(body_limit as u64))?;
    if !multipart {
        match content_type.as_deref() {
            None => {}
            Some(t)
                if t.starts_with("application/json") || t.starts_with("application/graphql") => {}
            Some(other) => {
                return Err(ApiError::unsupported_media_type(format!(
                    "send application/json (or multipart/form-data for uploads), not {other}"
                )));
            }
        }
        crate::http::extract::refuse_nul(&bytes)?;
    }
    let options = MultipartOptions::default()
        .max_file_size(max_file)
        .max_num_files(10);
    let batch = async_graphql::http::receive_batch_body(content_type, bytes.as_ref(), options)
        .await
        .map_err(parse_error)?;
    Ok(batch)
}

fn parse_error(e: async_graphql::ParseRequestError) -> ApiError {
    use async_graphql::ParseRequestError as E;
    match e {
        E::PayloadTooLarge => {
            ApiError::new(codes::INPUT_TOO_LARGE, "an upload is larger than allowed")
        }
        E::Io(e) => ApiError::bad_request(format!("cannot read the request: {e}")),
        E::InvalidRequest(e) => ApiError::bad_request(format!("not a GraphQL request: {e}")),
        other => ApiError::bad_request(format!("not a GraphQL request: {other}")),
    }
}

/// Batches only as configured, and no query text over the limit.
fn admit(state: &AppState, batch: BatchRequest) -> Result<BatchRequest, ApiError> {
    let rules = &state.config.graphql;
    if let BatchRequest::Batch(many) = &batch {
        let max = rules.max_batch as usize;
        if max == 0 || many.len() > max {
            let why = if max == 0 {
                "batching is off: send one operation per request".to_owned()
            } else {
                format!("at most {max} operations per request")
            };
            return Err(ApiError::new(codes::GRAPHQL_BATCHING_OFF, why));
        }
    }
    let too_long = match &batch {
        BatchRequest::Single(one) => one.query.len(),
        BatchRequest::Batch(many) => many.iter().map(|r| r.query.len()).max().unwrap_or(0),
    } as u64
        > rules.max_query.0;
    if too_long {
        return Err(ApiError::new(
            codes::GRAPHQL_QUERY_TOO_LARGE,
            format!("the query is longer than {} bytes", rules.max_query.0),
        ));
    }
    Ok(batch)
}

/// `GET /graphql`: the WebSocket upgrade, the explorer for a browser, or
/// a query in the URL.
pub async fn get(
    State(state): State<AppState>,
    Extension(schema): Extension<PlazaSchema>,
    req: Request,
) -> Response {
    let (mut parts, body) = req.into_parts();
    if parts.headers.contains_key(header::UPGRADE) {
        let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
            Ok(ws) => ws,
            Err(e) => return ApiError::not_an_upgrade(e.status(), e.body_text()).into_response(),
        };
        let Some(protocol) = subprotocol(&parts.headers) else {
            return ApiError::bad_request(
                "ask for the graphql-transport-ws (or graphql-ws) subprotocol",
            )
            .into_response();
        };
        let req = Request::from_parts(parts, body);
        return socket(state, schema, ws, protocol, req);
    }
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let wants_html = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if query.is_empty() && wants_html {
        return explorer(&state);
    }
    let req = Request::from_parts(parts, body);
    let caller = caller(&req, &state);
    let one = match async_graphql::http::parse_query_string(&query) {
        Ok(one) => one,
        Err(e) => {
            return ApiError::bad_request(format!("not a GraphQL request: {e}")).into_response();
        }
    };
    if let Err(e) = only_queries(&one) {
        return e.into_response();
    }
    let one = match admit(&state, BatchRequest::Single(one)) {
        Ok(BatchRequest::Single(one)) => one,
        // `admit` returns the kind it was given.
        Ok(BatchRequest::Batch(_)) => {
            return ApiError::new(codes::GRAPHQL_BATCHING_OFF, "one operation per GET")
                .into_response();
        }
        Err(e) => return e.into_response(),
    };
    json(&BatchResponse::Single(
        run(&schema, one, &state, &caller).await,
    ))
}

/// Mutations and subscriptions are refused over `GET` (405), as the
/// GraphQL-over-HTTP spec says: a link must not change anything.
fn only_queries(req: &GqlRequest) -> Result<(), ApiError> {
    if req.query.is_empty() {
        // A persisted query sent by hash alone: its text is not here.
        return Ok(());
    }
    let Ok(doc) = async_graphql::parser::parse_query(&req.query) else {
        return Ok(()); // the engine words the syntax error
    };
    let kinds: Vec<OperationType> = doc
        .operations
        .iter()
        .filter(|(name, _)| match (&req.operation_name, name) {
            (Some(wanted), Some(name)) => name.as_str() == wanted,
            _ => true,
        })
        .map(|(_, op)| op.node.ty)
        .collect();
    if kinds.iter().any(|k| *k != OperationType::Query) {
        let e = ApiError::new(
            codes::ROUTE_METHOD_NOT_ALLOWED,
            "GET runs queries only; send mutations with POST",
        );
        return Err(e.with_header(header::ALLOW, HeaderValue::from_static("GET, POST")));
    }
    Ok(())
}

fn explorer(state: &AppState) -> Response {
    let page = EXPLORER_HTML.replace(
        "{{introspection}}",
        if super::schema::introspection(&state.config) {
            "on"
        } else {
            "off"
        },
    );
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        page,
    )
        .into_response()
}

/// `GET /graphql/explorer.js`.
pub async fn explorer_js() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        EXPLORER_JS,
    )
        .into_response()
}

/// The schema, with each response's errors stamped with the socket's
/// request id.
#[derive(Clone)]
struct Stamped {
    schema: PlazaSchema,
    request_id: Arc<str>,
}

impl Executor for Stamped {
    async fn execute(&self, request: GqlRequest) -> GqlResponse {
        let mut response = self.schema.execute(request).await;
        stamp(&mut response, &self.request_id);
        response
    }

    fn execute_stream(
        &self,
        request: GqlRequest,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, GqlResponse> {
        let id = Arc::clone(&self.request_id);
        let shape = super::shared::Shape::of(&request);
        self.schema
            .execute_stream_with_session_data(request.data(shape), session_data.unwrap_or_default())
            .map(move |mut response| {
                stamp(&mut response, &id);
                response
            })
            .boxed()
    }
}

/// Upgrades to a GraphQL socket. The token comes from `Authorization`,
/// or from `connection_init`'s payload (`Authorization`, `authorization`,
/// `token` or `accessToken`, with or without `Bearer `), which wins.
fn socket(
    state: AppState,
    schema: PlazaSchema,
    ws: WebSocketUpgrade,
    protocol: WebSocketProtocols,
    req: Request,
) -> Response {
    if !state.config.features.websocket {
        return ApiError::new(
            codes::REALTIME_OFF,
            "WebSockets are off (features.websocket)",
        )
        .into_response();
    }
    let caller = caller(&req, &state);
    let executor = Stamped {
        schema,
        request_id: Arc::from(caller.request_id.as_str()),
    };
    let limit = usize::try_from(state.config.ws.max_message.0).unwrap_or(usize::MAX);
    // The buffers `/ws` uses: tungstenite's default read buffer (128 KiB)
    // is zeroed on every read attempt, and the protocol loop tries one
    // whenever it is polled.
    ws.read_buffer_size(crate::realtime::READ_BUFFER)
        .write_buffer_size(crate::realtime::WRITE_BUFFER)
        .max_message_size(limit.saturating_mul(16))
        .protocols([protocol.sec_websocket_protocol()])
        .on_upgrade(move |socket| async move {
            let init_state = state.clone();
            let on_init = move |payload: serde_json::Value| async move {
                let Some(token) = payload_token(&payload) else {
                    return Ok(data(&init_state, caller));
                };
                let checked = crate::http::auth::check(&init_state, &token).await;
                match checked {
                    Ok(user) => Ok(data(
                        &init_state,
                        Caller {
                            token: Some(Ok(user)),
                            ..caller
                        },
                    )),
                    Err(e) => Err(async_graphql::Error::new(format!("Forbidden: {e}"))),
                }
            };
            serve(socket, executor, protocol, on_init).await;
        })
}

/// Client frames read ahead of the protocol loop; past this, reading
/// waits (and so does the client).
const CLIENT_FRAMES: usize = 16;

/// The first GraphQL subprotocol the client asks for.
fn subprotocol(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    let asked = headers.get(header::SEC_WEBSOCKET_PROTOCOL)?.to_str().ok()?;
    asked.split(',').find_map(|p| p.trim().parse().ok())
}

/// Runs the protocol over `socket` until either side ends it. What is
/// ready to send is written together and flushed once, so a busy
/// subscriber costs a few writes, not one per event. The client's frames
/// are read by a task of their own: the protocol loop polls its input
/// whenever it is polled, and a socket read for every event sent would
/// cost more than the event.
async fn serve<F, Fut>(
    socket: axum::extract::ws::WebSocket,
    executor: Stamped,
    protocol: WebSocketProtocols,
    on_init: F,
) where
    F: FnOnce(serde_json::Value) -> Fut + Send + 'static,
    Fut: Future<Output = async_graphql::Result<Data>> + Send + 'static,
{
    use axum::extract::ws::{CloseFrame, Message};
    use futures_util::SinkExt;
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(CLIENT_FRAMES);
    let _reader = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            let bytes = match message {
                Message::Text(text) => text.as_str().as_bytes().to_vec(),
                Message::Binary(bytes) => bytes.to_vec(),
                Message::Close(_) => break,
                _ => continue,
            };
            if tx.send(bytes).await.is_err() {
                break;
            }
        }
    }));
    let input = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let output = async_graphql::http::WebSocket::new(executor, input, protocol)
        .on_connection_init(on_init)
        .map(|message| match message {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
        })
        .ready_chunks(64);
    futures_util::pin_mut!(output);
    while let Some(batch) = output.next().await {
        for message in batch {
            if sink.feed(message).await.is_err() {
                return;
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}

fn payload_token(payload: &serde_json::Value) -> Option<String> {
    let value = [
        "Authorization",
        "authorization",
        "token",
        "accessToken",
        "access_token",
    ]
    .iter()
    .find_map(|key| payload.get(*key)?.as_str())?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or(value)
        .trim();
    (!token.is_empty()).then(|| token.to_owned())
}
