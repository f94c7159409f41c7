"""Ledger errors, each with a stable code and a message community staff can act on."""

from ledger.errors import Conflict, InvalidInput, NotFound


class TemplateNotFound(NotFound):
    code = "ledgers.not_found"
    message = "找不到该台账模板"


class TemplateExists(Conflict):
    code = "ledgers.exists"
    message = "该台账编码已存在，请换一个编码"


class TemplateInvalid(InvalidInput):
    code = "ledgers.invalid_template"
    message = "台账模板有误，请按提示修改"


class TemplateReadOnly(Conflict):
    code = "ledgers.read_only"
    message = "该台账由系统根据居民信息生成，不能在此修改"


class EntryNotFound(NotFound):
    code = "ledgers.entry_not_found"
    message = "找不到该台账记录，或不在您负责的网格内"


class EntryInvalid(InvalidInput):
    code = "ledgers.invalid_entry"
    message = "台账内容有误，请按提示修改"


class DuplicateEntryId(Conflict):
    code = "ledgers.duplicate_id"
    message = "该记录编号已存在，请勿重复提交"


class ExportInvalid(InvalidInput):
    code = "ledgers.invalid_export"
    message = "导出条件有误，请按提示修改"
