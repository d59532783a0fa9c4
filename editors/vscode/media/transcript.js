// The transcript page (webview). It receives {type: "turns", order, changed} from the extension and redraws
// the changed turns. Everything the model wrote is inserted with textContent, never as HTML.
// @ts-check
(function () {
  "use strict";
  const vscode = acquireVsCodeApi();
  const root = /** @type {HTMLElement} */ (document.getElementById("transcript"));
  const empty = document.getElementById("empty");
  /** @type {Map<string, HTMLElement>} */
  const turns = new Map();

  const STATUS_TEXT = { running: "running…", completed: "done", interrupted: "cancelled", failed: "failed" };
  const STEP_MARK = { pending: "○", in_progress: "◐", completed: "●" };

  /** @param {string} tag @param {string} [className] @param {string} [text] */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Inline `code` spans of one paragraph, as text nodes and <code> elements. */
  function inline(parent, text) {
    const parts = text.split(/(`[^`\n]+`)/);
    for (const part of parts) {
      if (part.startsWith("`") && part.endsWith("`") && part.length > 1) {
        parent.appendChild(el("code", undefined, part.slice(1, -1)));
      } else if (part) {
        parent.appendChild(document.createTextNode(part));
      }
    }
  }

  /** The agent's text: fenced code blocks as <pre>, the rest as paragraphs (a fence still open while
   * streaming is shown as code too). */
  function prose(parent, text) {
    const pieces = text.split(/^```[^\n]*\n?/m);
    pieces.forEach((piece, index) => {
      if (index % 2 === 1) {
        const pre = el("pre");
        pre.appendChild(el("code", undefined, piece.replace(/\n$/, "")));
        parent.appendChild(pre);
        return;
      }
      for (const paragraph of piece.split(/\n{2,}/)) {
        if (!paragraph.trim()) continue;
        const p = el("p");
        inline(p, paragraph);
        parent.appendChild(p);
      }
    });
  }

  function renderEntry(entry) {
    switch (entry.kind) {
      case "message": {
        const node = el("div", "entry message");
        prose(node, entry.text);
        return node;
      }
      case "reasoning": {
        const node = el("details", "entry reasoning");
        node.appendChild(el("summary", undefined, "Thinking"));
        prose(node, entry.text);
        return node;
      }
      case "plan": {
        const node = el("div", "entry plan");
        if (entry.explanation) node.appendChild(el("p", "explanation", entry.explanation));
        const list = el("ul");
        for (const step of entry.steps) {
          const item = el("li", `step ${step.status}`);
          item.appendChild(el("span", "mark", STEP_MARK[step.status] || "○"));
          item.appendChild(document.createTextNode(" " + step.step));
          list.appendChild(item);
        }
        node.appendChild(list);
        return node;
      }
      case "command": {
        const node = el("div", `entry command ${entry.status}`);
        node.appendChild(el("code", undefined, "$ " + entry.command));
        const exit = entry.exitCode === null || entry.exitCode === undefined ? "" : ` (exit ${entry.exitCode})`;
        node.appendChild(el("span", "status", entry.status === "inProgress" ? " running…" : ` ${entry.status}${exit}`));
        return node;
      }
      case "fileChange": {
        const node = el("div", `entry file-change ${entry.status}`);
        const verb = entry.status === "applied" ? "Edited" : entry.status === "held" ? "Proposed" : "Editing";
        node.appendChild(el("span", "verb", verb + " "));
        node.appendChild(el("span", "files", entry.files.join(", ")));
        if (entry.status !== "applied" && entry.status !== "held" && entry.status !== "inProgress") {
          node.appendChild(el("span", "status", ` (${entry.status}${entry.message ? ": " + entry.message : ""})`));
        }
        return node;
      }
      case "notice":
        return el("div", "entry notice", entry.text);
      case "proposal": {
        const node = el("div", "entry proposal");
        node.appendChild(el("span", "verb", "Review "));
        node.appendChild(el("span", "files", entry.files.join(", ")));
        const counts = Object.entries(entry.hunks).map(([status, count]) => `${count} ${status}`);
        node.appendChild(el("span", "status", ` (${entry.id}: ${counts.join(", ")})`));
        return node;
      }
      default:
        return el("div", "entry");
    }
  }

  function renderTurn(turn) {
    const node = el("section", "turn");
    node.dataset.turnId = turn.turnId;
    node.dataset.status = turn.status;
    const header = el("header");
    header.appendChild(el("h2", "title", turn.title));
    header.appendChild(el("span", "turn-status", STATUS_TEXT[turn.status] || turn.status));
    node.appendChild(header);
    for (const entry of turn.entries) node.appendChild(renderEntry(entry));
    if (turn.error) node.appendChild(el("p", "error", turn.error));
    return node;
  }

  function atBottom() {
    const page = document.scrollingElement || document.documentElement;
    return page.scrollHeight - page.scrollTop - page.clientHeight < 40;
  }

  function update(message) {
    const follow = atBottom();
    for (const turn of message.changed) {
      const fresh = renderTurn(turn);
      const old = turns.get(turn.turnId);
      if (old) {
        // Keep a reasoning section open if the user opened it.
        const opened = old.querySelectorAll("details.reasoning");
        fresh.querySelectorAll("details.reasoning").forEach((d, i) => {
          if (opened[i] && /** @type {HTMLDetailsElement} */ (opened[i]).open) d.setAttribute("open", "");
        });
        old.replaceWith(fresh);
      }
      turns.set(turn.turnId, fresh);
    }
    const wanted = new Set(message.order);
    for (const [id, node] of turns) {
      if (!wanted.has(id)) {
        node.remove();
        turns.delete(id);
      }
    }
    // Unchanged turns stay where they are (a selection in them survives); new ones go in order.
    message.order.forEach((id, index) => {
      const node = /** @type {HTMLElement} */ (turns.get(id));
      if (root.children[index] !== node) root.insertBefore(node, root.children[index] || null);
    });
    if (empty) empty.hidden = message.order.length > 0;
    if (empty && !empty.hidden) root.appendChild(empty);
    if (follow) window.scrollTo(0, document.body.scrollHeight);
  }

  window.addEventListener("message", (event) => {
    if (event.data && event.data.type === "turns") update(event.data);
  });
  vscode.postMessage({ type: "ready" });
})();
