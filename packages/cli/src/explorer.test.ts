import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import chromium from '@sparticuz/chromium'
import { chromium as playwright, type Browser, type Page } from 'playwright-core'
import { AxeBuilder } from '@axe-core/playwright'
import { parseEther } from 'viem'
import { claimVoucher, connect, devnetAccount, openChannel, readManifest, signVoucher, startDevnet, storageMarketAbi, updatePrice, type Devnet } from '@commons/chain'
import { startExplorer, type RunningExplorer } from '@commons/explorer'
import { runNetworkDemo, type DemoSummary } from './demo/runNetworkDemo.ts'

/**
 * The explorer in a real Chromium (the one the @sparticuz/chromium package ships, so
 * `npm ci && npm test` brings it) after a real demo run: every page a person would
 * audit shows what the chain and the stores hold, links lead from page to page, and
 * nothing logs an error. Screenshots go to a temp folder whose path is printed.
 */

// The Chromium that @sparticuz/chromium ships is built for x86_64 Linux only.
const unsupported = process.platform !== 'linux' || process.arch !== 'x64' ? `@sparticuz/chromium ships no Chromium for ${process.platform}/${process.arch}` : false

let root: string
let shots: string
let devnet: Devnet
let summary: DemoSummary
let explorer: RunningExplorer
let browser: Browser
let page: Page
const errors: string[] = []

before(async () => {
  if (unsupported !== false) return
  root = await mkdtemp(join(tmpdir(), 'commons-explorer-test-'))
  shots = await mkdtemp(join(tmpdir(), 'commons-explorer-shots-'))
  // The chain outlives the demo (it stops only the chain it starts itself).
  devnet = await startDevnet({ home: join(root, 'chain-home') })
  summary = await runNetworkDemo({ home: root, rpcUrl: devnet.rpcUrl, steps: 6, layers: 1, storage: true })
  assert.ok(summary.ok, 'the demo ran to its end')
  explorer = await startExplorer({ home: root, pollMs: 500 })
  browser = await playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true })
  // A fixed locale: the charts format dates with Intl, which rejects the POSIX locale a bare machine has.
  // A context of its own: the accessibility checker opens pages in it.
  page = await (await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'en-US' })).newPage()
  page.on('console', message => { if (message.type() === 'error') errors.push(message.text()) })
  page.on('pageerror', error => { errors.push(error.message) })
}, { timeout: 480_000 })

after(async () => {
  if (unsupported !== false) return
  await browser?.close()
  await explorer?.stop()
  await devnet?.stop()
  await rm(root, { recursive: true, force: true })
  console.log(`explorer screenshots: ${shots}`)
})

/** Loads a page of the explorer afresh (scripts and all) and waits for it to render. */
async function open (hash: string): Promise<void> {
  await page.goto('about:blank')
  await page.goto(`${explorer.url}${hash}`)
  await page.waitForSelector('main[data-rendered]')
}

/** Follows a link and waits for the page it leads to to render (each render stamps main anew). */
async function follow (selector: string): Promise<void> {
  const before = await page.getAttribute('main', 'data-rendered')
  await page.click(selector)
  await page.waitForFunction(previous => document.querySelector('main')?.dataset.rendered !== previous, before)
}

const shot = async (name: string): Promise<void> => { await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true }) }
const mainText = async (): Promise<string> => page.innerText('main')

