"""Registry-specific errors."""

from ledger.errors import Conflict, InvalidInput, NotFound


class PersonNotFound(NotFound):
    code = "people.not_found"
    message = "找不到该居民，或不在您负责的网格内"


class HouseholdNotFound(NotFound):
    code = "households.not_found"
    message = "找不到该户，或不在您负责的网格内"


class DuplicateIdNumber(Conflict):
    code = "people.duplicate_id_number"
    message = "该身份证号已登记"


class DuplicateRecordId(Conflict):
    code = "registry.duplicate_id"
    message = "该记录编号已存在，请勿重复提交"


class DuplicateHouseholdNumber(Conflict):
    code = "households.duplicate_number"
    message = "该户号已登记"


class HouseholdNotEmpty(Conflict):
    code = "households.not_empty"
    message = "该户仍有成员，请先将成员移出或删除"


class RegistryInvalid(InvalidInput):
    code = "validation_error"
    message = "提交的数据有误，请按提示修改"
