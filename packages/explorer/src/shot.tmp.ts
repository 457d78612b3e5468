import chromium from '@sparticuz/chromium'
import { chromium as pw } from 'playwright-core'
import { startExplorer } from './index.ts'
const ex = await startExplorer({ home: '/tmp/exdev' })
const browser = await pw.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true })
const page = await browser.newPage({ viewport: { width: 1000, height: 900 } })
page.on('console', m => { if (m.type() === 'error') console.log('CONSOLE', m.text()) })
page.on('pageerror', e => console.log('PAGEERROR', e.message))
const summary = await (await fetch(ex.url + 'api/daos')).json()
for (const [name, hash] of [['home', ''], ['dataset', '#/datasets/community-corpus'], ['dao', '#/daos/' + summary[0].dao], ['job1', '#/jobs/1'], ['dispute', '#/disputes/0'], ['price', '#/price'], ['accounts', '#/accounts']]) {
  await page.goto(ex.url + hash)
  await page.waitForSelector('main[data-rendered]')
  await page.waitForTimeout(500)
  await page.screenshot({ path: `/tmp/exdev/${name}.png`, fullPage: true })
}
await browser.close(); await ex.stop()
