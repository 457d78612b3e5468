import { startExplorer } from '/work/wt-explorer/packages/explorer/src/index.ts'
const t = Date.now()
const ex = await startExplorer({ home: '/tmp/exdev', log: l => console.log(l) })
console.log('started', ex.url, Date.now() - t)
for (const p of ['summary', 'datasets', 'daos', 'jobs', 'disputes', 'accounts', 'price', 'jobs/1', 'disputes/0', 'datasets/community-corpus', 'daos/0x6d544390eb535d61e196c87d6b9c80dcd8628acd']) {
  const t0 = Date.now()
  const r = await fetch(ex.url + 'api/' + p)
  const text = await r.text()
  console.log(p, r.status, Date.now() - t0, 'ms', text.slice(0, 600))
}
await ex.stop()
