;;; emacs_harness.el --- loaded first by every Emacs a test starts  -*- lexical-binding: t; -*-

;;; Commentary:

;; tests/editors/emacs_driver.py runs
;;
;;   emacs --batch -l emacs_harness.el -l SCENARIO.el
;;
;; The scenario calls `codex-test-run' with a function that acts as a person
;; would (open a file, run a command), waits for what should follow with
;; `codex-test-wait' and records what it saw with `codex-test-record'.  When
;; the function returns or fails, the records -- on failure also the error,
;; the *Messages* buffer and the end of Eglot's event log -- are written as
;; JSON to $CODEX_TEST_RESULT, every Eglot server is shut down and Emacs exits
;; (status 0, or 1 on failure).
;;
;; Prompts are answered as the scenario says: `y-or-n-p' says yes (each
;; question recorded under `confirmations'), and `codex-test-choose' picks a
;; menu entry.  The methods servers sent are recorded under `server-methods'.
;; The same holds for lsp-mode (tests/editors/test_lsp_mode.py): its servers'
;; methods are recorded too, its *lsp-log* buffers go into a failure's
;; report and its servers are shut down at the end.

;;; Code:

(require 'cl-lib)
(require 'json)
(require 'seq)
(require 'subr-x)

;; An interactive Emacs activates the installed packages at startup -- that
;; defines the autoloads, such as M-x eglot for Debian's elpa-eglot -- and a
;; batch Emacs does not: do it here.
(package-activate-all)

(defvar codex-test-wait-seconds 20
  "Default bound on one `codex-test-wait', in seconds.")

(defvar codex-test--records nil
  "What the scenario recorded, newest first: (KEY . VALUE).")

(defvar codex-test--confirmations nil
  "The `y-or-n-p' questions asked, newest first.")

(defun codex-test-record (key value)
  "Record VALUE under KEY (a symbol) for the test to read."
  (push (cons key value) codex-test--records))

(defun codex-test-bool (value)
  "Return VALUE as a JSON boolean (nil would be null)."
  (if value t :json-false))

(defun codex-test-wait (predicate what &optional seconds)
  "Wait until PREDICATE returns non-nil, at most SECONDS; fail naming WHAT.
Processes and timers keep running meanwhile, so the language server's
messages are handled."
  (let* ((bound (or seconds codex-test-wait-seconds))
         (deadline (+ (float-time) bound)))
    (while (not (funcall predicate))
      (when (> (float-time) deadline)
        (error "Timed out after %ss waiting for %s" bound what))
      (accept-process-output nil 0.05))))

(defun codex-test--yes (prompt)
  "Answer yes to PROMPT, recording it."
  (push (substring-no-properties prompt) codex-test--confirmations)
  t)

(advice-add 'y-or-n-p :override #'codex-test--yes)

(defvar codex-test--server-methods nil
  "The methods of the requests and notifications servers sent, newest first.")

(defun codex-test--server-method (_server method &rest _)
  "Note METHOD, a request or notification from a server Eglot handles."
  (push (format "%s" method) codex-test--server-methods))

(with-eval-after-load 'eglot
  (advice-add 'eglot-handle-request :before #'codex-test--server-method)
  (advice-add 'eglot-handle-notification :before #'codex-test--server-method))

(defun codex-test--lsp-mode-method (_workspace message)
  "Note the method of MESSAGE, a request or notification lsp-mode handles."
  (push (format "%s" (lsp-get message :method)) codex-test--server-methods))

(with-eval-after-load 'lsp-mode
  (advice-add 'lsp--on-request :before #'codex-test--lsp-mode-method)
  (advice-add 'lsp--on-notification :before #'codex-test--lsp-mode-method))

