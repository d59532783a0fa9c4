"""Review mode in a real Neovim: a turn's changes held as a proposal of two hunks, shown as a diff; one hunk
accepted with a key in the review buffer, the other rejected with :Codex reject in the file."""

from __future__ import annotations

from pathlib import Path

from tests.editors.background import HostedFake
from tests.editors.conftest import NvimFactory
from tests.editors.nvim_codex import CodexNvim, patch, script

ORIGINAL = "".join(f"line{n:02d} = {n}\n" for n in range(1, 15))
HUNKS = (
    "@@\n line01 = 1\n-line02 = 2\n+line02 = 20\n line03 = 3\n"
    "@@\n line12 = 12\n-line13 = 13\n+line13 = 130\n line14 = 14\n"
)
SECOND_ONLY = ORIGINAL.replace("line13 = 13\n", "line13 = 130\n")
REVIEW = """# Codex proposal {}: 2 hunks pending
# a accept · r reject · A apply all · D discard all · ]h [h next/previous hunk · q close

# h1 app.py @@ -1,5 +1,5 @@
--- a/app.py
+++ b/app.py
@@ -1,5 +1,5 @@
 line01 = 1
-line02 = 2
+line02 = 20
 line03 = 3
 line04 = 4
 line05 = 5

# h2 app.py @@ -10,5 +10,5 @@
--- a/app.py
+++ b/app.py
@@ -10,5 +10,5 @@
 line10 = 10
 line11 = 11
 line12 = 12
-line13 = 13
+line13 = 130
 line14 = 14

"""


def test_review_mode_accepting_one_hunk_of_two(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake
) -> None:
    fake_responses.load(
        script(
            {"output": [{"type": "custom_tool_call", "input": patch("app.py", HUNKS)}]},
            {"output": [{"type": "message", "text": "Both constants updated."}]},
        )
    )
    editor = CodexNvim.start(
        nvim_factory, tmp_path, fake_responses, ruff=False, options={"settings": {"editMode": "review"}}
    )
    nvim = editor.nvim
    buf = editor.open("app.py", ORIGINAL)
    nvim.command("Codex ask update the two constants")
    editor.wait_idle()
    assert nvim.buffer_text(buf) == ORIGINAL  # held, not applied
    _, message = nvim.notifications()[-1]
    assert message.startswith("Codex: changes proposed for review (proposal ")
    assert "- proposed for review app.py" in editor.transcript()

    # The server's lenses show above each hunk in the file.
    nvim.wait_until(
        """function(b)
            local titles = {}
            for _, lens in ipairs(vim.lsp.codelens.get(b)) do titles[lens.command.title] = true end
            return titles['Codex: Accept h1'] and titles['Codex: Accept h2']
        end""",
        buf,
        what="the Accept lenses of both hunks",
    )

    # :Codex review shows the proposal as a diff, the cursor on its first hunk.
    nvim.command("Codex review")
    nvim.wait_until(
        "function() return vim.api.nvim_buf_get_name(0) == 'codex://review' end", what="the review"
    )
    proposal_id = next(iter(nvim.lua("return require('codex.review').proposals()")))
    assert nvim.buffer_text(0) == REVIEW.format(proposal_id)
    assert nvim.lua("return vim.api.nvim_get_current_line()") == "# h1 app.py @@ -1,5 +1,5 @@"

    nvim.command("normal ]h")  # to the second hunk
    assert nvim.lua("return vim.api.nvim_get_current_line()") == "# h2 app.py @@ -10,5 +10,5 @@"
    nvim.command("normal a")  # accept it
    nvim.wait_until(
        "function(b, t) return table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, true), '\\n') == t end",
        buf,
        SECOND_ONLY.removesuffix("\n"),
        what="the second hunk to land in the file",
    )
    nvim.wait_until(
        "function() return vim.api.nvim_get_current_line():find('— accepted', 1, true) ~= nil end",
        what="the review to show h2 accepted",
    )
    assert "# h2 app.py @@ -10,5 +10,5 @@ — accepted" in nvim.buffer_text(0)
    assert "+line02 = 20" in nvim.buffer_text(0)  # h1 still pending

    # In the file, :Codex reject on the first hunk's lines decides it: nothing is pending any more.
    nvim.command("wincmd p")
    assert nvim.lua("return vim.api.nvim_get_current_buf()") == buf
    nvim.lua("vim.api.nvim_win_set_cursor(0, {2, 0})")
    nvim.command("Codex reject")
    editor.wait_notification("Codex: rejected h1")
    assert nvim.lua("return next(require('codex.review').proposals()) == nil")
    assert nvim.buffer_text(buf) == SECOND_ONLY
    assert (editor.root / "app.py").read_text() == ORIGINAL  # decisions edit the buffer; saving is the user's
    assert nvim.lua(
        "return table.concat(vim.api.nvim_buf_get_lines(vim.fn.bufnr('codex://review'), 0, -1, true))"
    ) == ("No Codex proposal is pending review.")
    editor.wait_notification("Codex: accepted h2")
