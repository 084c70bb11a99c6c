// The explorer at GET /graphql: runs the query in the box against this
// server and lists the schema's types. No framework, nothing fetched from
// anywhere but here.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const token = $("token");
  token.value = localStorage.getItem("plaza.token") || "";
  token.addEventListener("change", () => localStorage.setItem("plaza.token", token.value.trim()));

  async function call(query, variables) {
    const headers = { "content-type": "application/json" };
    const t = token.value.trim();
    if (t) headers.authorization = "Bearer " + t;
    const res = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
    return res.json();
  }

  async function run() {
    let variables = {};
    try {
      variables = JSON.parse($("variables").value || "{}");
    } catch (e) {
      $("result").textContent = "Variables are not JSON: " + e.message;
      return;
    }
    $("result").textContent = "…";
    try {
      const answer = await call($("query").value, variables);
      $("result").textContent = JSON.stringify(answer, null, 2);
      const tokens = answer.data && (answer.data.loginUser?.tokens || answer.data.registerUser);
      if (tokens && tokens.accessToken) {
        token.value = tokens.accessToken;
        localStorage.setItem("plaza.token", tokens.accessToken);
      }
    } catch (e) {
      $("result").textContent = "Request failed: " + e.message;
    }
  }

  function typeName(t) {
    if (!t) return "";
    if (t.kind === "NON_NULL") return typeName(t.ofType) + "!";
    if (t.kind === "LIST") return "[" + typeName(t.ofType) + "]";
    return t.name;
  }

  async function loadSchema() {
    const q = "{ __schema { queryType { name } mutationType { name } subscriptionType { name } " +
      "types { name kind description fields { name description args { name type { ...T } } type { ...T } } " +
      "inputFields { name type { ...T } } enumValues { name } } } } " +
      "fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
    const answer = await call(q, {});
    const box = $("schema");
    box.textContent = "";
    if (!answer.data) {
      box.textContent = (answer.errors || []).map((e) => e.message).join("\n");
      return;
    }
    const roots = ["Query", "Mutation", "Subscription"];
    const types = answer.data.__schema.types
      .filter((t) => !t.name.startsWith("__"))
      .sort((a, b) => (roots.indexOf(b.name) - roots.indexOf(a.name)) || a.name.localeCompare(b.name));
    for (const t of types) {
      const d = document.createElement("details");
      if (roots.includes(t.name)) d.open = true;
      const s = document.createElement("summary");
      s.textContent = t.name + " (" + t.kind.toLowerCase() + ")";
      d.appendChild(s);
      const fields = t.fields || t.inputFields || (t.enumValues || []).map((v) => ({ name: v.name }));
      for (const f of fields) {
        const line = document.createElement("div");
        const args = (f.args || []).map((a) => a.name + ": " + typeName(a.type)).join(", ");
        const code = document.createElement("code");
        code.textContent = f.name + (args ? "(" + args + ")" : "") + (f.type ? ": " + typeName(f.type) : "");
        line.appendChild(code);
        if (f.description) line.title = f.description;
        d.appendChild(line);
      }
      box.appendChild(d);
    }
  }

  $("run").addEventListener("click", run);
  $("load-schema").addEventListener("click", loadSchema);
  $("query").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run();
  });
  const state = $("introspection");
  if (state.dataset.state === "off") state.className = "off";
})();
