// The web terminal: xterm.js over the portal's WebSocket to a shell in the container.
// Keystrokes go out as {"t": "i"} frames, the size as {"t": "r"}; a ping every 20 s
// keeps an idle terminal's connection open. When the link drops it reconnects (a new
// shell) and keeps what the terminal showed so far.
(function () {
  "use strict";
  const bar = document.getElementById("terminal-options");
  const box = document.getElementById("terminal");
  if (!bar || !box || !window.Terminal) return;
  const t = bar.dataset;
  // xterm.js adds <style> elements; the page's CSP admits them with its nonce.
  const nonce = t.styleNonce;
  const create = document.createElement.bind(document);
  document.createElement = function (name, options) {
    const element = create(name, options);
    if (nonce && String(name).toLowerCase() === "style") element.nonce = nonce;
    return element;
  };
  const status = document.getElementById("terminal-status");
  const select = bar.querySelector("select[name=container]");
  const term = new window.Terminal({ cursorBlink: true, scrollback: 5000, convertEol: false });
  const fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(box);
  fit.fit();
  window.kcsTerminal = term; // for tests and the bench: what the terminal shows
  window.kcsTerminalSocket = () => socket;

  let socket = null;
  let ping = null;
  let wanted = true; // reconnect when the link drops (not when the shell exits)
  let tries = 0;

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }
  function size() { send({ t: "r", c: term.cols, r: term.rows }); }

  function connect() {
    if (socket) { wanted = false; socket.close(); }
    wanted = true;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const url = scheme + "//" + location.host + t.socketPath + "?container=" + encodeURIComponent(select.value);
    status.textContent = t.tConnecting;
    const mine = new WebSocket(url);
    mine.binaryType = "arraybuffer";
    socket = mine;
    mine.onopen = () => {
      tries = 0;
      status.textContent = t.tConnected;
      size();
      term.focus();
      clearInterval(ping);
      ping = setInterval(() => send({ t: "p" }), 20000);
    };
    mine.onmessage = (event) => {
      if (typeof event.data !== "string") {
        term.write(new Uint8Array(event.data));
        return;
      }
      const frame = JSON.parse(event.data);
      if (frame.t === "exit") {
        wanted = false;
        status.textContent = frame.message || t.tEnded;
        term.write("\r\n\x1b[2m[" + (frame.message || t.tEnded) + "]\x1b[0m\r\n");
      }
    };
    mine.onclose = (event) => {
      if (socket !== mine) return;
      clearInterval(ping);
      if (!wanted) return;
      if (event.code === 1006 && tries === 0 && !mine.everOpened) {
        status.textContent = t.tRefused;
      }
      tries += 1;
      if (tries > 5) { status.textContent = t.tRefused; return; }
      status.textContent = t.tReconnecting;
      term.write("\r\n\x1b[2m[" + t.tReconnecting + "]\x1b[0m\r\n");
      setTimeout(() => { if (socket === mine && wanted) connect(); }, 1000 * tries);
    };
  }

  term.onData((data) => send({ t: "i", d: data }));
  term.onResize(size);
  window.addEventListener("resize", () => fit.fit());
  select.addEventListener("change", connect);
  document.getElementById("terminal-reconnect").addEventListener("click", connect);
  connect();
})();
