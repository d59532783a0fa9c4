/**
 * The transcript view's side in the extension: the webview's HTML shell, and what is posted to it.
 *
 * A webview rather than a tree view: a turn is mostly multi-line text that grows while it streams (the
 * agent's answer with code blocks, the reasoning summary, a plan as a checklist), which tree rows — one line
 * of label each — cannot show. The webview stays cheap and safe: one local script and stylesheet, a strict
 * Content-Security-Policy (no network, scripts by nonce only), and everything the model wrote is inserted as
 * text, never as HTML.
 *
 * Updates are batched (at most one post per `FRAME_MS`) and carry only the turns whose revision changed, plus
 * the order of all turns; the page replaces those turns' elements and keeps the rest.
 */
import type { Clock, Disposable } from "./host";
import type { Transcript, TranscriptTurn } from "./transcript";

export const FRAME_MS = 50;

export type ToWebview = { type: "turns"; order: string[]; changed: TranscriptTurn[] };
export type FromWebview = { type: "ready" } | { type: "command"; command: string };

/** The page shell; `scriptUri` and `styleUri` come from `webview.asWebviewUri`. */
export function transcriptHtml(options: { cspSource: string; nonce: string; scriptUri: string; styleUri: string }): string {
  const { cspSource, nonce, scriptUri, styleUri } = options;
  const csp = [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `img-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${styleUri}">
<title>Codex</title>
</head>
<body>
<main id="transcript" aria-live="polite">
<p id="empty">Nothing yet. Run <b>Codex: Ask…</b> (Ctrl+Alt+K) or take <b>Fix with Codex</b> on a problem; the turn streams here.</p>
</main>
<script nonce="${nonce}" src="${scriptUri}"></script>
</body>
</html>`;
}

/** A nonce for the page's script: 32 characters from the URL-safe alphabet. */
export function makeNonce(random: () => number = Math.random): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let nonce = "";
  for (let i = 0; i < 32; i++) {
    nonce += alphabet.charAt(Math.floor(random() * alphabet.length));
  }
  return nonce;
}

/** Posts the transcript's changes to a page, batched; `attach` a page when the view is (re)created. */
export class TranscriptFeed {
  private post: ((message: ToWebview) => void) | undefined;
  private sent = new Map<string, number>();
  private timer: Disposable | undefined;

  constructor(
    private readonly transcript: Transcript,
    private readonly clock: Clock,
  ) {
    transcript.onDidChange(() => this.schedule());
  }

  /** A new page: everything is sent again once it says it is ready. */
  attach(post: (message: ToWebview) => void): void {
    this.post = post;
    this.sent.clear();
  }

  detach(): void {
    this.post = undefined;
    this.timer?.dispose();
    this.timer = undefined;
  }

  /** Send what changed since the last post, now. */
  flush(): void {
    this.timer?.dispose();
    this.timer = undefined;
    if (!this.post) {
      return;
    }
    const turns = this.transcript.turns;
    const changed = turns.filter((t) => this.sent.get(t.turnId) !== t.revision);
    const order = turns.map((t) => t.turnId);
    this.sent = new Map(turns.map((t) => [t.turnId, t.revision]));
    this.post({ type: "turns", order, changed: structuredClone(changed) });
  }

  private schedule(): void {
    if (this.post && !this.timer) {
      this.timer = this.clock.setTimeout(() => this.flush(), FRAME_MS);
    }
  }
}