describe('the explorer in a real Chromium after the demo', { skip: unsupported }, () => {
  it('shows the dataset\'s two versions and their diff', { timeout: 60_000 }, async () => {
    const [v1, v2] = summary.datasets[0].versions
    await open(`#/datasets/${summary.datasets[0].name}`)
    const rows = await page.locator('table:has(caption:text("Versions")) tbody tr').count()
    assert.equal(rows, 2)
    assert.deepEqual(await page.locator('table:has(caption:text("Versions")) tbody tr td:nth-child(2)').allInnerTexts(), ['first import', 'fix typos, add rows'])
    const graph = await page.locator('svg.lineage a').evaluateAll(links => links.map(a => a.getAttribute('href')))
    for (const href of [`#/versions/${v1}`, `#/versions/${v2}`, `#/daos/${summary.dao.address.toLowerCase()}`, `#/daos/${summary.fork.address.toLowerCase()}`]) assert.ok(graph.includes(href), `the lineage graph links ${href}`)
    await shot('dataset')
    await follow(`a[href="#/diff/${v1}/${v2}"]`)
    const cells = await page.locator('table:has(caption:text("Changed files")) tbody tr td').allInnerTexts()
    assert.ok(cells.includes('corpus.jsonl'))
    assert.ok(cells.some(c => /^\+[1-9]/.test(c)), 'rows added are counted')
    await shot('diff')
    // Downloads: one file of a version, and the whole version as a CAR.
    await open(`#/versions/${v2}`)
    const file = await page.locator('a[download]:text("download corpus.jsonl")').getAttribute('href')
    const fileRes = await page.request.get(new URL(file ?? '', explorer.url).href)
    assert.equal(fileRes.status(), 200)
    assert.ok((await fileRes.body()).length > 0, 'the file downloads')
    const car = await page.request.get(new URL(await page.locator('a[href^="/car/"]').getAttribute('href') ?? '', explorer.url).href)
    assert.equal(car.status(), 200)
    assert.equal(car.headers()['content-type'], 'application/vnd.ipld.car', 'the whole version downloads as a CAR')
    await shot('version')
  })

  it('shows the DAO with its members and its fork, and leads to the fork by a link', { timeout: 60_000 }, async () => {
    await open('#/daos')
    await follow(`a[href="#/daos/${summary.dao.address.toLowerCase()}"]`)
    assert.equal(await page.locator('table:has(caption:text("Members and shares")) tbody tr').count(), summary.dao.members)
    assert.ok((await mainText()).includes('executed'), 'the proposal that made v2 canonical is shown executed')
    assert.equal(await page.locator(`table:has(caption:text("Forks")) a[href="#/versions/${summary.fork.forkPoint}"]`).count(), 1, 'the fork point is the version it forked at')
    assert.equal(await page.locator('#treasury-chart canvas').count(), 1, 'the treasury over time is drawn')
    await shot('dao')
    await follow(`table:has(caption:text("Forks")) a[href="#/daos/${summary.fork.address.toLowerCase()}"]`)
    assert.ok((await mainText()).includes(summary.fork.address.toLowerCase()))
    assert.ok(await page.locator(`dd a[href="#/daos/${summary.dao.address.toLowerCase()}"]`).count() > 0, 'the fork names its parent')
    await shot('fork')
  })

  it('shows both jobs with their loss curves; the job page renders within a second', { timeout: 60_000 }, async () => {
    const renders: number[] = []
    const curves: number[] = []
    for (const job of summary.jobs) {
      await open(`#/jobs/${job.id}`)
      renders.push(Number(await page.getAttribute('main', 'data-rendered')))
      assert.equal(await page.innerText('#job-status'), job.outcome)
      await page.waitForSelector('#loss-chart canvas')
      curves.push(await page.evaluate(() => performance.now()))
      const losses = await page.locator('table:has(caption:text("Loss per step")) tbody tr').count()
      assert.equal(losses, 7, 'the loss of the initial state and of each of the 6 steps')
      assert.ok(await page.locator('#download-safetensors').count() === 1, 'the model downloads as safetensors')
      await shot(`job-${job.id}`)
    }
    console.log(`time to first render of the job page: ${renders.map(ms => `${ms.toFixed(0)} ms`).join(', ')}; loss curve drawn by ${curves.map(ms => `${ms.toFixed(0)} ms`).join(', ')} (from navigation start)`)
    assert.ok(Math.max(...renders) <= 1000, `rendered in ${renders.join(', ')} ms`)
    // The model as GGUF, converted on download from the run's checked blocks.
    const gguf = await page.request.get(new URL(await page.locator('#download-gguf').getAttribute('href') ?? '', explorer.url).href)
    assert.equal(gguf.status(), 200)
    assert.equal((await gguf.body()).subarray(0, 4).toString('latin1'), 'GGUF', 'the model downloads as GGUF')
    // The run is a version like any other: its file tree has the checkpoints in their folder.
    await follow('dt:text-is("Run (model and transcript)") + dd a')
    assert.ok((await page.locator('.file-tree summary').allInnerTexts()).includes('checkpoints/'), 'the run\'s checkpoints folder')
    assert.ok(await page.locator('.file-tree a:text-is("model.safetensors")').count() === 1)
    await shot('run-version')
  })

  it('shows the dispute with its three moves and the slashed stake', { timeout: 60_000 }, async () => {
    const dispute = summary.disputes[0]
    await open(`#/jobs/${dispute.job}`)
    await follow(`a[href="#/disputes/${dispute.id}"]`)
    assert.equal(await page.innerText('#dispute-winner'), 'challenger')
    const moves = await page.locator('table:has(caption:text("Moves")) tbody tr td:first-child').allInnerTexts()
    assert.deepEqual(moves.filter(m => ['OpTracePosted', 'Pinpointed', 'Revealed'].includes(m)), ['OpTracePosted', 'Pinpointed', 'Revealed'])
    const cheater = summary.jobs.find(j => j.cheater)?.trainer.toLowerCase() ?? ''
    const slashed = await page.locator('table:has(caption:text("Slashes")) tbody tr a').first().getAttribute('href')
    assert.equal(slashed, `#/accounts/${cheater}`)
    // The pinpointed op by name, and the value each side claimed for its element: different, or there was nothing to dispute.
    assert.match(await page.innerText('#pinpoint-op'), /^\d+$/)
    assert.match(await page.locator('dd:has(#pinpoint-op) code').innerText(), /^[A-Z_]+$/, 'the op is named')
    assert.match(await page.innerText('#pinpoint-element'), /^\d+$/)
    const claims = [await page.innerText('#claim-trainer'), await page.innerText('#claim-challenger')]
    assert.ok(claims.every(c => /\(0x[0-9a-f]{8}\)/.test(c)), `both claims shown with their bits: ${claims.join(' / ')}`)
    assert.notEqual(claims[0], claims[1])
    const gas = await page.locator('table:has(caption:text("Moves")) tbody tr td:nth-child(5)').allInnerTexts()
    assert.ok(gas.every(g => Number(g) > 21_000), `every move's gas is shown: ${gas.join(', ')}`)
    const challenger = await page.locator('dt:text-is("Challenger") + dd a').getAttribute('href')
    assert.ok(await page.locator(`table:has(caption:text("Payments")) td:nth-child(2) a[href="${challenger}"]`).count() > 0, 'the challenger is shown paid')
    await shot('dispute')
    await follow('table:has(caption:text("Slashes")) tbody tr a')
    assert.ok((await mainText()).includes('200 CMN'), 'the account page shows the slashed job stake')
    await shot('slashed-account')
    await page.goBack()
    await page.waitForSelector('#dispute-winner')
    await follow('dt:text-is("Challenger") + dd a')
    assert.ok((await page.locator('table:has(caption:text("Rewards")) tbody').innerText()).includes('challenger share of a slash'), 'the challenger\'s reward is on its account page')
    await shot('challenger-account')
  })

  it('shows the price and reaches every section from the navigation', { timeout: 60_000 }, async () => {
    await open('')
    // By keyboard: the first Tab reaches the skip link, Enter puts focus on the content, the next Tab its first link.
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip')
    await page.keyboard.press('Enter')
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main')
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('href')), '#/datasets')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Datasets')
    await open('')
    const titles: Record<string, string> = { Price: 'Price feed', Services: 'Inference services', Storage: 'Storage deals', Channels: 'Payment channels' }
    for (const section of ['Datasets', 'DAOs', 'Jobs', 'Disputes', 'Accounts', 'Services', 'Storage', 'Channels', 'Agents', 'Price']) {
      await follow(`nav a:text-is("${section}")`)
      assert.equal(await page.innerText('main h1'), titles[section] ?? section)
    }
    assert.match(await page.innerText('#price-current'), /^\d+\.\d+$/)
    assert.equal(await page.locator('#price-chart canvas').count(), 1, 'the price history is drawn')
    assert.ok((summary.storage?.proofs ?? 0) > 0, 'the storage act proved storage')
    await open('#/storage')
    const deal = await page.locator('table:has(caption:text("Storage deals")) tbody tr td').allInnerTexts()
    // The storers go on proving while the demo's later acts mine blocks: count what the chain holds now.
    const reader = await connect(devnet.rpcUrl, devnetAccount(0))
    const market = (await readManifest(join(summary.home, 'chain', 'deployment.json'))).contracts.storageMarket as `0x${string}`
    const proven = await reader.public.getContractEvents({ address: market, abi: storageMarketAbi, eventName: 'Proven', fromBlock: 0n })
    assert.ok(proven.length >= (summary.storage?.proofs ?? 0), 'at least the act\'s proofs are on the chain')
    assert.equal(deal[5], String(proven.length), 'the storage deal\'s proofs, counted from the chain')
    assert.equal(await page.locator(`table:has(caption:text("Storage deals")) a[href="#/versions/${summary.datasets[0].versions[1]}"]`).count(), 1, 'the deal keeps v2')
    await shot('price')
    await page.setViewportSize({ width: 390, height: 844 })
    // A phone's width: no page scrolls sideways (wide tables scroll inside their own box).
    for (const hash of [`#/datasets/${summary.datasets[0].name}`, `#/daos/${summary.dao.address.toLowerCase()}`, `#/disputes/${summary.disputes[0].id}`, '#/price', `#/jobs/${summary.jobs[0].id}`]) {
      await open(hash)
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.ok(overflow <= 0, `${hash} fits a phone's width (overflow ${overflow} px)`)
    }
    await page.waitForSelector('#loss-chart canvas')
    await shot('job-phone')
  })

  it('shows a new price round without a reload: the index follows the chain', { timeout: 60_000 }, async () => {
    await page.setViewportSize({ width: 1100, height: 900 })
    await open('#/price')
    const operator = await connect(devnet.rpcUrl, devnetAccount(0))
    await updatePrice(operator, await readManifest(join(summary.home, 'chain', 'deployment.json')), 3123n * 10n ** 8n)
    await page.waitForFunction(() => document.getElementById('price-current')?.textContent === '3123.00000000', null, { timeout: 20_000 })
  })

  it('shows a payment channel opened and claimed after it started, and the agent cards a node has seen', { timeout: 60_000 }, async () => {
    const deployment = await readManifest(join(summary.home, 'chain', 'deployment.json'))
    const client = await connect(devnet.rpcUrl, devnetAccount(0))
    const provider = await connect(devnet.rpcUrl, devnetAccount(9))
    const channel = await openChannel(client, deployment, { provider: provider.account.address, amount: parseEther('10'), expiry: BigInt(Math.floor(Date.now() / 1000) + 86_400) })
    await claimVoucher(provider, deployment, await signVoucher(client.account, deployment, channel, parseEther('2')))
    // A poll that read the head between the two transactions shows the channel unclaimed: index to the head now.
    await explorer.refresh()
    await open('#/channels')
    await page.waitForSelector(`table:has(caption:text("Payment channels")) a[href="#/accounts/${provider.account.address.toLowerCase()}"]`, { timeout: 20_000 })
    // The demo's inference act opened channels too: the row of this test's provider.
    const row = await page.locator('table:has(caption:text("Payment channels")) tbody tr', { has: page.locator(`a[href="#/accounts/${provider.account.address.toLowerCase()}"]`) }).first().innerText()
    assert.match(row, /10 CMN/, 'the deposit')
    assert.match(row, /2 CMN/, 'what the provider claimed')
    await shot('channels')
    // The file a node's agent keeps of the cards it saw (written as it is; the page reads it on each load).
    await mkdir(join(root, 'agent'), { recursive: true })
    await writeFile(join(root, 'agent', 'agents.json'), JSON.stringify([{ peerId: '12D3KooWExplorerTestAgent', address: provider.account.address, name: 'dataset-notes', description: 'notes on datasets', skills: ['notes'], multiaddrs: [], endpoints: ['http://127.0.0.1:9/a2a'], seen: new Date().toISOString(), card: {} }]))
    await open('#/agents')
    assert.ok((await mainText()).includes('dataset-notes'))
    assert.equal(await page.locator(`table:has(caption:text("Agents")) a[href="#/accounts/${provider.account.address.toLowerCase()}"]`).count(), 1)
    await shot('agents')
  })

  it('meets WCAG 2 A and AA on every page (axe-core: labels, names, contrast, structure), with no console errors anywhere', { timeout: 120_000 }, async () => {
    const [v1, v2] = summary.datasets[0].versions
    const pages = ['', `#/datasets/${summary.datasets[0].name}`, `#/versions/${v2}`, `#/diff/${v1}/${v2}`, `#/daos/${summary.dao.address.toLowerCase()}`,
      `#/jobs/${summary.jobs[0].id}`, `#/disputes/${summary.disputes[0].id}`, `#/accounts/${summary.jobs[0].trainer.toLowerCase()}`, '#/price', '#/storage', '#/channels', '#/agents']
    const found: string[] = []
    for (const hash of pages) {
      await open(hash)
      if (hash.startsWith('#/jobs/')) await page.waitForSelector('#loss-chart canvas')
      const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze()
      for (const v of violations) found.push(`${hash || 'home'}: ${v.id} (${v.nodes.length}) ${v.nodes[0]?.target.join(' ') ?? ''}`)
    }
    assert.deepEqual(found, [])
    assert.deepEqual(errors, [], 'no console errors on any page')
  })
})
