// Under `go run build.go dev` (package frontend/dev), pages listen to the
// dev server on a WebSocket: it says when a build starts, when one failed
// (the page shows the errors over itself until a build succeeds) and what
// a build changed — a stylesheet is swapped in place; a page whose app,
// script or server changed reloads.

const eventsPath = "/_dev/events";

export function listen(app) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(scheme + "//" + location.host + eventsPath);
  socket.onmessage = (e) => {
    const event = JSON.parse(e.data);
    switch (event.kind) {
      case "building":
        badge("rebuilding: " + event.what);
        break;
      case "failed":
        badge(null);
        overlay(event.text);
        break;
      case "ok":
        badge(null);
        overlay(null);
        break;
      case "reload":
        badge(null);
        overlay(null);
        if (event.page || (event.apps || []).includes(app)) {
          location.reload();
        } else if (event.css) {
          swapStylesheet();
        }
        break;
    }
  };
}

// overlay shows a build's errors over the page, each file:line a link to
// the source viewer; null takes it away.
function overlay(text) {
  document.getElementById("dev-overlay")?.remove();
  if (text === null) return;
  const box = document.createElement("div");
  box.id = "dev-overlay";
  box.className = "dev-overlay";
  box.setAttribute("role", "alert");
  const title = document.createElement("h2");
  title.textContent = "The build failed";
  const hint = document.createElement("p");
  hint.textContent = "Fix it and save: this page updates by itself. Until then the server runs the last build that worked.";
  const pre = document.createElement("pre");
  const at = /((?:\.\/)?(?:[\w.-]+\/)*[\w.-]+\.(?:go|templ|js|css)):(\d+)(?::(\d+))?/g;
  let last = 0;
  for (const m of text.matchAll(at)) {
    pre.append(text.slice(last, m.index));
    const link = document.createElement("a");
    link.href = "/source/" + m[1].replace(/^\.\//, "") + "#L" + m[2];
    link.textContent = m[0];
    pre.append(link);
    last = m.index + m[0].length;
  }
  pre.append(text.slice(last));
  box.append(title, hint, pre);
  document.body.append(box);
}

// badge shows what is being rebuilt in a corner; null takes it away.
function badge(text) {
  let b = document.getElementById("dev-badge");
  if (text === null) {
    b?.remove();
    return;
  }
  if (!b) {
    b = document.createElement("div");
    b.id = "dev-badge";
    b.className = "dev-badge";
    document.body.append(b);
  }
  b.textContent = text;
}

// swapStylesheet loads the stylesheet again and drops the old one once the
// new one applies, so the page does not flash unstyled.
function swapStylesheet() {
  for (const old of document.querySelectorAll('link[rel="stylesheet"]')) {
    const fresh = old.cloneNode();
    fresh.setAttribute("href", old.getAttribute("href").split("?")[0] + "?v=" + Date.now());
    fresh.onload = () => old.remove();
    old.after(fresh);
  }
}
