// The chat page: streams an answer from /v1/chat/completions (server-sent events) and
// offers thumbs up / down under each answer, posted to /feedback by message id.
"use strict";

const sessionKey = "bestbox-session-id";
const userKey = "bestbox-user-id";
const messages = document.getElementById("messages");
const form = document.getElementById("ask");
const question = document.getElementById("question");
const send = document.getElementById("send");
const chatError = document.getElementById("chat-error");
const userInput = document.getElementById("user-id");
const history = [];

userInput.value = localStorage.getItem(userKey) || "";
userInput.addEventListener("change", () => localStorage.setItem(userKey, userInput.value.trim()));

function sessionId() {
  let id = sessionStorage.getItem(sessionKey);
  if (!id) {
    id = crypto.randomUUID();
    sessionStorage.setItem(sessionKey, id);
  }
  return id;
}

function bubble(role, text) {
  const item = document.createElement("div");
  item.className = "message " + role;
  const body = document.createElement("div");
  body.className = "body";
  body.textContent = text;
  item.appendChild(body);
  messages.appendChild(item);
  item.scrollIntoView({block: "end"});
  return item;
}

function showError(text) {
  chatError.textContent = text;
  chatError.hidden = false;
}

async function postFeedback(messageId, rating, comment) {
  const response = await fetch("/feedback", {
    method: "POST",
    headers: {"content-type": "application/json"},
    body: JSON.stringify({message_id: messageId, rating: rating, comment: comment || null}),
  });
  if (!response.ok) {
    let reason = "HTTP " + response.status;
    try { reason = (await response.json()).error.message; } catch (e) { /* not JSON */ }
    throw new Error(reason);
  }
}

function feedbackControls(item, messageId) {
  const box = document.createElement("div");
  box.className = "feedback";
  const up = document.createElement("button");
  up.type = "button"; up.className = "thumb up"; up.textContent = "👍 Helpful";
  up.setAttribute("aria-label", "Good response"); up.title = "This response was helpful";
  const down = document.createElement("button");
  down.type = "button"; down.className = "thumb down"; down.textContent = "👎 Not helpful";
  down.setAttribute("aria-label", "Bad response"); down.title = "This response was not helpful";
  const status = document.createElement("span");
  status.className = "feedback-status";
  const commentForm = document.createElement("form");
  commentForm.className = "comment"; commentForm.hidden = true;
  const comment = document.createElement("textarea");
  comment.maxLength = 2000; comment.rows = 2; comment.placeholder = "What was wrong? (optional)";
  const submit = document.createElement("button");
  submit.type = "submit"; submit.textContent = "Send feedback"; submit.className = "send-feedback";
  commentForm.append(comment, submit);

  async function rate(rating, text) {
    up.disabled = down.disabled = submit.disabled = true;
    status.className = "feedback-status";
    status.textContent = "Sending…";
    try {
      await postFeedback(messageId, rating, text);
      (rating === "positive" ? up : down).classList.add("chosen");
      commentForm.hidden = true;
      status.textContent = "Thank you for your feedback!";
      status.classList.add("thanks");
    } catch (error) {
      status.textContent = "Feedback was not saved: " + error.message + ". Please try again.";
      status.classList.add("error");
      up.disabled = down.disabled = submit.disabled = false;
    }
  }
  up.addEventListener("click", () => rate("positive", null));
  down.addEventListener("click", () => { commentForm.hidden = false; comment.focus(); });
  commentForm.addEventListener("submit", (event) => {
    event.preventDefault();
    rate("negative", comment.value.trim());
  });
  box.append(up, down, status, commentForm);
  item.appendChild(box);
}

async function ask(text) {
  chatError.hidden = true;
  bubble("user", text);
  history.push({role: "user", content: text});
  const item = bubble("assistant", "");
  const body = item.querySelector(".body");
  item.classList.add("streaming");
  const headers = {"content-type": "application/json", "x-session-id": sessionId()};
  const user = userInput.value.trim();
  if (user) headers["x-user-id"] = user;
  let messageId = null;
  let answer = "";
  let failed = null;
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST", headers: headers,
      body: JSON.stringify({messages: history.slice(-20), stream: true}),
    });
    if (!response.ok || !response.body) {
      let reason = "HTTP " + response.status;
      try { reason = (await response.json()).error.message; } catch (e) { /* not JSON */ }
      throw new Error(reason);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data: ")) continue;
          const data = line.slice(6);
          if (data === "[DONE]") continue;
          const chunk = JSON.parse(data);
          messageId = chunk.message_id || messageId;
          if (chunk.error) failed = chunk.error.message;
          const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
          if (delta && delta.content) {
            answer += delta.content;
            body.textContent = answer;
          }
        }
      }
    }
  } catch (error) {
    failed = error.message;
  }
  item.classList.remove("streaming");
  if (failed) {
    showError("The answer failed: " + failed);
    item.classList.add("failed");
  }
  if (answer) history.push({role: "assistant", content: answer});
  if (messageId && answer) {
    item.dataset.messageId = messageId;
    feedbackControls(item, messageId);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = question.value.trim();
  if (!text) return;
  question.value = "";
  send.disabled = true;
  try { await ask(text); } finally { send.disabled = false; question.focus(); }
});
question.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    form.requestSubmit();
  }
});
