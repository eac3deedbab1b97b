"""The officer directory table, read by the functions (managed by the infra team's tooling: seva_tools.officers).

A row that is not a valid officer is skipped and reported (``on_invalid``): one bad row never stops the
district's other officers being told."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache

from pynamodb.attributes import ListAttribute, UnicodeAttribute
from pynamodb.exceptions import AttributeDeserializationError

from seva.dal.models import Model
from seva.officers import InvalidOfficer, Officer, parse_officer


class OfficerModel(Model):
    class Meta:
        table_name = "unbound"

    district = UnicodeAttribute(hash_key=True)
    officer_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    priorities = ListAttribute[str](null=True)
    categories = ListAttribute[str](null=True)


@cache
def officer_model(table_name: str, region: str) -> type[OfficerModel]:
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    return type("Officer", (OfficerModel,), {"Meta": meta, "__module__": __name__})


class DynamoOfficerDirectory:
    def __init__(self, table_name: str, region: str, on_invalid: Callable[[InvalidOfficer], None] | None = None):
        self.model = officer_model(table_name, region)
        self.on_invalid = on_invalid or (lambda row: None)

    def for_district(self, district: str) -> list[Officer]:
        out = []
        for parsed in self._rows(district):
            if isinstance(parsed, Officer):
                out.append(parsed)
            else:
                self.on_invalid(parsed)
        return out

    def _rows(self, district: str) -> Iterator[Officer | InvalidOfficer]:
        rows = iter(self.model.query(district))
        while True:
            try:
                item = next(rows)
            except StopIteration:
                return
            except (AttributeDeserializationError, ValueError, TypeError) as exc:
                # an attribute of the wrong DynamoDB type: the iterator has moved past the row, go on
                yield InvalidOfficer(district, "", (f"unreadable row: {type(exc).__name__}",))
                continue
            raw = {
                "district": item.district,
                "officer_id": item.officer_id,
                "name": item.name,
                "role": item.role,
                "phone": item.phone,
                "email": item.email,
                "language": item.language,
                "priorities": tuple(item.priorities) if item.priorities is not None else None,
                "categories": tuple(item.categories) if item.categories is not None else None,
            }
            optional = ("email", "language", "priorities", "categories")  # absent: the model's default
            yield parse_officer({k: v for k, v in raw.items() if v is not None or k not in optional})
