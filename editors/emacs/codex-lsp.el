;;; codex-lsp.el --- Codex through Eglot: ask, fix, cancel  -*- lexical-binding: t; -*-

;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: tools, languages

;;; Commentary:

;; Eglot alone already talks to `codex-lsp --stdio': its code actions
;; ("Codex: add docstrings" on a region...) run the agent, and the edits
;; arrive as workspace edits.  This file makes that comfortable:
;;
;; - Before each `eglot-code-actions' request, every Flymake diagnostic of
;;   the buffer -- from any backend, not only Eglot's -- is sent to the
;;   server (`codex/didChangeDiagnostics'), so "Fix with Codex" is offered
;;   for them.  Eglot sends a server only the diagnostics that server
;;   published, and codex-lsp publishes none.
;; - Turn commands (codex.ask, codex.fixDiagnostics) run in the background.
;;   `eglot-execute-command' waits for the command's answer, which for a turn
;;   comes when the agent is done, and gives up after
;;   `jsonrpc-default-request-timeout' (10 s) with "Timed out".  Here Emacs
;;   stays usable; the edits arrive as they are made and the answer is shown
;;   when the turn ends.
;; - Eglot 1.9 answers `window/showMessageRequest' (a minibuffer choice) but
;;   does not declare it, and codex-lsp asks approval for a shell command only
;;   of clients that declare it.  The helper declares it to codex-lsp.
;; - jsonrpc 1.0.14 (Emacs 28) can hold back the messages that arrive together
;;   with the reply to a synchronous request until the server sends more; the
;;   helper has them handled at once (see `codex-lsp--drain').
;; - Commands: `codex-lsp-ask' (an active region is the code in question),
;;   `codex-lsp-fix' (the diagnostics on the line; with a prefix argument all
;;   of the file's), `codex-lsp-cancel', `codex-lsp-new-thread',
;;   `codex-lsp-status'.  Answers go to the *codex* buffer.
;; - The OpenAI sign-in: `codex-lsp-login' (ChatGPT with a code to enter in
;;   the browser, ChatGPT in a browser on the server's machine, or an API
;;   key), `codex-lsp-account', `codex-lsp-logout'.  The server signs in
;;   itself and shows the code and its page (in *Messages*); the sign-in runs
;;   in the background, and its API key never reaches Eglot's events buffer.
;; - Review mode (editMode "review"), which Eglot cannot show (it has no code
;;   lenses): `codex-lsp-review' lists the pending hunks as diffs, to accept
;;   or reject one by one; `codex-lsp-accept-hunk' and `codex-lsp-reject-hunk'
;;   also work on the hunk on the current line of a file.
;;
;; Setup, once `eglot-server-programs' names codex-lsp for your modes:
;;
;;   (require 'codex-lsp)
;;
;; Written for Eglot 1.9 (Emacs 28, Debian 12) and tested there end to end
;; (tests/editors/test_emacs.py in the codex-lsp repository).

;;; Code:

(require 'cl-lib)
(require 'diff-mode)
(require 'eglot)
(require 'flymake)
(require 'jsonrpc)
(require 'seq)
(require 'subr-x)

(defgroup codex-lsp nil
  "The Codex agent through Eglot and codex-lsp."
  :group 'eglot
  :prefix "codex-lsp-")

(defcustom codex-lsp-show-answers t
  "Non-nil means show the *codex* buffer when an ask turn answers."
  :type 'boolean)

(defvar codex-lsp-turn-finished-functions nil
  "Functions called with a turn's result plist when a turn command answers.
The plist has :threadId, :turnId, :status (\"completed\", \"interrupted\" or
\"failed\"), :message, :changedFiles, :usage and, for a failed turn, :error.
When the server refuses the command they get (:status \"error\" :error TEXT).")

(defvar codex-lsp-login-finished-functions nil
  "Functions called with the result plist of `codex-lsp-login' when it ends.
The plist has :status (\"signedIn\", \"cancelled\" or \"failed\"), :account
\(what `codex-lsp-account' reads) and, when it failed, :error.  When the
server refuses the command they get (:status \"error\" :error TEXT).")

(defconst codex-lsp--turn-commands '("codex.ask" "codex.fixDiagnostics")
  "The server commands that run an agent turn, answering when it ends.")

(defvar codex-lsp--threads (make-hash-table :test #'eq :weakness 'key)
  "Per server, the thread the next `codex-lsp-ask' continues.")

;;; The server

(defun codex-lsp--codex-p (server)
  "Return non-nil if SERVER, an Eglot server, is codex-lsp.
That is, if it offers the codex.ask command."
  (let* ((provider (plist-get (eglot--capabilities server)
                              :executeCommandProvider))
         (commands (plist-get provider :commands)))
    (and (seq-contains-p commands "codex.ask") t)))

(defun codex-lsp--started-as-codex-p (server)
  "Return non-nil if SERVER's process runs codex-lsp.
Unlike `codex-lsp--codex-p', this is known before the server answers."
  (let ((command (ignore-errors (process-command (jsonrpc--process server)))))
    (and (seq-some (lambda (word)
                     (string-match-p "codex[-_]lsp"
                                     (file-name-nondirectory word)))
                   command)
         t)))

(cl-defmethod eglot-client-capabilities :around (server)
  "Declare to codex-lsp that Eglot answers `window/showMessageRequest'.
Eglot 1.9 handles the request without declaring it, and codex-lsp asks
approval for a shell command only of clients that declare it (the others'
commands are denied).  SERVER is the server being initialized."
  (let ((capabilities (copy-sequence (cl-call-next-method))))
    (if (not (codex-lsp--started-as-codex-p server))
        capabilities
      (let ((window (copy-sequence (plist-get capabilities :window)))
            (answers '(:messageActionItem
                       (:additionalPropertiesSupport :json-false))))
        (plist-put capabilities :window
                   (plist-put window :showMessage answers))))))

;;; Messages read together with a reply

(defun codex-lsp--drain (connection)
  "Soon, parse the messages CONNECTION received but has not handled yet.
jsonrpc 1.0.14 (Emacs 28) leaves its process filter by a non-local exit
when the reply to a synchronous `jsonrpc-request' arrives, and so does not
handle the messages read in the same chunk after it until the server sends
something more -- for codex-lsp, possibly the answer of a turn, or an edit
it waits for.  Handing the filter no new text makes it parse those."
  (let ((process (and (cl-typep connection 'jsonrpc-process-connection)
                      (jsonrpc--process connection))))
    (when (and process (process-live-p process)
               (buffer-live-p (process-buffer process))
               (with-current-buffer (process-buffer process)
                 (< (point) (process-mark process))))
      (run-at-time 0 nil (lambda ()
                           (when (process-live-p process)
                             (jsonrpc--process-filter process "")))))))

(defun codex-lsp--request-then-drain (request connection &rest args)
  "Call REQUEST (`jsonrpc-request') with CONNECTION and ARGS, then drain."
  (unwind-protect (apply request connection args)
    (codex-lsp--drain connection)))

(advice-add 'jsonrpc-request :around #'codex-lsp--request-then-drain)

(defun codex-lsp--server ()
  "Return the current buffer's codex-lsp server; signal an error if none."
  (let ((server (eglot-current-server)))
    (unless (and server (codex-lsp--codex-p server))
      (user-error "No codex-lsp server manages this buffer (start one: M-x eglot)"))
    server))

(defun codex-lsp--document ()
  "Return the current buffer as the server knows it: (:uri URI :version N).
Pending changes are sent first, so N is the version the server has."
  (eglot--signal-textDocument/didChange)
  (list :uri (plist-get (eglot--TextDocumentIdentifier) :uri)
        :version eglot--versioned-identifier))

;;; Diagnostics

(defun codex-lsp--severity (type)
  "Return the LSP severity of the Flymake diagnostic TYPE."
  (pcase type
    ((or :error 'eglot-error) 1)
    ((or :warning 'eglot-warning) 2)
    (_ 3)))

(defun codex-lsp--lsp-diagnostic (diagnostic)
  "Return DIAGNOSTIC, a Flymake diagnostic of this buffer, in LSP terms."
  (or (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data diagnostic)))
      (let ((backend (flymake-diagnostic-backend diagnostic))
            (beg (flymake-diagnostic-beg diagnostic))
            (end (flymake-diagnostic-end diagnostic)))
        `(:range (:start ,(eglot--pos-to-lsp-position beg)
                  :end ,(eglot--pos-to-lsp-position end))
          :severity ,(codex-lsp--severity (flymake-diagnostic-type diagnostic))
          ,@(when backend `(:source ,(format "%s" backend)))
          :message ,(flymake-diagnostic-text diagnostic)))))

(defun codex-lsp--diagnostics (&optional beg end)
  "Return the Flymake diagnostics between BEG and END as LSP diagnostics.
BEG and END default to the whole buffer."
  (vconcat (mapcar #'codex-lsp--lsp-diagnostic
                   (flymake-diagnostics (or beg (point-min))
                                        (or end (point-max))))))

(defun codex-lsp-report-diagnostics ()
  "Send every Flymake diagnostic of the buffer to its codex-lsp server.
Do nothing when no codex-lsp server manages the buffer."
  (when-let ((server (eglot-current-server)))
    (when (codex-lsp--codex-p server)
      (jsonrpc-notify server :codex/didChangeDiagnostics
                      (append (codex-lsp--document)
                              (list :diagnostics (codex-lsp--diagnostics)))))))

(defun codex-lsp--before-code-actions (&rest _)
  "Report the diagnostics, so the code actions asked for next include them."
  (codex-lsp-report-diagnostics))

(advice-add 'eglot-code-actions :before #'codex-lsp--before-code-actions)

;;; Turns

(defun codex-lsp--transcript (format-string &rest args)
  "Append FORMAT-STRING formatted with ARGS, and a newline, to *codex*.
Return the buffer."
  (with-current-buffer (get-buffer-create "*codex*")
    (let ((inhibit-read-only t))
      (goto-char (point-max))
      (insert (apply #'format format-string args) "\n"))
    (setq buffer-read-only t)
    (current-buffer)))

(defun codex-lsp--title (command argument)
  "Return a one-line description of turn COMMAND with ARGUMENT."
  (let ((prompt (plist-get argument :prompt)))
    (cond (prompt (car (split-string prompt "\n")))
          ((eq (plist-get argument :all) t) "fix every problem in the file")
          (t (let ((first (seq-first (plist-get argument :diagnostics))))
               (format "fix: %s"
                       (if first (plist-get first :message) command)))))))

(defun codex-lsp--finished (server command result)
  "Show RESULT, the answer of turn COMMAND on SERVER; run the hooks."
  (when (and (equal command "codex.ask") (plist-get result :threadId))
    (puthash server (plist-get result :threadId) codex-lsp--threads))
  (let* ((status (plist-get result :status))
         (text (string-trim (or (plist-get result :message) "")))
         (files (append (plist-get result :changedFiles) nil))
         (error-text (plist-get result :error))
         (proposal (plist-get result :proposalId))
         (held (and proposal
                    (format "held for review as %s: M-x codex-lsp-review"
                            proposal)))
         (buffer (codex-lsp--transcript
                  "%s%s%s\n"
                  (if (equal status "completed") "" (format "[%s] " status))
                  (if (string-empty-p text) "" (concat text "\n"))
                  (cond (held held)
                        (files (format "changed: %s" (string-join files ", ")))
                        (t "")))))
    (message "Codex: %s%s%s" status
             (if error-text (format " (%s)" error-text) "")
             (if held (concat ", " held) ""))
    (when (and codex-lsp-show-answers (equal command "codex.ask")
               (not (string-empty-p text)))
      (display-buffer buffer)))
  (run-hook-with-args 'codex-lsp-turn-finished-functions result))

(defun codex-lsp--refused (text)
  "Report TEXT, the server's refusal of a turn command; run the hooks."
  (codex-lsp--transcript "[error] %s\n" text)
  (message "Codex: %s" text)
  (run-hook-with-args 'codex-lsp-turn-finished-functions
                      (list :status "error" :error text)))

(defun codex-lsp--start-turn (server command argument)
  "Run turn COMMAND on SERVER with ARGUMENT (a plist); do not wait for it."
  (let ((command (format "%s" command))
        (title (codex-lsp--title (format "%s" command) argument)))
    (codex-lsp--transcript "> %s" title)
    (message "Codex: working on %s..." title)
    (jsonrpc-async-request
     server :workspace/executeCommand
     `(:command ,command :arguments ,(vector argument))
     :success-fn (lambda (result) (codex-lsp--finished server command result))
     :error-fn (jsonrpc-lambda (&key message &allow-other-keys)
                 (codex-lsp--refused message))
     ;; A turn takes as long as the agent needs; `codex-lsp-cancel' ends it.
     :timeout nil)
    nil))

(cl-defmethod eglot-execute-command :around (server command arguments)
  "Run codex-lsp's turn commands in the background, others as before.
SERVER, COMMAND and ARGUMENTS are those of `eglot-execute-command'; code
actions run their commands through it."
  (if (and (codex-lsp--codex-p server)
           (member (format "%s" command) codex-lsp--turn-commands)
           (= (length arguments) 1))
      (codex-lsp--start-turn server command (elt arguments 0))
    (cl-call-next-method)))

;;; Review mode

(defun codex-lsp--run (server command &optional argument)
  "Run COMMAND on SERVER with ARGUMENT (a plist); return the answer."
  (jsonrpc-request server :workspace/executeCommand
                   `(:command ,command
                     :arguments ,(if argument (vector argument) []))))

(defun codex-lsp--proposals (server)
  "Return SERVER's proposals with hunks still pending, as a list."
  (append (plist-get (codex-lsp--run server "codex.proposals") :proposals) nil))

(defun codex-lsp--hunk-on-line (server)
  "Return (PROPOSAL-ID . HUNK-ID) of a pending hunk on this line, or nil.
A hunk is on the lines its range covers in the buffer's current text."
  (eglot--signal-textDocument/didChange)
  (let ((file (file-truename buffer-file-name))
        (line (1- (line-number-at-pos))))
    (cl-loop
     for proposal in (codex-lsp--proposals server) thereis
     (cl-loop
      for hunk across (plist-get proposal :hunks)
      for range = (plist-get hunk :range)
      for start = (and range (plist-get (plist-get range :start) :line))
      for end = (and range (plist-get (plist-get range :end) :line))
      when (and start
                (equal (plist-get hunk :status) "pending")
                (equal (file-truename (eglot--uri-to-path (plist-get hunk :uri)))
                       file)
                (<= start line (max start end)))
      return (cons (plist-get proposal :proposalId) (plist-get hunk :hunkId))))))

(defvar-local codex-lsp--review-server nil
  "In a *codex review* buffer, the server whose proposals it shows.")

(defun codex-lsp--review-context ()
  "Return (SERVER PROPOSAL-ID . HUNK-ID) for the hunk at point.
In *codex review*, the hunk under point; elsewhere, the one on this line."
  (if codex-lsp--review-server
      (let ((hunk (get-text-property (point) 'codex-lsp-hunk)))
        (unless hunk (user-error "Not on a hunk"))
        (cons codex-lsp--review-server hunk))
    (let* ((server (codex-lsp--server))
           (hunk (codex-lsp--hunk-on-line server)))
      (unless hunk
        (user-error "No pending Codex hunk on this line (M-x codex-lsp-review)"))
      (cons server hunk))))

(defun codex-lsp--decision-summary (answer)
  "Return a line saying what ANSWER, a decision's answer, did."
  (let* ((accepted (plist-member answer :accepted))
         (done (append (plist-get answer (if accepted :accepted :rejected)) nil))
         (conflicted (append (plist-get answer :conflicted) nil))
         (text (string-trim (or (plist-get answer :message) ""))))
    (string-join
     (delq nil (list (and done (format "%s %s" (string-join done ", ")
                                       (if accepted "accepted" "rejected")))
                     (and conflicted
                          (format "%s conflicted (not applied)"
                                  (string-join conflicted ", ")))
                     (and (not (string-empty-p text)) text)))
     "; ")))

(defun codex-lsp--decide (command key)
  "Run decision COMMAND on the hunk at point; KEY is what it needs of it.
KEY is :hunkId for one hunk, :proposalId for the whole proposal."
  (pcase-let* ((`(,server ,proposal . ,hunk) (codex-lsp--review-context))
               (argument (if (eq key :hunkId)
                             (list :proposalId proposal :hunkId hunk)
                           (list :proposalId proposal)))
               (answer (codex-lsp--run server command argument))
               (summary (codex-lsp--decision-summary answer)))
    (codex-lsp--transcript "%s" summary)
    (message "Codex: %s" summary)
    (when-let ((buffer (get-buffer "*codex review*")))
      (with-current-buffer buffer (codex-lsp--render-review)))
    answer))

(defun codex-lsp-accept-hunk ()
  "Apply the pending Codex hunk at point (review mode)."
  (interactive)
  (codex-lsp--decide "codex.acceptHunk" :hunkId))

(defun codex-lsp-reject-hunk ()
  "Drop the pending Codex hunk at point (review mode)."
  (interactive)
  (codex-lsp--decide "codex.rejectHunk" :hunkId))

(defun codex-lsp-apply-proposal ()
  "Apply every pending hunk of the proposal the hunk at point is part of."
  (interactive)
  (codex-lsp--decide "codex.applyProposal" :proposalId))

(defun codex-lsp-discard-proposal ()
  "Drop every pending hunk of the proposal the hunk at point is part of."
  (interactive)
  (codex-lsp--decide "codex.discardProposal" :proposalId))

(defvar codex-lsp-review-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map "a" #'codex-lsp-accept-hunk)
    (define-key map "r" #'codex-lsp-reject-hunk)
    (define-key map "A" #'codex-lsp-apply-proposal)
    (define-key map "D" #'codex-lsp-discard-proposal)
    map)
  "Keys of *codex review*: a/r accept/reject the hunk at point,
A/D apply/discard its whole proposal (and g shows them again).")

(define-derived-mode codex-lsp-review-mode special-mode "Codex review"
  "The pending hunks of Codex's proposals (editMode review), as diffs.
\\{codex-lsp-review-mode-map}"
  (setq-local font-lock-defaults diff-font-lock-defaults)
  (setq-local revert-buffer-function
              (lambda (&rest _) (codex-lsp--render-review))))

(defun codex-lsp--render-review ()
  "Show the pending proposals of `codex-lsp--review-server' here."
  (let ((inhibit-read-only t)
        (proposals (codex-lsp--proposals codex-lsp--review-server)))
    (erase-buffer)
    (unless proposals
      (insert "No pending proposal.\n"))
    (dolist (proposal proposals)
      (let ((id (plist-get proposal :proposalId)))
        (insert (format "Proposal %s\n" id))
        (seq-doseq (hunk (plist-get proposal :hunks))
          (let ((start (point)))
            (insert (format "# %s: %s [%s]%s\n"
                            (plist-get hunk :hunkId) (plist-get hunk :label)
                            (plist-get hunk :status)
                            (if (plist-get hunk :conflict)
                                (format " %s" (plist-get hunk :conflict))
                              ""))
                    (plist-get hunk :diff))
            (put-text-property start (point) 'codex-lsp-hunk
                               (cons id (plist-get hunk :hunkId)))))))
    (goto-char (point-min))))

;;;###autoload
(defun codex-lsp-review ()
  "Show the pending hunks of Codex's proposals (editMode review).
In the *codex review* buffer, a and r accept or reject the hunk at point, A
and D apply or discard its proposal.  In a source buffer,
`codex-lsp-accept-hunk' and `codex-lsp-reject-hunk' act on the hunk on the
current line."
  (interactive)
  (let ((server (codex-lsp--server)))
    (with-current-buffer (get-buffer-create "*codex review*")
      (codex-lsp-review-mode)
      (setq codex-lsp--review-server server)
      (codex-lsp--render-review)
      (display-buffer (current-buffer)))))

;;; Commands

;;;###autoload
(defun codex-lsp-ask (prompt)
  "Ask Codex PROMPT about this buffer; an active region is the code meant.
Asks continue the thread of the previous one until `codex-lsp-new-thread'."
  (interactive
   (list (read-string (if (use-region-p)
                          "Ask Codex about the region: "
                        "Ask Codex: "))))
  (when (string-empty-p (string-trim prompt))
    (user-error "Nothing to ask"))
  (let* ((server (codex-lsp--server))
         (thread (gethash server codex-lsp--threads))
         (argument (append (list :prompt prompt) (codex-lsp--document))))
    (when (use-region-p)
      (let ((beg (eglot--pos-to-lsp-position (region-beginning)))
            (end (eglot--pos-to-lsp-position (region-end))))
        (setq argument
              (append argument (list :range (list :start beg :end end))))))
    (when thread
      (setq argument (append argument (list :threadId thread))))
    (codex-lsp--start-turn server "codex.ask" argument)))

;;;###autoload
(defun codex-lsp-fix (&optional whole-file)
  "Fix the Flymake diagnostics on this line with Codex.
With WHOLE-FILE (a prefix argument), fix every diagnostic of the buffer."
  (interactive "P")
  (let ((server (codex-lsp--server)))
    (codex-lsp-report-diagnostics)
    (if whole-file
        (progn
          (unless (flymake-diagnostics)
            (user-error "Flymake reports no problem in this buffer"))
          (codex-lsp--start-turn server "codex.fixDiagnostics"
                                 (append (codex-lsp--document) (list :all t))))
      (let ((here (codex-lsp--diagnostics (line-beginning-position)
                                          (line-end-position))))
        (when (seq-empty-p here)
          (user-error "No diagnostic on this line (C-u for the whole file)"))
        (codex-lsp--start-turn server "codex.fixDiagnostics"
                               (append (codex-lsp--document)
                                       (list :diagnostics here)))))))

;;;###autoload
(defun codex-lsp-cancel ()
  "Stop every running Codex turn of this buffer's server.
Edits already made stay (`undo' reverts them)."
  (interactive)
  (let ((result (jsonrpc-request (codex-lsp--server) :workspace/executeCommand
                                 '(:command "codex.interrupt" :arguments []))))
    (message "Codex: %d turn(s) interrupted"
             (length (plist-get result :interrupted)))))

;;;###autoload
(defun codex-lsp-new-thread ()
  "Make the next `codex-lsp-ask' start a new conversation."
  (interactive)
  (remhash (codex-lsp--server) codex-lsp--threads)
  (message "Codex: the next ask starts a new thread"))

;;; The OpenAI sign-in

(defconst codex-lsp--login-methods
  '(("device" . "device") ("browser" . "browser") ("apikey" . "apiKey"))
  "The methods of `codex-lsp-login', as offered and as the server names them.")

(defun codex-lsp--time (seconds)
  "Return SECONDS since the epoch as a local date and time."
  (format-time-string "%Y-%m-%d %H:%M" (seconds-to-time seconds)))

(defun codex-lsp--token-line (account)
  "Return when ACCOUNT's access token expires and whether it is due, or nil."
  (let ((expires (plist-get account :expiresAt))
        (due (plist-get account :refreshDue)))
    (cond ((and (numberp expires) due)
           (format "access token expires %s: the next request refreshes it first"
                   (codex-lsp--time expires)))
          ((numberp expires)
           (format "access token valid until %s" (codex-lsp--time expires)))
          (due "the next request refreshes the sign-in first"))))

(defun codex-lsp--describe-account (account)
  "Return a line saying who ACCOUNT (a codex.account answer) signs in as."
  (let ((mode (plist-get account :mode))
        (source (or (plist-get account :source) "?"))
        (problem (plist-get account :problem))
        (provider (or (plist-get account :provider) "?")))
    (cond
     ((eq (plist-get account :usesAccount) :json-false)
      (format "provider %s %s, not the OpenAI sign-in" provider
              (if mode (format "uses its own key (%s)" source)
                (or problem "has no key"))))
     ((null (plist-get account :usesAccount))
      (format "configuration: %s" (or problem "not read")))
     ((and (eq (plist-get account :signedIn) t) (equal mode "chatgpt"))
      (let ((details (delq nil (list (when-let ((plan (plist-get account :plan)))
                                       (format "plan %s" plan))
                                     (when-let ((id (plist-get account :accountId)))
                                       (format "workspace %s" id)))))
            (token (codex-lsp--token-line account)))
        (format "signed in with ChatGPT as %s%s%s"
                (or (plist-get account :email) "an account without an email")
                (if details (format " (%s)" (string-join details ", ")) "")
                (if token (concat "; " token) ""))))
     ((eq (plist-get account :signedIn) t)
      (format "signed in with an API key (%s)" source))
     (t (format "%s Sign in: M-x codex-lsp-login."
                (string-trim-right (or problem "Not signed in.")))))))

(defun codex-lsp--login-finished (result)
  "Report RESULT, the answer of `codex-lsp-login'; run the hooks."
  (pcase (plist-get result :status)
    ("cancelled" (message "Codex: sign-in cancelled"))
    ("signedIn"
     (let ((account (plist-get result :account)))
       (message "Codex: %s" (codex-lsp--describe-account account))))
    ;; A failure: the server says why itself (window/showMessage).
    (_ nil))
  (run-hook-with-args 'codex-lsp-login-finished-functions result))

(defun codex-lsp--send-quietly (server function &rest args)
  "Call FUNCTION with SERVER and ARGS, the message kept out of its events buffer.
For a request carrying a secret (an API key): the events buffer is what
people paste into bug reports."
  (let ((size (jsonrpc--events-buffer-scrollback-size server)))
    (setf (jsonrpc--events-buffer-scrollback-size server) 0)
    (unwind-protect (apply function server args)
      (setf (jsonrpc--events-buffer-scrollback-size server) size))))

;;;###autoload
(defun codex-lsp-login (method)
  "Sign codex-lsp in to OpenAI by METHOD, as `codex login' does.
METHOD is \"device\" (a code to enter on a web page: the server shows both,
in *Messages*; works when the server runs on another machine), \"browser\"
\(the sign-in page, opened in a browser on the server's machine, comes back
to it) or \"apikey\" (an OpenAI API key, read without echo).  The sign-in
runs in the background; running this again starts over."
  (interactive
   (list (completing-read "Sign in to OpenAI with (device, browser, apikey): "
                          (mapcar #'car codex-lsp--login-methods) nil t nil nil
                          "device")))
  (let* ((server (codex-lsp--server))
         (wire (or (cdr (assoc method codex-lsp--login-methods))
                   (user-error "Unknown sign-in method %s (device, browser or apikey)"
                               method)))
         (typed (when (equal wire "apiKey") (read-passwd "OpenAI API key: ")))
         (key (and typed (string-trim typed)))
         (argument (if key (list :method wire :apiKey key) (list :method wire))))
    (when (and key (string-empty-p key))
      (user-error "No key entered: not signed in"))
    (unwind-protect
        (codex-lsp--send-quietly
         server #'jsonrpc-async-request :workspace/executeCommand
         `(:command "codex.login" :arguments ,(vector argument))
         :success-fn #'codex-lsp--login-finished
         :error-fn (jsonrpc-lambda (&key message &allow-other-keys)
                     (message "Codex: %s" message)
                     (run-hook-with-args 'codex-lsp-login-finished-functions
                                         (list :status "error" :error message)))
         ;; The sign-in lasts as long as the user takes (at most 15 minutes).
         :timeout nil)
      (when key
        (clear-string typed)
        (clear-string key)))
    (unless key
      (message "Codex: signing in (%s); the server shows what to do" method))
    nil))

;;;###autoload
(defun codex-lsp-account ()
  "Show who codex-lsp's model requests go out as (never a token or a key).
Return the server's answer, a plist."
  (interactive)
  (let ((account (codex-lsp--run (codex-lsp--server) "codex.account")))
    (message "Codex: %s" (codex-lsp--describe-account account))
    account))

;;;###autoload
(defun codex-lsp-logout ()
  "Sign codex-lsp out of OpenAI: revoke the sign-in and delete auth.json."
  (interactive)
  (let ((result (codex-lsp--run (codex-lsp--server) "codex.logout")))
    (message "Codex: %s" (if (eq (plist-get result :signedOut) t)
                             "signed out"
                           "was not signed in"))
    result))

;;;###autoload
(defun codex-lsp-status ()
  "Show the model, provider and connection of codex-lsp.
Also whether it found a key, or who is signed in with ChatGPT (never a
token or a key)."
  (interactive)
  (let* ((status (jsonrpc-request (codex-lsp--server) :workspace/executeCommand
                                  '(:command "codex.status" :arguments [])))
         (account (plist-get status :account)))
    (message "Codex: %s"
             (or (plist-get status :configError)
                 (format "%s via %s, %s, connection %s; %d turn(s) running"
                         (plist-get status :model) (plist-get status :provider)
                         (cond ((and (equal (plist-get account :mode) "chatgpt")
                                     (not (plist-get account :problem)))
                                (format "signed in with ChatGPT as %s"
                                        (or (plist-get account :email) "?")))
                               ((eq (plist-get status :keyFound) t) "key found")
                               (t "key NOT found"))
                         (plist-get status :connection)
                         (length (plist-get status :runningTurns)))))))

(provide 'codex-lsp)
;;; codex-lsp.el ends here
