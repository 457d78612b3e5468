// The explorer's front end: a hash router over the JSON API, plain DOM, uPlot for charts.
// Every link is a real <a href>, so keyboard and back/forward work as on any page.
import { account, bytes, esc, facts, fileHref, short, table, time, tokens, tx, version } from './format.js'
import { chart, fileTree, lineage } from './draw.js'

const main = document.getElementById('main')

/** The block the page on screen was drawn from (the API says it in x-indexed-to). */
let drawnFrom = null

async function api (path) {
  const res = await fetch(path)
  drawnFrom = res.headers.get('x-indexed-to') ?? drawnFrom
  const body = await res.json()
  if (!res.ok) { const e = new Error(body.error?.message ?? res.statusText); e.hint = body.error?.hint; throw e }
  return body
}

const pages = [
  [/^#?\/?$/, home],
  [/^#\/datasets$/, datasets],
  [/^#\/datasets\/(.+)$/, dataset],
  [/^#\/versions\/([^/]+)$/, versionPage],
  [/^#\/diff\/([^/]+)\/([^/]+)$/, diff],
  [/^#\/daos$/, daos],
  [/^#\/daos\/(0x[0-9a-fA-F]{40})$/, dao],
  [/^#\/jobs$/, jobs],
  [/^#\/jobs\/(\d+)$/, job],
  [/^#\/disputes$/, disputes],
  [/^#\/disputes\/(\d+)$/, dispute],
  [/^#\/accounts$/, accounts],
  [/^#\/accounts\/(0x[0-9a-fA-F]{40})$/, accountPage],
  [/^#\/price$/, price],
  [/^#\/services$/, services],
  [/^#\/storage$/, storage],
  [/^#\/channels$/, channels],
  [/^#\/agents$/, agents]
]

async function route () {
  const hash = location.hash
  const found = pages.map(([re, page]) => [re.exec(hash), page]).find(([m]) => m !== null)
  try {
    if (found === undefined) { render('Not found', '<p>No page here. Use the sections above.</p>'); return }
    await found[1](...found[0].slice(1).map(decodeURIComponent))
  } catch (error) {
    render('Could not load this page', `<div class="error" role="alert"><p>${esc(error.message)}</p>${error.hint ? `<p>${esc(error.hint)}</p>` : ''}</div>`)
  }
}

function render (title, html) {
  document.title = `${title} · Commons explorer`
  main.innerHTML = `<h1>${esc(title)}</h1>${html}`
  main.dataset.rendered = String(performance.now())
}

async function home () {
  const s = await api('/api/summary')
  render('Commons explorer', facts([
    ['Chain', esc(s.chainId)], ['Indexed to block', esc(s.indexedTo)],
    ['Datasets', `<a href="#/datasets">${s.datasets}</a>`], ['DAOs', `<a href="#/daos">${s.daos}</a>`], ['Jobs', `<a href="#/jobs">${s.jobs}</a>`],
    ['Disputes', `<a href="#/disputes">${s.disputes}</a>`], ['Accounts', `<a href="#/accounts">${s.accounts}</a>`], ['Price rounds', `<a href="#/price">${s.priceRounds}</a>`],
    ['Inference services', `<a href="#/services">${s.services}</a>`], ['Storage deals', `<a href="#/storage">${s.storageDeals}</a>`],
    ['Payment channels', `<a href="#/channels">${s.channels}</a>`], ['Agents', '<a href="#/agents">cards seen</a>']
  ]))
}

async function datasets () {
  const list = await api('/api/datasets')
  render('Datasets', table('Datasets', ['Name', 'DAOs', 'Heads'], list.map(d => [`<a href="#/datasets/${encodeURIComponent(d.name)}">${esc(d.name)}</a>`, d.daos.map(a => `<a class="mono" href="#/daos/${a}">${short(a)}</a>`).join(' '), d.heads.map(version).join(' ')])))
}

async function dataset (name) {
  const d = await api(`/api/datasets/${encodeURIComponent(name)}`)
  const rows = d.versions.map(v => [version(v.cid), esc(v.message), esc(v.author), esc(time(v.time)), esc(bytes(v.bytes)), String(v.files),
    v.parents.map(p => `<a href="#/diff/${p}/${v.cid}">diff with parent</a>`).join(' ') || '—'])
  render(`Dataset ${d.name}`, `${table('Versions', ['Version', 'Message', 'Author', 'Time', 'Size', 'Files', 'Changes'], rows)}
    <h2>Lineage</h2>${lineage(d)}<ul class="tree">${d.daos.map(h => `<li>${h.parent ? 'Fork DAO' : 'DAO'} <a class="mono" href="#/daos/${h.dao}">${short(h.dao)}</a> head ${version(h.head)}${h.parent ? `, forked from <a class="mono" href="#/daos/${h.parent}">${short(h.parent)}</a> at ${version(h.forkPoint)}` : ''}</li>`).join('')}</ul>
    ${d.missing.length > 0 ? `<p role="status">Not in this machine's stores: ${d.missing.map(esc).join(', ')}</p>` : ''}
    <h2>Jobs trained on it</h2>${table('Jobs', ['Job', 'Version'], d.jobs.map(j => [`<a href="#/jobs/${j.id}">job ${j.id}</a>`, version(j.version)]))}`)
}

async function versionPage (cid) {
  const v = await api(`/api/versions/${cid}`)
  render(`Version ${short(cid)}`, facts([['CID', `<code>${esc(v.cid)}</code>`], ['Message', esc(v.message)], ['Author', esc(v.author)], ['Time', esc(time(v.time))], ['Size', esc(bytes(v.bytes))],
    ['Parents', v.parents.map(p => `${version(p)} (<a href="#/diff/${p}/${v.cid}">diff</a>)`).join(' ') || '—']]) +
    `<p><a href="/car/${v.cid}" download>Download the whole version (CAR file)</a></p><h2>File tree</h2>${fileTree(v.cid, v.fileList)}<h2>Files</h2>${table('Files', ['Path', 'Size', 'Download'], v.fileList.map(f => [`<code>${esc(f.path)}</code>`, esc(bytes(f.size)), `<a href="/files/${v.cid}/${f.path.split('/').map(encodeURIComponent).join('/')}" download>download ${esc(f.path.split('/').at(-1))}</a>`]))}`)
}

async function diff (from, to) {
  const d = await api(`/api/diff?from=${from}&to=${to}`)
  const sample = (rows, cls, sign) => rows.map(r => `<div class="${cls} mono">${sign} ${esc(r.length > 160 ? r.slice(0, 160) + '…' : r)}</div>`).join('')
  render('Diff', facts([['From', version(d.from)], ['To', version(d.to)], ['Files unchanged', String(d.unchanged)]]) +
    table('Changed files', ['Path', 'Status', 'Rows added', 'Rows removed', 'Size before', 'Size after'], d.files.map(f => [`<code>${esc(f.path)}</code>`, esc(f.status), `<span class="added">+${f.added}</span>`, `<span class="removed">−${f.removed}</span>`, esc(bytes(f.bytesBefore)), esc(bytes(f.bytesAfter))])) +
    d.files.map(f => `<h2>Sample of ${esc(f.path)}</h2>${sample(f.addedSample, 'added', '+')}${sample(f.removedSample, 'removed', '−')}`).join(''))
}

async function daos () {
  const list = await api('/api/daos')
  render('DAOs', table('DAOs', ['DAO', 'Dataset', 'Head', 'Forked from', 'Fork point'], list.map(d => [`<a class="mono" href="#/daos/${d.dao}">${short(d.dao)}</a>`, `<a href="#/datasets/${encodeURIComponent(d.name)}">${esc(d.name)}</a>`, version(d.head), d.parent ? `<a class="mono" href="#/daos/${d.parent}">${short(d.parent)}</a>` : '—', version(d.forkPoint)])))
}

async function dao (address) {
  const d = await api(`/api/daos/${address}`)
  render(`DAO ${short(d.dao)}`, facts([['Address', `<code>${esc(d.dao)}</code>`], ['Dataset', `<a href="#/datasets/${encodeURIComponent(d.name)}">${esc(d.name)}</a>`], ['Head', version(d.head)], ['Treasury', esc(tokens(d.treasury))],
    ['Forked from', d.parent ? `<a class="mono" href="#/daos/${d.parent}">${short(d.parent)}</a> at ${version(d.forkPoint)}` : '—']]) +
    `<h2>Members</h2>${table('Members and shares', ['Member', 'Shares'], d.members.map(m => [account(m.account), esc(m.shares)]))}
    <h2>Treasury over time</h2><div class="chart" id="treasury-chart"></div>
    <details><summary>Treasury over time (table)</summary>${table('Treasury balance after each transfer', ['Time', 'Block', 'Balance'], d.treasuryHistory.map(p => [esc(time(p.time)), String(p.block), esc(tokens(p.balance))]))}</details>
    <h2>Proposals</h2>${table('Proposals', ['Id', 'Description', 'State', 'Votes'], d.proposals.map(p => [`<span class="mono" title="${esc(p.id)}">${short(p.id)}</span>`, esc(p.description), `<span class="badge">${esc(p.state)}</span>`, p.votes.map(v => `${account(v.voter)} ${esc(v.support)} (${esc(v.weight)})`).join('<br>')]))}
    <h2>Forks</h2>${table('Forks', ['Fork DAO', 'Fork point', 'Shares', 'Treasury taken'], d.forks.map(f => [`<a class="mono" href="#/daos/${f.dao}">${short(f.dao)}</a>`, version(f.forkPoint), esc(f.shares ?? ''), f.treasury ? esc(tokens(f.treasury)) : '']))}
    <h2>Head changes</h2>${table('Head changes', ['From', 'To', 'Block', 'Transaction'], d.heads.map(h => [version(h.previous), version(h.head), String(h.block), tx(h.tx)]))}
    <h2>Jobs funded</h2>${table('Jobs funded', ['Job', 'Reward'], d.jobsFunded.map(j => [`<a href="#/jobs/${j.job}">job ${j.job}</a>`, esc(tokens(j.reward))]))}`)
  chart('treasury-chart', 'Treasury balance over time', 'time', 'CMN', d.treasuryHistory.map(p => p.time), d.treasuryHistory.map(p => Number(BigInt(p.balance) / 10n ** 15n) / 1000), true)
}

async function jobs () {
  const list = await api('/api/jobs')
  render('Jobs', table('Jobs', ['Job', 'Status', 'Dataset', 'Steps', 'Reward', 'Trainer', 'Posted'], list.map(j => [`<a href="#/jobs/${j.id}">job ${j.id}</a>`, `<span class="badge">${esc(j.status)}</span>`, version(j.dataset), String(j.steps), esc(tokens(j.reward)), account(j.trainer), esc(time(j.posted.time))])))
}

async function job (id) {
  const j = await api(`/api/jobs/${id}`)
  const t = j.terms
  render(`Job ${j.id}`, `<p>Status <span class="badge" id="job-status">${esc(j.status)}</span></p>` + facts([
    ['Dataset', version(t.dataset)], ['Recipe', `<code>${esc(t.recipe)}</code>`], ['Program hash', `<code>${esc(t.programHash)}</code>`], ['Seed', esc(t.seed)], ['Steps', String(t.steps)],
    ['Reward', esc(tokens(t.reward))], ['Trainer stake', esc(tokens(t.jobStake))], ['Funded by', j.fundedBy.dao ? `DAO <a class="mono" href="#/daos/${j.fundedBy.dao}">${short(j.fundedBy.dao)}</a>` : `requester ${account(j.fundedBy.requester)}`],
    ['Trainer', account(j.trainer)], ['Validators', j.validators.map(account).join(' ') || '—'], ['Disputes', j.disputes.map(d => `<a href="#/disputes/${d}">dispute ${d}</a>`).join(' ') || '—'],
    ['Run (model and transcript)', j.result ? version(j.result.run) : '—']
  ]) + `<h2>Loss curve</h2><div class="chart" id="loss-chart"><p>Loading the transcript…</p></div><div id="run"></div>
    <h2>Timeline</h2>${table('Timeline', ['Event', 'Time', 'Block', 'Transaction', 'Gas', 'From'], j.timeline.map(e => [esc(e.event), esc(time(e.time)), String(e.block), tx(e.tx), esc(e.gas), account(e.from)]))}`)
  if (j.result === null) { document.getElementById('loss-chart').innerHTML = '<p>No result submitted yet.</p>'; return }
  try {
    const run = await api(`/api/runs/${j.result.run}`)
    const box = document.getElementById('loss-chart')
    if (box === null) return
    box.innerHTML = ''
    chart('loss-chart', `Training loss by step for job ${j.id}`, 'step', 'loss', run.loss.map(r => r.step), run.loss.map(r => r.loss), false)
    document.getElementById('run').innerHTML = `<details><summary>Loss per step (table)</summary>${table('Loss per step', ['Step', 'Loss'], run.loss.map(r => [String(r.step), String(r.loss)]))}</details>
      <h2>Model</h2>${run.files.some(f => f.path === 'model.safetensors') ? `<ul class="downloads"><li><a id="download-safetensors" href="${fileHref(run.run, 'model.safetensors')}" download>model.safetensors</a> (${esc(bytes(run.files.find(f => f.path === 'model.safetensors').size))})</li><li><a id="download-gguf" href="/gguf/${run.run}?job=${j.id}" download>model as GGUF</a> (llama.cpp, Ollama; converted on download)</li><li><a href="/car/${run.run}" download>the whole run as a CAR file</a></li></ul>` : '<p>The run has no model file.</p>'}
      <h2>Checkpoints</h2>${table('Checkpoints', ['Checkpoint', 'Size'], run.files.filter(f => f.path.startsWith('checkpoints/')).map(f => [`<a href="${fileHref(run.run, f.path)}" download>${esc(f.path)}</a>`, esc(bytes(f.size))]))}
      <h2>Every file of the run</h2>${table('Downloads', ['File', 'Size'], run.files.map(f => [`<a href="${fileHref(run.run, f.path)}" download>${esc(f.path)}</a>`, esc(bytes(f.size))]))}`
  } catch (error) {
    const box = document.getElementById('loss-chart')
    if (box !== null) box.innerHTML = `<p role="status">The run's transcript is not available here: ${esc(error.message)}</p>`
  }
}

async function disputes () {
  const [list, files] = await Promise.all([api('/api/disputes'), api('/api/model-file-disputes')])
  const value = v => `${esc(v.value ?? 'NaN')} <span class="mono">(${esc(v.bits)})</span>`
  render('Disputes', table('Disputes', ['Dispute', 'Job', 'Step', 'Challenger', 'Winner'], list.map(d => [`<a href="#/disputes/${d.id}">dispute ${d.id}</a>`, `<a href="#/jobs/${d.job}">job ${d.job}</a>`, esc(d.step), account(d.challenger), esc(d.winner ?? 'open')])) +
    `<h2>Model files convicted</h2><p>A published model file whose weight differs from the trainer's committed state convicts the job in one transaction.</p>${table('Model file convictions', ['Job', 'Fault', 'Slot', 'Element', 'Committed', 'In the file', 'Challenger', 'Slashed', 'Transaction'], files.map(f => [`<a href="#/jobs/${f.job}">job ${f.job}</a>`, esc(f.fault), esc(f.slot), esc(f.element), value(f.committed), value(f.inFile), account(f.challenger), f.slashes.map(s => `${account(s.node)} ${esc(tokens(s.amount))}`).join('<br>') || '—', tx(f.convicted.tx)]))}`)
}

async function dispute (id) {
  const d = await api(`/api/disputes/${id}`)
  const args = a => esc(Object.entries(a).filter(([k]) => k !== 'id' && k !== 'jobId').map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', '))
  const value = v => v ? `<strong>${esc(v.value ?? 'NaN')}</strong> <span class="mono">(${esc(v.bits)})</span>` : '—'
  const call = d.pinpointed?.call
  const op = call?.op
  render(`Dispute ${d.id}`, facts([['Job', `<a href="#/jobs/${d.job}">job ${d.job}</a>`], ['Step', esc(d.step)], ['Challenger', account(d.challenger)], ['Bond', esc(tokens(d.bond))],
    ['Pinpointed', d.pinpointed ? `op <strong id="pinpoint-op">${d.pinpointed.op}</strong>${op ? ` (<code>${esc(op.name)}</code>, ${esc(op.dtype)} [${esc(op.dims.join(' × '))}])` : ''}, element <strong id="pinpoint-element">${d.pinpointed.element}</strong>` : '—'],
    ['Op inputs', op ? op.inputs.map((i, n) => `input ${n}: ${esc(i.kind)} ${esc(i.index)}`).join('; ') || 'none' : '—'],
    ['Trainer claimed', d.claims ? `<span id="claim-trainer">${value(d.claims.trainerValue)}</span>` : '—'],
    ['Challenger (the verifier\'s value)', d.claims ? `<span id="claim-challenger">${value(d.claims.challengerValue)}</span>` : d.pinpointed ? value({ value: null, bits: `0x${(d.pinpointed.expected >>> 0).toString(16).padStart(8, '0')}` }) : '—'],
    ['Outcome', `<span class="badge" id="dispute-winner">${esc(d.outcome.winner ?? 'open')}</span> (${esc(d.outcome.reason)})`]]) +
    `<h2>Moves</h2>${table('Moves', ['Move', 'Time', 'Block', 'Transaction', 'Gas', 'By', 'Values'], d.moves.map(m => [esc(m.move), esc(time(m.time)), String(m.block), tx(m.tx), esc(m.gas), account(m.from), `<span class="mono">${args(m.args)}</span>`]))}
    <h2>Input elements the verifier read</h2>${table('Opened inputs', ['Opening', 'Type', 'Tensor length', 'First leaf', 'Elements', 'First values'], (call?.openings ?? []).map((o, n) => [String(n), esc(o.dtype), String(o.tensorLength), String(o.firstLeaf), String(o.count), `<span class="mono">${o.first.map(v => esc(v.value ?? v.bits)).join(', ')}${o.count > o.first.length ? ', …' : ''}</span>`]))}
    <h2>Slashed</h2>${table('Slashes', ['Account', 'Amount', 'Paid to', 'Their share', 'To treasury'], d.slashes.map(s => [account(s.node), esc(tokens(s.amount)), account(s.beneficiary), esc(tokens(s.toBeneficiary)), esc(tokens(s.toTreasury))]))}
    <h2>Paid</h2>${table('Payments', ['From', 'To', 'Amount'], d.payments.map(p => [`${account(p.from)}${p.fromName ? ` (${esc(p.fromName)})` : ''}`, `${account(p.to)}${p.toName ? ` (${esc(p.toName)})` : ''}`, esc(tokens(p.amount))]))}`)
}

async function accounts () {
  const list = await api('/api/accounts')
  render('Accounts', table('Registered accounts', ['Account', 'Roles', 'Staked', 'Locked', 'Slashed'], list.map(a => [account(a.account), esc(a.roles.join(', ')), esc(tokens(a.staked)), esc(tokens(a.locked)), esc(tokens(a.slashed))])))
}

async function accountPage (address) {
  const a = await api(`/api/accounts/${address}`)
  render(`Account ${short(a.account)}`, facts([['Address', `<code>${esc(a.account)}</code>`], ['Roles', esc(a.roles.join(', ') || '—')], ['Balance', esc(tokens(a.balance))], ['Staked', esc(tokens(a.stake.staked))], ['Locked', esc(tokens(a.stake.locked))], ['Unbonding', esc(tokens(a.stake.unbonding))]]) +
    `<h2>Slashes</h2>${table('Slashes', ['Amount', 'Time', 'Transaction'], a.slashes.map(s => [esc(tokens(s.amount)), esc(time(s.time)), tx(s.tx)]))}
    <h2>Rewards</h2>${table('Rewards', ['For', 'Amount', 'Time'], a.rewards.map(r => [esc(r.kind), esc(tokens(r.amount)), esc(time(r.time))]))}
    <h2>History</h2>${table('History', ['Event', 'Time', 'Block', 'Transaction', 'Gas'], a.history.map(e => [esc(e.event), esc(time(e.time)), String(e.block), tx(e.tx), esc(e.gas)]))}`)
}

async function price () {
  const p = await api('/api/price')
  render('Price feed', facts([['Feed', `<code>${esc(p.feed)}</code>`], ['Current', p.current ? `<strong id="price-current">${esc(p.current.answer)}</strong> (round ${esc(p.current.round)}, ${esc(time(p.current.updatedAt))})` : 'no rounds yet']]) +
    '<h2>History</h2><div class="chart" id="price-chart"></div>' + table('Rounds', ['Round', 'Answer', 'Updated'], p.rounds.slice().reverse().map(r => [esc(r.round), esc(r.answer), esc(time(r.updatedAt))])))
  chart('price-chart', 'Price by round time', 'time', 'price', p.rounds.map(r => r.updatedAt), p.rounds.map(r => Number(r.answer)), true)
}

async function services () {
  const list = await api('/api/services')
  render('Inference services', table('Services', ['Service', 'Provider', 'Model', 'Price per 1,000 tokens', 'Stake', 'State', 'Slashed', 'Paid by scoring'], list.map(v => [esc(v.id), account(v.provider), version(v.model), esc(tokens(v.pricePer1k)), esc(tokens(v.stake)), `<span class="badge">${esc(v.state)}</span>`, esc(tokens(v.slashed)), esc(tokens(v.scoringPaid))])))
}

async function storage () {
  const list = await api('/api/storage')
  render('Storage deals', table('Storage deals', ['Deal', 'Version kept', 'Funder', 'Escrow', 'Providers', 'Proofs', 'Missed', 'Paid', 'Slashed'], list.map(d => [esc(d.id), version(d.version), account(d.funder), esc(tokens(d.escrow)), d.providers.map(account).join(' ') || '—', String(d.proofs), String(d.missed), esc(tokens(d.paid)), esc(tokens(d.slashed))])))
}

async function channels () {
  const list = await api('/api/channels')
  render('Payment channels', table('Payment channels', ['Channel', 'Client', 'Provider', 'Deposit', 'Expires', 'Claims', 'Claimed', 'Refunded', 'State'], list.map(c => [`<span class="mono" title="${esc(c.id)}">${esc(short(c.id))}</span>`, account(c.client), account(c.provider), esc(tokens(c.deposit)), esc(time(c.expiry)), String(c.claims), esc(tokens(c.claimed)), esc(tokens(c.refunded)), `<span class="badge">${esc(c.state)}</span>`])))
}

async function agents () {
  const list = await api('/api/agents')
  render('Agents', '<p>Agents are off-chain: these are the signed cards the nodes of this machine have seen on the network.</p>' +
    table('Agents', ['Name', 'Account', 'Peer', 'Skills', 'Endpoints', 'Last seen'], list.map(a => [esc(a.name), account(a.address), `<span class="mono" title="${esc(a.peerId)}">${esc(short(a.peerId))}</span>`, esc(a.skills.join(', ')), a.endpoints.map(e => `<code>${esc(e)}</code>`).join('<br>') || '—', esc(a.seen)])))
}

// The skip link moves focus only: as a hash it would be taken for a page.
document.querySelector('.skip').addEventListener('click', event => { event.preventDefault(); main.focus() })
addEventListener('hashchange', () => { route().then(() => main.focus()) })
route()

// Live: the server indexes new blocks as they come; a page showing older data is drawn
// again when the index moves on (focus stays where it was, nothing is announced twice).
setInterval(async () => {
  try {
    const now = (await (await fetch('/api/summary')).json()).indexedTo
    document.getElementById('indexed').textContent = `indexed to block ${now}`
    if (drawnFrom !== null && now !== drawnFrom) await route()
  } catch {} // the server may be restarting: the next poll tries again
}, 3000)
