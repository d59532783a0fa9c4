"""A ``session/prompt``'s content blocks as the text of one user message.

Text and file mentions (``resource_link``, what an editor sends for ``@file``) read inline, as the
user typed them; embedded resources (the text of a mentioned file or selection, which the client
sends when the agent advertises ``embeddedContext``) follow as ``<context ref="…">`` sections.
Images and audio are not advertised, so a client that sends them gets a clear error.
"""

from __future__ import annotations

from collections.abc import Sequence

from acp import RequestError
from acp.schema import (
    AudioContentBlock,
    EmbeddedResourceContentBlock,
    ImageContentBlock,
    ResourceContentBlock,
    TextContentBlock,
    TextResourceContents,
)

__all__ = ["PromptBlock", "prompt_text"]

PromptBlock = (
    TextContentBlock
    | ImageContentBlock
    | AudioContentBlock
    | ResourceContentBlock
    | EmbeddedResourceContentBlock
)


def prompt_text(blocks: Sequence[PromptBlock]) -> str:
    """The user message for ``blocks``; raises ``RequestError`` (invalid params) for what we cannot send."""
    inline: list[str] = []
    context: list[str] = []
    for block in blocks:
        if isinstance(block, TextContentBlock):
            inline.append(block.text)
        elif isinstance(block, ResourceContentBlock):
            inline.append(f"[@{block.name}]({block.uri})")
        elif isinstance(block, EmbeddedResourceContentBlock):
            resource = block.resource
            if not isinstance(resource, TextResourceContents):
                raise _unsupported(f"the binary attachment {resource.uri}")
            context.append(f'<context ref="{resource.uri}">\n{resource.text.rstrip()}\n</context>')
        else:
            raise _unsupported(
                "images and audio" if isinstance(block, ImageContentBlock | AudioContentBlock) else "it"
            )
    text = "".join(inline).strip()
    if context:
        text = "\n\n".join([text, *context]) if text else "\n\n".join(context)
    if not text:
        raise RequestError(-32602, "the prompt is empty: send some text")
    return text


def _unsupported(what: str) -> RequestError:
    return RequestError(-32602, f"codex-lsp cannot send {what} to the model; send text and files")
