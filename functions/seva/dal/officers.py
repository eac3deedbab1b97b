"""The officer directory table (managed with `seva officers`, no redeploy)."""

from __future__ import annotations

from functools import cache

from pynamodb.attributes import ListAttribute, UnicodeAttribute

from seva.dal.models import Model
from seva.officers import Officer


class OfficerModel(Model):
    class Meta:
        table_name = "unbound"

    district = UnicodeAttribute(hash_key=True)
    officer_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    phone = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    language = UnicodeAttribute()
    priorities = ListAttribute[str]()
    categories = ListAttribute[str]()


@cache
def officer_model(table_name: str, region: str) -> type[OfficerModel]:
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    return type("Officer", (OfficerModel,), {"Meta": meta, "__module__": __name__})


class DynamoOfficerDirectory:
    def __init__(self, table_name: str, region: str):
        self.model = officer_model(table_name, region)

    def for_district(self, district: str) -> list[Officer]:
        return [self._officer(item) for item in self.model.query(district)]

    def all(self) -> list[Officer]:
        return sorted((self._officer(i) for i in self.model.scan()), key=lambda o: (o.district, o.officer_id))

    def put(self, officer: Officer) -> None:
        self.model(
            officer.district,
            officer.officer_id,
            name=officer.name,
            role=officer.role,
            phone=officer.phone,
            email=officer.email,
            language=officer.language,
            priorities=list(officer.priorities),
            categories=list(officer.categories),
        ).save()

    def remove(self, district: str, officer_id: str) -> bool:
        try:
            self.model.get(district, officer_id).delete()
        except self.model.DoesNotExist:
            return False
        return True

    @staticmethod
    def _officer(item: OfficerModel) -> Officer:
        return Officer.model_validate(
            {
                "district": item.district,
                "officer_id": item.officer_id,
                "name": item.name,
                "role": item.role,
                "phone": item.phone,
                "email": item.email,
                "language": item.language,
                "priorities": tuple(item.priorities),
                "categories": tuple(item.categories),
            }
        )
