// Starts the page's Go program: loads the Go runtime's support code,
// compiles the page's module (data-wasm on <body>, such as echo.wasm) while
// it downloads, and runs it. The program takes over the status line.
import "wasm_exec";
import { listen } from "./dev.js";

const body = document.body;
const status = document.getElementById("status");

function fail(message) {
  if (status) {
    status.dataset.state = "error";
    status.textContent = message;
  }
  console.error(message);
}

async function start() {
  if (!body.dataset.app || !body.dataset.wasm) return;
  const go = new Go();
  try {
    const { instance } = await WebAssembly.instantiateStreaming(fetch(body.dataset.wasm), go.importObject);
    go.run(instance).then(() => fail("The Go app stopped."));
  } catch (err) {
    fail("Could not start the Go app: " + err.message);
  }
}

start();
if (body.dataset.dev !== undefined) listen(body.dataset.app);
