// Baseline for the boot rows: the app's boot job in plain JavaScript, the floor the app is
// measured against. Without a stored token: show the login form. With one: read config.json,
// fetch the same three calls as the app (who am I, conversations, unread count) and render
// the conversation list with textContent.
const token = localStorage.getItem("access_token");
const byId = (id) => document.getElementById(id);

if (!token) {
  byId("login-screen").hidden = false;
  byId("login-email").focus();
} else {
  const config = await fetch("../config.json", { cache: "no-cache" }).then((r) => r.json()).catch(() => ({}));
  const base = typeof config.api_base === "string" ? config.api_base.replace(/\/+$/, "") : "";
  const get = (path) => fetch(base + path, { headers: { Authorization: "Bearer " + token }, cache: "no-store" })
    .then((r) => r.json());
  const [me, conversations, unread] = await Promise.all([
    get("/api/auth/users/me/"), get("/api/messaging/conversations/"), get("/api/messaging/unread-count/"),
  ]);
  byId("me-name").textContent = `${me.first_name} ${me.last_name}`;
  byId("unread-total").textContent = String(unread.unread_count);
  const list = byId("conversation-list");
  for (const c of conversations) {
    const item = document.createElement("li");
    item.dataset.testid = "conversation-item";
    item.dataset.conversationId = String(c.id);
    const name = document.createElement("strong");
    name.textContent = `${c.trainee?.first_name} ${c.trainee?.last_name}`;
    const preview = document.createElement("span");
    preview.textContent = c.last_message?.content ?? "";
    item.append(name, " ", preview);
    list.append(item);
  }
  byId("messages-screen").hidden = false;
}
