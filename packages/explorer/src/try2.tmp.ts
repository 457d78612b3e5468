import { startExplorer } from './index.ts'
const ex = await startExplorer({ home: '/tmp/exdev' })
const j = await (await fetch(ex.url + 'api/jobs/1')).json()
const r = await fetch(ex.url + 'api/runs/' + j.result.run); console.log(r.status, (await r.text()).slice(0, 700))
const d = await (await fetch(ex.url + 'api/datasets/community-corpus')).json()
const v = d.versions
const df = await fetch(ex.url + `api/diff?from=${v[0].cid}&to=${v[1].cid}`); console.log(df.status, (await df.text()).slice(0, 500))
const f = await fetch(ex.url + `files/${v[0].cid}/corpus.jsonl`); console.log(f.status, f.headers.get('content-disposition'), (await f.arrayBuffer()).byteLength)
await ex.stop()
