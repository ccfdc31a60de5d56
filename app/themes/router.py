from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from app.auth.deps import authorize
from app.auth.principal import Principal
from app.core.deps import app_component
from app.core.errors import NotFound, error_responses
from app.themes.registry import ThemeRegistry, UnknownThemeError
from app.themes.schema.theme import Source, Theme

Themes = Annotated[ThemeRegistry, Depends(app_component("themes"))]

router = APIRouter(prefix="/v1/themes", tags=["themes"])


class ThemeSummary(BaseModel):
    key: str
    title: str
    description: str
    source: Source
    lists: list[str]
    milestones: list[str]


@router.get(
    "",
    response_model=list[ThemeSummary],
    responses=error_responses(401, 403),
    summary="The deep-dive themes an inspection can have",
)
def list_themes(
    themes: Themes, principal: Principal = authorize("list_themes")
) -> list[ThemeSummary]:
    return [
        ThemeSummary(
            key=theme.key,
            title=theme.title,
            description=theme.description,
            source=theme.source,
            lists=[spec.key for spec in theme.lists],
            milestones=[milestone.key for milestone in theme.milestones],
        )
        for theme in themes.all()
    ]


@router.get(
    "/{theme}",
    response_model=Theme,
    responses=error_responses(401, 403, 404),
    summary="A theme whole: lists and fields, milestones, documents, items, questions, ESN",
)
def get_theme(theme: str, themes: Themes, principal: Principal = authorize("get_theme")) -> Theme:
    try:
        return themes.get(theme)
    except UnknownThemeError:
        raise NotFound(f"No theme '{theme}'.") from None