(defmacro codex-test-choose (pick &rest body)
  "Run BODY choosing, at the menu it shows, the first entry PICK accepts.
The question is recorded under `asked', the entries under `offered'.
BODY runs as if typed on the keyboard, so menus are read in the minibuffer
\(`completing-read'), not shown as pop-up menus."
  (declare (indent 1))
  `(let ((last-nonmenu-event ?\r))
     (cl-letf (((symbol-function 'completing-read)
                (lambda (prompt collection &rest _)
                  (let ((entries (mapcar (lambda (e) (if (consp e) (car e) e))
                                         collection)))
                    (codex-test-record 'asked (substring-no-properties prompt))
                    (codex-test-record 'offered (vconcat entries))
                    (or (seq-find ,pick entries)
                        (error "None of %S is the entry wanted" entries))))))
       ,@body)))

(defun codex-test--tail (buffer-name chars)
  "Return the last CHARS characters of BUFFER-NAME, or nil without it."
  (when-let ((buffer (get-buffer buffer-name)))
    (with-current-buffer buffer
      (buffer-substring-no-properties (max (point-min) (- (point-max) chars))
                                      (point-max)))))

(defun codex-test--events ()
  "Return the end of every Eglot events buffer and lsp-mode log, for a failure report."
  (mapconcat (lambda (buffer) (codex-test--tail (buffer-name buffer) 6000))
             (seq-filter (lambda (b)
                           (string-match-p "events\\*\\'\\|\\`\\*lsp-log\\|::stderr\\*\\'"
                                           (buffer-name b)))
                         (buffer-list))
             "\n"))

(defun codex-test--write (failure)
  "Write the records, and FAILURE (an error message or nil), as JSON."
  (let ((report (append (reverse codex-test--records)
                        `((confirmations
                           . ,(vconcat (reverse codex-test--confirmations)))
                          (server-methods
                           . ,(vconcat (seq-uniq
                                        (reverse codex-test--server-methods))))
                          (messages
                           . ,(or (codex-test--tail "*Messages*" 8000) ""))))))
    (when failure
      (setq report (append report `((error . ,failure)
                                    (events . ,(codex-test--events))))))
    (with-temp-file (getenv "CODEX_TEST_RESULT")
      (insert (json-encode report)))))

(defun codex-test--shutdown ()
  "Shut every Eglot and lsp-mode server down (both end their processes)."
  (when (boundp 'eglot--servers-by-project)
    (maphash (lambda (_project servers)
               (dolist (server servers)
                 (ignore-errors (let ((inhibit-message t))
                                  (eglot-shutdown server)))))
             eglot--servers-by-project))
  (when (and (featurep 'lsp-mode) lsp--session)
    (dolist (workspace (lsp--session-workspaces lsp--session))
      (ignore-errors (let ((inhibit-message t))
                       (with-lsp-workspace workspace
                         (lsp--shutdown-workspace)))))))

(defun codex-test-run (scenario)
  "Run SCENARIO, a function of no arguments; report, shut down and exit."
  (let ((failure (condition-case err
                     (progn (funcall scenario) nil)
                   (error (error-message-string err)))))
    (codex-test--write failure)
    (codex-test--shutdown)
    (kill-emacs (if failure 1 0))))

;;; Helpers shared by the scenarios

(defun codex-test-open (file)
  "Visit FILE and start Eglot as M-x eglot does; wait for the server.
The project Eglot chose is recorded under `project'."
  (find-file file)
  (call-interactively #'eglot)
  (codex-test-wait #'eglot-current-server "the language server to start")
  (codex-test-record 'project
                     (expand-file-name
                      (project-root (eglot--project (eglot-current-server))))))

(defun codex-test-text ()
  "Return the current buffer's text."
  (buffer-substring-no-properties (point-min) (point-max)))

(defun codex-test-select (beg end)
  "Make the region BEG..END active, as a person selecting it would."
  (transient-mark-mode 1)
  (goto-char beg)
  (push-mark end t t)
  (exchange-point-and-mark))

(provide 'emacs_harness)
;;; emacs_harness.el ends here
