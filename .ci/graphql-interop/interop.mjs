// Interoperability with GraphQL clients nobody here wrote: graphql-request
// over HTTP and graphql-ws (the graphql-transport-ws protocol) over a
// WebSocket, against a running plaza at BASE (http://127.0.0.1:PORT).
// Two people sign up, one subscribes (with a resume), the other sends;
// every message must arrive once, in order; then a logout must end the
// subscription with auth.token_invalid. Exits non-zero on any mismatch.
import assert from "node:assert/strict";
import { GraphQLClient, ClientError } from "graphql-request";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const base = process.argv[2] ?? "http://127.0.0.1:8080";
const endpoint = `${base}/graphql`;
const wsUrl = endpoint.replace(/^http/, "ws");
const anonymous = new GraphQLClient(endpoint);
const stamp = Date.now();

async function signUp(name) {
  const { registerUser } = await anonymous.request(
    `mutation($e: String!, $p: String!) {
      registerUser(email: $e, password: $p) { accessToken user { id username } } }`,
    { e: `${name}-${stamp}@example.com`, p: "correct horse battery staple" },
  );
  return {
    ...registerUser,
    client: new GraphQLClient(endpoint, {
      headers: { authorization: `Bearer ${registerUser.accessToken}` },
    }),
  };
}

const ana = await signUp("ana");
const bob = await signUp("bob");

// Errors come back in the spec's shape with plaza's codes.
await assert.rejects(anonymous.request("{ me { id } }"), (e) => {
  assert.ok(e instanceof ClientError);
  const ext = e.response.errors[0].extensions;
  assert.equal(ext.code, "auth.token_missing");
  assert.ok(ext.requestId);
  return true;
});

const { createChat } = await ana.client.request(
  `mutation($u: ID!) { createChat(data: { memberIds: [$u] }) { id type } }`,
  { u: bob.user.id },
);
assert.equal(createChat.type, "DIRECT");
const chat = createChat.id;
const send = (text) =>
  ana.client.request(
    `mutation($c: ID!, $t: String!) { sendMessage(chatId: $c, content: $t) { seq } }`,
    { c: chat, t: text },
  );
await send("before 1");
await send("before 2");

// Bob subscribes over graphql-ws, resuming after seq 1.
const ws = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${bob.accessToken}` },
  retryAttempts: 0,
});
const seen = [];
let ended = null;
const done = new Promise((resolve, reject) => {
  ws.subscribe(
    {
      query: `subscription($c: ID, $s: Int) {
        messageAdded(chatId: $c, lastSeq: $s) { seq content sender { username } } }`,
      variables: { c: chat, s: 1 },
    },
    {
      next: ({ data, errors }) => {
        if (errors) ended = errors[0].extensions.code;
        else seen.push(data.messageAdded);
      },
      error: reject,
      complete: resolve,
    },
  );
});
const waitFor = async (what, test) => {
  for (let i = 0; i < 200; i++) {
    if (test()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}; seen ${JSON.stringify(seen)}`);
};
await waitFor("the resumed message", () => seen.length >= 1);
for (let i = 3; i <= 12; i++) await send(`live ${i}`);
await waitFor("ten live messages", () => seen.length >= 11);
assert.deepEqual(
  seen.map((m) => m.seq),
  [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  "every message once, in order",
);
assert.equal(seen[0].content, "before 2");
assert.equal(seen[1].sender.username, ana.user.username);

// Bob's unread count over HTTP, then his logout ends the subscription.
const { getChats } = await bob.client.request(
  `{ getChats { edges { node { id unreadCount lastMessage { seq } } } } }`,
);
assert.equal(getChats.edges[0].node.unreadCount, 12);
assert.equal(getChats.edges[0].node.lastMessage.seq, 12);
await bob.client.request(`mutation { logoutUser }`);
await done;
assert.equal(ended, "auth.token_invalid");
await ws.dispose();
console.log(`graphql-ws + graphql-request: ${seen.length} messages in order, logout ended the subscription`);
