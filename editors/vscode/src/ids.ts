/** The extension's own command ids (package.json contributes each). They differ from the server's `codex.*`
 * commands, which vscode-languageclient registers under their own ids. */
export const Command = {
  ask: "codex-lsp.ask",
  fixFile: "codex-lsp.fixFile",
  cancel: "codex-lsp.cancel",
  acceptHunk: "codex-lsp.acceptHunk",
  rejectHunk: "codex-lsp.rejectHunk",
  applyProposal: "codex-lsp.applyProposal",
  discardProposal: "codex-lsp.discardProposal",
  showStatus: "codex-lsp.showStatus",
  newThread: "codex-lsp.newThread",
  showTranscript: "codex-lsp.showTranscript",
  showLog: "codex-lsp.showLog",
  restart: "codex-lsp.restart",
  signIn: "codex-lsp.signIn",
  signOut: "codex-lsp.signOut",
  /** The status bar's action while a sign-in waits: copy the code and open the page (not in the palette). */
  continueSignIn: "codex-lsp.continueSignIn",
} as const;
