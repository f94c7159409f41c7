// Two phones running the real, unmodified WatermelonDB 0.28.0 client sync against a live
// Wangge server: create, edit the same record (different fields, then the same field), delete
// and re-sync. Driven by tests/server/resources/test_sync_watermelon_client.py, which passes
// the server URL, two access tokens and valid ID numbers as JSON on stdin, and checks the JSON
// this prints (each device's final records, the [Sync] messages WatermelonDB logged, and how
// many pushes the server refused as stale).
'use strict'

const crypto = require('node:crypto')
const { Database, Model, appSchema, tableSchema } = require('@nozbe/watermelondb')
const LokiJSAdapter = require('@nozbe/watermelondb/adapters/lokijs').default
const { synchronize } = require('@nozbe/watermelondb/sync')
const { field, json } = require('@nozbe/watermelondb/decorators')
const { setGenerator } = require('@nozbe/watermelondb/utils/common/randomId')

// The server's records carry UUID ids; WatermelonDB lets the app choose its id generator.
setGenerator(() => crypto.randomUUID())

// Everything WatermelonDB prints, so the test can assert it logged no [Sync] errors.
const logged = []
for (const level of ['log', 'warn', 'error']) {
  const original = console[level]
  console[level] = (...args) => {
    logged.push({
      level,
      text: args.map((a) => (a instanceof Error ? `${a.message}` : String(a))).join(' '),
    })
    if (process.env.WANGGE_WM_VERBOSE) original(...args)
  }
}

const SERVER_COLUMNS = [
  { name: 'version', type: 'number', isOptional: true },
  { name: 'has_conflict', type: 'boolean' },
  { name: 'missing_files', type: 'string', isOptional: true },
]
const schema = appSchema({
  version: 1,
  tables: [
    tableSchema({
      name: 'people',
      columns: [
        { name: 'name', type: 'string' },
        { name: 'sex', type: 'string', isOptional: true },
        { name: 'ethnicity', type: 'string', isOptional: true },
        { name: 'birth_date', type: 'string', isOptional: true },
        { name: 'id_number', type: 'string', isOptional: true },
        { name: 'phone', type: 'string', isOptional: true },
        { name: 'registered_address', type: 'string', isOptional: true },
        { name: 'current_address', type: 'string', isOptional: true },
        { name: 'residence_type', type: 'string', isOptional: true },
        { name: 'tags', type: 'string', isOptional: true },
        { name: 'area', type: 'string' },
        { name: 'household_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'relationship_to_head', type: 'string', isOptional: true },
        { name: 'notes', type: 'string', isOptional: true },
        ...SERVER_COLUMNS,
      ],
    }),
    tableSchema({
      name: 'households',
      columns: [
        { name: 'household_number', type: 'string', isOptional: true },
        { name: 'household_type', type: 'string', isOptional: true },
        { name: 'head_person_id', type: 'string', isOptional: true },
        { name: 'address', type: 'string', isOptional: true },
        { name: 'area', type: 'string' },
        ...SERVER_COLUMNS,
      ],
    }),
    tableSchema({
      name: 'ledger_entries',
      columns: [
        { name: 'ledger', type: 'string' },
        { name: 'area', type: 'string' },
        { name: 'template_version', type: 'number', isOptional: true },
        { name: 'data', type: 'string' },
        ...SERVER_COLUMNS,
      ],
    }),
  ],
})

// Models without a build step: the decorators applied by hand.
function defineFields(ModelClass, columns) {
  for (const column of columns) {
    const decorator =
      column === 'tags'
        ? json(column, (raw) => (Array.isArray(raw) ? raw : []))
        : column === 'data'
          ? json(column, (raw) => (raw && typeof raw === 'object' ? raw : {}))
          : field(column)
    Object.defineProperty(ModelClass.prototype, column, decorator(ModelClass.prototype, column))
  }
}
class Person extends Model {
  static table = 'people'
}
class Household extends Model {
  static table = 'households'
}
defineFields(Person, schema.tables.people.columnArray.map((c) => c.name))
defineFields(Household, schema.tables.households.columnArray.map((c) => c.name))
class LedgerEntry extends Model {
  static table = 'ledger_entries'
}
defineFields(LedgerEntry, schema.tables.ledger_entries.columnArray.map((c) => c.name))

class Device {
  constructor(name, base, token) {
    this.name = name
    this.base = base
    this.token = token
    this.stale = 0 // pushes the server refused with 409
    this.beforePush = null
    this.db = new Database({
      adapter: new LokiJSAdapter({
        schema,
        dbName: `wangge-${name}`,
        useWebWorker: false,
        useIncrementalIndexedDB: true,
        extraLokiOptions: { autosave: false },
      }),
      modelClasses: [Person, Household, LedgerEntry],
    })
  }

  async request(method, path, body) {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        'Content-Type': 'application/json',
        'X-Device-Id': this.name,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const payload = await response.json()
    if (!response.ok) {
      const error = new Error(`${method} ${path}: ${response.status} ${JSON.stringify(payload)}`)
      error.status = response.status
      throw error
    }
    return payload
  }

  // The app's sync function, as WatermelonDB's documentation writes it.
  async sync() {
    await synchronize({
      database: this.db,
      sendCreatedAsUpdated: true,
      pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
        const query = new URLSearchParams({
          last_pulled_at: String(lastPulledAt),
          schema_version: String(schemaVersion),
          migration: JSON.stringify(migration),
        })
        return this.request('GET', `/api/v1/sync/watermelon?${query}`)
      },
      pushChanges: async ({ changes, lastPulledAt }) => {
        if (this.beforePush) {
          const hook = this.beforePush
          this.beforePush = null
          await hook()
        }
        const result = await this.request(
          'POST',
          `/api/v1/sync/watermelon?last_pulled_at=${lastPulledAt}`,
          { changes, last_pulled_at: lastPulledAt },
        )
        if (result.rejected) {
          throw new Error(`${this.name}: server refused ${JSON.stringify(result.rejected)}`)
        }
        return result
      },
    })
  }

  // What the app does on a failed sync: a stale push (409) is simply retried, which pulls
  // first and merges the local edits on top.
  async syncUntilDone() {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        await this.sync()
        return
      } catch (error) {
        if (error.status !== 409) throw error
        this.stale += 1
      }
    }
    throw new Error(`${this.name}: still stale after 5 attempts`)
  }

  async create(table, values) {
    let record
    await this.db.write(async () => {
      record = await this.db.get(table).create((r) => Object.assign(r, values))
    })
    return record.id
  }

  async edit(table, id, values) {
    await this.db.write(async () => {
      const record = await this.db.get(table).find(id)
      await record.update((r) => Object.assign(r, values))
    })
  }

  async remove(table, id) {
    await this.db.write(async () => {
      const record = await this.db.get(table).find(id)
      await record.markAsDeleted()
    })
  }

  async records(table) {
    const all = await this.db.get(table).query().fetch()
    const out = {}
    for (const r of all) {
      out[r.id] = { ...r._raw }
      delete out[r.id]._changed
    }
    return out
  }
}

