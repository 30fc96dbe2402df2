// The live log page: a bounded, virtualised window over the lines of a pod (or of all
// the pods of a workload, each line labelled), followed live from the portal's NDJSON
// stream. Only the rows in sight are in the DOM, so 100,000 lines (or one of 5 MB) do
// not freeze the page. Following pauses while the user scrolls up or types a filter;
// "Resume and show N new lines" catches up.
(function () {
  "use strict";
  const form = document.getElementById("log-options");
  const view = document.getElementById("log-view");
  if (!form || !view) return;
  const spacer = view.querySelector(".log-spacer");
  const rowsBox = view.querySelector(".log-rows");
  const status = document.getElementById("log-status");
  const resume = document.getElementById("log-resume");
  const download = document.getElementById("log-download");
  const t = form.dataset;
  const MAX_LINES = parseInt(t.maxLines, 10) || 100000;
  const CUT = 4000; // characters of one line put in the page; the rest is downloadable
  const OVERSCAN = 20;

  let lines = []; // every line kept: {pod, time, text}
  let shown = []; // the lines passing the filter, in order
  let tops = [0]; // tops[i]: the row where shown[i] starts (wrapped lines take more)
  let pending = []; // lines that came while paused
  let dropped = false;
  let match = null;
  let controller = null;
  let ended = false;
  let last = ""; // timestamp of the last line received (to resume after a dropped link)
  let rowHeight = 16;
  let charWidth = 8;
  let cols = 120;
  let scheduled = false;
  let stickToBottom = true;
  const pods = new Map();

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));
  }
  function opt(name) {
    const field = form.elements[name];
    if (!field) return "";
    if (field.type === "checkbox") return field.checked ? "1" : "";
    return field.value;
  }

  function measure() {
    const probe = document.createElement("div");
    probe.className = "log-line";
    probe.textContent = "M".repeat(100);
    probe.style.position = "absolute";
    probe.style.visibility = "hidden";
    probe.style.whiteSpace = "pre";
    rowsBox.appendChild(probe);
    const box = probe.getBoundingClientRect();
    rowHeight = box.height || 16;
    charWidth = box.width / 100 || 8;
    probe.remove();
    cols = Math.max(20, Math.floor((view.clientWidth - 24) / charWidth));
  }

  function displayLength(line) {
    let n = Math.min(line.text.length, CUT);
    if (opt("timestamps") && line.time) n += line.time.length + 1;
    if (pods.size > 1) n += line.pod.length + 3;
    return n + (line.text.length > CUT ? 60 : 0);
  }
  function rowsOf(line) {
    return opt("wrap") ? Math.max(1, Math.ceil(displayLength(line) / cols)) : 1;
  }

  function compileFilter() {
    const text = opt("filter");
    match = null;
    form.elements.filter.classList.remove("invalid");
    if (!text) return;
    if (opt("regex")) {
      try {
        const re = new RegExp(text);
        match = (s) => re.test(s);
      } catch (e) {
        form.elements.filter.classList.add("invalid");
        status.textContent = e.message;
        match = () => false;
      }
    } else {
      const needle = text.toLowerCase();
      match = (s) => s.toLowerCase().includes(needle);
    }
  }

  function rebuild() {
    shown = match ? lines.filter((l) => match(l.text)) : lines.slice();
    tops = new Array(shown.length + 1);
    tops[0] = 0;
    for (let i = 0; i < shown.length; i++) tops[i + 1] = tops[i] + rowsOf(shown[i]);
    schedule();
  }

  function add(batch) {
    for (const line of batch) {
      if (!pods.has(line.pod)) pods.set(line.pod, pods.size % 6);
      lines.push(line);
    }
    if (lines.length > MAX_LINES) {
      // Drop the oldest tenth at once, so dropping stays cheap while lines stream in.
      lines = lines.slice(lines.length - Math.floor(MAX_LINES * 0.9));
      dropped = true;
      rebuild();
      return;
    }
    for (const line of batch) {
      if (match && !match(line.text)) continue;
      shown.push(line);
      tops.push(tops[tops.length - 1] + rowsOf(line));
    }
    schedule();
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(render);
  }

  function first(row) {
    // The shown line covering ``row`` (binary search over tops).
    let lo = 0;
    let hi = shown.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (tops[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  function rowFor(line) {
    const div = document.createElement("div");
    div.className = "log-line";
    if (pods.size > 1) {
      const label = document.createElement("span");
      label.className = "log-pod pod-" + pods.get(line.pod);
      label.textContent = "[" + line.pod + "] ";
      div.appendChild(label);
    }
    if (opt("timestamps") && line.time) {
      const time = document.createElement("span");
      time.className = "log-time";
      time.textContent = line.time + " ";
      div.appendChild(time);
    }
    div.appendChild(document.createTextNode(line.text.length > CUT ? line.text.slice(0, CUT) : line.text));
    if (line.text.length > CUT) {
      const more = document.createElement("span");
      more.className = "log-cut";
      more.textContent = " " + format(t.tCut, { n: line.text.length - CUT });
      div.appendChild(more);
    }
    return div;
  }

  function render() {
    scheduled = false;
    view.classList.toggle("wrap", !!opt("wrap"));
    const total = tops[tops.length - 1] || 0;
    spacer.style.height = total * rowHeight + "px";
    if (stickToBottom) view.scrollTop = view.scrollHeight;
    const top = view.scrollTop / rowHeight;
    const height = view.clientHeight / rowHeight;
    const start = shown.length ? Math.max(0, first(Math.floor(top)) - OVERSCAN) : 0;
    const end = shown.length ? Math.min(shown.length, first(Math.ceil(top + height)) + OVERSCAN + 1) : 0;
    const fragment = document.createDocumentFragment();
    for (let i = start; i < end; i++) fragment.appendChild(rowFor(shown[i]));
    rowsBox.replaceChildren(fragment);
    rowsBox.style.transform = "translateY(" + (tops[start] || 0) * rowHeight + "px)";
    const counts = match
      ? format(t.tShown, { shown: shown.length, n: lines.length })
      : format(t.tLoaded, { n: lines.length });
    let note = counts;
    if (controller && !ended && opt("follow") && !paused()) note += " · " + t.tFollowing;
    if (ended) note += " · " + t.tEnded;
    if (dropped) note += " · " + t.tDropped;
    if (!form.elements.filter.classList.contains("invalid")) status.textContent = note;
    resume.hidden = !pending.length && stickToBottom;
    resume.textContent = pending.length ? format(t.tNew, { n: pending.length }) : t.tResume;
  }

  function paused() {
    return !stickToBottom || document.activeElement === form.elements.filter;
  }

  function receive(batch) {
    if (paused()) {
      pending.push(...batch);
      if (pending.length > MAX_LINES) pending = pending.slice(pending.length - MAX_LINES);
      schedule();
    } else add(batch);
  }

  function flush() {
    const batch = pending;
    pending = [];
    stickToBottom = true;
    add(batch);
  }

  function params(follow) {
    const query = new URLSearchParams();
    for (const name of ["pod", "container", "tail_lines", "since_time", "previous"]) {
      const value = opt(name);
      if (value) query.set(name, value);
    }
    if (follow) query.set("follow", "1");
    return query;
  }

  function updateDownload() {
    const query = params(false);
    query.set("download", "1");
    query.set("timestamps", opt("timestamps") ? "1" : "0");
    if (opt("filter")) {
      query.set("filter", opt("filter"));
      if (opt("regex")) query.set("regex", "1");
    }
    download.href = t.streamUrl + "?" + query.toString();
  }

  async function load(resumeAfter) {
    if (controller) controller.abort();
    controller = new AbortController();
    const mine = controller;
    const follow = !!opt("follow");
    const query = params(follow);
    if (resumeAfter) {
      query.delete("tail_lines");
      query.delete("since_time");
      query.set("after", resumeAfter);
    } else {
      lines = [];
      pending = [];
      pods.clear();
      dropped = false;
      stickToBottom = true;
      rebuild();
    }
    ended = false;
    updateDownload();
    let response;
    try {
      response = await fetch(t.streamUrl + "?" + query.toString(), {
        signal: mine.signal,
        headers: { Accept: "application/x-ndjson" },
        credentials: "same-origin",
      });
    } catch (e) {
      if (mine.signal.aborted) return;
      return retry(mine);
    }
    if (!response.ok) {
      let text = response.statusText;
      try {
        const body = await response.json();
        text = Object.values(body.errors || {}).flat().join(" ");
      } catch (e) { /* not JSON */ }
      status.textContent = t.tError + " " + text;
      controller = null;
      return;
    }
    const stats = (window.kcsLogStats = { requested: performance.now(), first: 0, done: 0 });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let carry = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (!stats.first) stats.first = performance.now();
        carry += decoder.decode(value, { stream: true });
        const parts = carry.split("\n");
        carry = parts.pop();
        const batch = [];
        for (const part of parts) {
          if (!part) continue;
          const item = JSON.parse(part);
          if (item.end) ended = true;
          else if (item.text !== undefined) {
            batch.push(item);
            if (item.time) last = item.time;
          }
        }
        if (batch.length) receive(batch);
        else schedule();
      }
    } catch (e) {
      if (mine.signal.aborted) return;
      return retry(mine);
    }
    stats.done = performance.now();
    if (follow && !ended && !mine.signal.aborted) return retry(mine);
    if (!follow) controller = null;
    schedule();
  }

  function retry(mine) {
    // The link dropped (not the log's end): pick up after the last line seen.
    setTimeout(() => { if (controller === mine) load(last || ""); }, 2000);
  }

  view.addEventListener("scroll", () => {
    const atBottom = view.scrollTop + view.clientHeight >= view.scrollHeight - rowHeight;
    if (atBottom !== stickToBottom) {
      stickToBottom = atBottom;
      if (atBottom && pending.length) flush();
    }
    schedule();
  }, { passive: true });
  resume.addEventListener("click", flush);

  let filterTimer = null;
  form.elements.filter.addEventListener("input", () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => { compileFilter(); rebuild(); updateDownload(); }, 150);
  });
  form.elements.filter.addEventListener("blur", () => { if (pending.length && stickToBottom) flush(); });
  form.elements.regex.addEventListener("change", () => { compileFilter(); rebuild(); updateDownload(); });
  for (const name of ["timestamps", "wrap"]) {
    form.elements[name].addEventListener("change", () => { measure(); rebuild(); updateDownload(); });
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); load(""); });
  for (const name of ["pod", "container", "previous", "follow"]) {
    const field = form.elements[name];
    if (field) field.addEventListener("change", () => load(""));
  }
  window.addEventListener("resize", () => { measure(); rebuild(); });

  measure();
  compileFilter();
  load("");
})();
