// Baseline: the least a page can do per new_message: one <li> with textContent.
// ?conversation=ID; the access token is read from localStorage like the app does.
const conversation = new URLSearchParams(location.search).get("conversation");
const token = localStorage.getItem("access_token");
const list = document.getElementById("messages");
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const socket = new WebSocket(`${scheme}//${location.host}/ws/messaging/${conversation}/?token=${encodeURIComponent(token)}`);
socket.addEventListener("open", () => { document.body.dataset.wsState = "connected"; });
socket.addEventListener("close", () => { document.body.dataset.wsState = "closed"; });
socket.addEventListener("message", (event) => {
  const frame = JSON.parse(event.data);
  if (frame.type !== "new_message") return;
  const item = document.createElement("li");
  item.dataset.testid = "message";
  item.textContent = frame.message.content;
  list.append(item);
});
