"""Every VS Code DOM selector the end-to-end tests use, in one place.

They are workbench internals, not API: they change between VS Code releases. Verified against
code-server 4.139.1 (VS Code 1.139.1, pinned in tools/editor-deps.env); when the pin moves, fix them here.
"""

WORKBENCH = ".monaco-workbench"
"""The workbench root: present once the window has rendered."""

STATUS_BAR = "#workbench\\.parts\\.statusbar"
STATUS_BAR_ITEM = f"{STATUS_BAR} .statusbar-item"
"""Status bar entries; an extension's item carries its id in the element id (``publisher.ext.itemId``)."""

QUICK_INPUT = ".quick-input-widget"
QUICK_INPUT_BOX = f"{QUICK_INPUT} .quick-input-box input"
"""The text box of the command palette, Quick Open and ``showInputBox``."""
QUICK_INPUT_BOX_INPUT = ".quick-input-box input"
"""Inside the quick input: its text box."""
QUICK_INPUT_TITLE = ".quick-input-title"
"""Inside the quick input: the title of an extension's input box or quick pick (``showInputBox({title})``)."""
QUICK_INPUT_ROW = f"{QUICK_INPUT} .quick-input-list .monaco-list-row"
QUICK_INPUT_ROW_LABEL = ".label-name"
"""Inside a row: the label text (a command palette row shows the command's title here)."""
QUICK_INPUT_ROW_ID_ATTRIBUTE = "data-quick-input-id"
"""On an element inside a command palette row: the command id."""

NOTIFICATION_TOAST = ".notifications-toasts .notification-toast"
NOTIFICATION_MESSAGE = ".notification-list-item-message"
NOTIFICATION_BUTTON = ".notification-list-item-buttons-container .monaco-button"
"""Inside a toast: its buttons (an extension's message actions, a progress notification's Cancel)."""
NOTIFICATION_CENTER = ".notifications-center"

ACTION_WIDGET_ROW = ".action-widget .monaco-list-row.action"
"""A row of the code action menu (Ctrl+.): quick fixes and refactorings."""
ACTION_WIDGET_ROW_TITLE = ".title"
"""Inside a code action row: the action's title."""

DIALOG = ".monaco-dialog-box"
"""A modal dialog: it swallows clicks until closed (Escape)."""

ACTIVE_EDITOR = ".part.editor .editor-group-container.active .monaco-editor"
CODE_LENS = f"{ACTIVE_EDITOR} .codelens-decoration a"
"""A code lens of the active editor (each command of a lens line is its own link)."""
EDITOR_LINE = ".view-lines .view-line"
"""Rendered lines of an editor: only the visible ones exist, in any DOM order (sorted by their ``top``)."""

ACTIVE_TAB = ".part.editor .editor-group-container.active .tab.active"
TAB_NAME_ATTRIBUTE = "data-resource-name"
"""On a tab: the file name (its label splits name and extension into separate elements)."""