async function main() {
  const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'))
  const worker = new Device('phone-worker', input.url, input.tokens.worker)
  const staff = new Device('tablet-staff', input.url, input.tokens.staff)
  const ids = {}
  const steps = []
  const step = (name) => steps.push(name)

  // 1. Both start from what the server already holds.
  await worker.syncUntilDone()
  await staff.syncUntilDone()
  step('initial sync')

  // 2. The worker registers a household with two residents and a third one she deletes
  //    before any sync (never reaches the server).
  ids.household = await worker.create('households', {
    household_number: input.household_number,
    address: '宝石一路8号',
    area: input.area,
  })
  const person = (n, extra) => ({
    name: extra.name,
    id_number: input.id_numbers[n],
    area: input.area,
    household_id: ids.household,
    tags: ['独居老人'],
    ...extra,
  })
  ids.head = await worker.create('people', person(0, { name: '王芳', relationship_to_head: '户主' }))
  ids.son = await worker.create('people', person(1, { name: '王小明', relationship_to_head: '子' }))
  ids.draft = await worker.create('people', person(2, { name: '草稿' }))
  await worker.remove('people', ids.draft)
  await worker.syncUntilDone()
  await staff.syncUntilDone()
  step('created and synced both ways')

  // 3. Different fields of the same record on the two devices.
  await worker.edit('people', ids.head, { current_address: '宝石一路8号2单元' })
  await staff.edit('people', ids.head, { notes: '每周探访' })
  await worker.syncUntilDone()
  await staff.syncUntilDone()
  await worker.syncUntilDone()
  step('different fields merged')

  // 4. The same field on both: the later sync has seen the earlier value, and keeps its own.
  await worker.edit('people', ids.head, { phone: '13800138000' })
  await staff.edit('people', ids.head, { phone: '13900139000' })
  await worker.syncUntilDone()
  await staff.syncUntilDone()
  await worker.syncUntilDone()
  step('same field, last writer wins after seeing the other')

  // 5. A push that the server must refuse as stale: between the staff tablet's pull and its
  //    push, the worker's edit of the same record lands.
  await worker.edit('people', ids.son, { notes: '在外地读书' })
  await staff.edit('people', ids.son, { current_address: '宝石一路8号' })
  staff.beforePush = () => worker.syncUntilDone()
  await staff.syncUntilDone()
  await worker.syncUntilDone()
  step('stale push retried')

  // 6. Deletes: the staff deletes the son; a record the staff created and deleted again after
  //    syncing must not come back.
  await staff.remove('people', ids.son)
  ids.visitor = await staff.create('people', person(3, { name: '临时访客' }))
  await staff.syncUntilDone()
  await staff.remove('people', ids.visitor)
  await staff.syncUntilDone()
  await worker.syncUntilDone()
  step('deleted')

  // 7. A visit logged in the basement, then a follow-up added on the office tablet.
  ids.visit = await worker.create('ledger_entries', {
    ledger: 'visit_log',
    area: input.area,
    data: { visit_date: '2026-11-20', visited_name: '王芳', purpose: '日常走访',
            situation: '地下室没有信号，回来后同步', visitor: '李网格' },
  })
  await worker.syncUntilDone()
  await staff.syncUntilDone()
  const visit = await staff.db.get('ledger_entries').find(ids.visit)
  await staff.edit('ledger_entries', ids.visit, { data: { ...visit.data, follow_up: '下周回访' } })
  await staff.syncUntilDone()
  await worker.syncUntilDone()
  step('ledger entry synced')

  // 8. Re-sync both a few times: nothing changes any more, nothing comes back.
  for (let i = 0; i < 2; i += 1) {
    await worker.syncUntilDone()
    await staff.syncUntilDone()
  }
  step('re-synced')

  const devices = {}
  for (const device of [worker, staff]) {
    devices[device.name] = {
      people: await device.records('people'),
      households: await device.records('households'),
      ledger_entries: await device.records('ledger_entries'),
      stale: device.stale,
    }
  }
  const syncLog = logged.filter((entry) => entry.text.includes('[Sync]'))
  process.stdout.write(JSON.stringify({ ids, steps, devices, logged, sync_log: syncLog }))
}

main().catch((error) => {
  process.stdout.write(
    JSON.stringify({ error: String(error && error.stack ? error.stack : error), logged }),
  )
  process.exit(1)
})
