"""Templates rendered in a sandbox: autoescaped HTML, plain values only, every name known."""

import sys
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from inscriptis import get_text  # type: ignore[import-untyped]
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

_html_env = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
_subject_env = ImmutableSandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
PLAIN_TYPES = (str, int, float, bool, type(None))


class TemplateRenderError(ValueError):
    """The template does not render; `line` is where (None when unknown)."""

    def __init__(self, message: str, *, part: str, line: int | None) -> None:
        self.part = part
        self.line = line
        where = _("line %(line)d: ") % {"line": line} if line else ""
        super().__init__(f"{where}{message}")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    html: str
    text: str


def _plain(value: Any) -> Any:
    """Only strings, numbers, booleans, lists and dicts of them reach a template."""
    if isinstance(value, PLAIN_TYPES):
        return value
    if isinstance(value, dict):
        return {str(name): _plain(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value)


def _error_line(error: Exception) -> int | None:
    if isinstance(error, TemplateSyntaxError):
        return error.lineno
    # Jinja rewrites the traceback so that the template's own frame carries its line.
    traceback = sys.exc_info()[2]
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _render(env: ImmutableSandboxedEnvironment, source: str, context: dict, part: str) -> str:
    try:
        return env.from_string(source).render(context)
    except TemplateError as error:
        raise TemplateRenderError(
            str(error.message or error), part=part, line=_error_line(error)
        ) from error
    except Exception as error:
        raise TemplateRenderError(str(error), part=part, line=_error_line(error)) from error


def html_to_text(html: str) -> str:
    # The converter indents blocks as a browser would; a mail reads better flush left, with
    # only list items indented.
    lines = [line.rstrip() for line in get_text(html).strip().splitlines()]
    return (
        "\n".join(line if line.lstrip().startswith("*") else line.lstrip() for line in lines) + "\n"
    )


def render_mail(*, subject: str, html: str, context: dict[str, Any]) -> RenderedMail:
    plain = _plain(context)
    rendered_subject = " ".join(_render(_subject_env, subject, plain, "subject").split())
    rendered_html = _render(_html_env, html, plain, "html")
    return RenderedMail(
        subject=rendered_subject[:300], html=rendered_html, text=html_to_text(rendered_html)
    )
