"""The base of every shape: validators and serialisers built on first use, and the
bounded numbers several shapes share."""

from __future__ import annotations

from typing import Annotated

import pydantic
from pydantic import ConfigDict, Field


class BaseModel(pydantic.BaseModel):
    """Each shape's validator and serialiser are built when first used, not at import."""

    model_config = ConfigDict(defer_build=True)



DbInt = Annotated[int, Field(ge=1, le=2_147_483_647)]  # an id the database can hold
Year = Annotated[int, Field(ge=2000, le=2100)]
Credits = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]
FieldValue = str | int | float | None
