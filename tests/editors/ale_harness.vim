" Loaded first by tests/editors/ale_driver.py, before the README's Vim + ALE snippet.
"
" Sets Vim up as a person's would be (filetype plugins on) minus what would stop a test (no swap file, no
" -- More -- prompt), logs every channel's traffic (ALE's language-server jobs included) to
" $CODEX_TEST_CHLOG, and opens a JSON channel to the test on $CODEX_TEST_PORT: the test sends
" ["expr", ..., -N] there to read Vim's state while it types keys through tmux. Nothing of ALE is replaced.

set nocompatible
filetype plugin indent on
syntax on
set noswapfile nomore shortmess+=I
set hidden

call ch_logfile($CODEX_TEST_CHLOG, 'w')
" Everything Vim writes to its message area (echo included, which :messages does not keep) also goes to
" $CODEX_TEST_ECHOED, so a message that was shown and then replaced by the next one is still on record.
execute 'redir >> ' . fnameescape($CODEX_TEST_ECHOED)

" What Vim wrote to its message area so far (closing the file flushes it; recording goes on after).
function! CodexTestEchoed() abort
    redir END
    let l:text = join(readfile($CODEX_TEST_ECHOED), "\n")
    execute 'redir >> ' . fnameescape($CODEX_TEST_ECHOED)
    return l:text
endfunction
let g:codex_test_channel = ch_open('127.0.0.1:' . $CODEX_TEST_PORT, {'mode': 'json', 'waittime': 10000})

" What the test reads: the buffer of `name` (text and modified flag), where the cursor is, the windows of
" ALE's preview (where ALE shows a long window/showMessage), :messages and ALE's own records.
function! CodexTestState(name) abort
    let l:buffer = bufnr(a:name)
    let l:previews = filter(getwininfo(), {_, w -> getbufvar(w.bufnr, '&filetype') =~# '^ale-preview'})

    return {
    \   'text': l:buffer < 0 ? v:null : join(getbufline(l:buffer, 1, '$'), "\n") . "\n",
    \   'modified': l:buffer < 0 ? v:null : getbufvar(l:buffer, '&modified'),
    \   'cursor': getpos('.')[1:2],
    \   'mode': mode(),
    \   'previews': map(l:previews, {_, w -> getbufline(w.bufnr, 1, '$')}),
    \   'messages': execute('messages'),
    \   'lsp_errors': get(g:, 'ale_lsp_error_messages', {}),
    \}
endfunction

" ALE's problems for buffer `name`, as it lists them (lnum, col, code, text, linter_name).
function! CodexTestProblems(name) abort
    let l:info = get(g:ale_buffer_info, bufnr(a:name), {})

    return map(copy(get(l:info, 'loclist', [])), {_, e -> {
    \   'lnum': e.lnum, 'col': e.col, 'code': get(e, 'code', ''), 'text': e.text,
    \   'linter': e.linter_name, 'end_lnum': get(e, 'end_lnum', v:null),
    \}})
endfunction
