// Formatting shared by the explorer's pages: escaping, short ids, times, sizes, token
// amounts, links to accounts and versions, tables with captions, fact lists.

export const esc = value => String(value ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
export const short = text => { const s = String(text ?? ''); return s.length > 18 ? `${s.slice(0, 10)}…${s.slice(-6)}` : s }
export const time = seconds => seconds ? new Date(seconds * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC') : ''
export const bytes = n => n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`
/** Token amounts come as wei strings: shown in whole tokens, exact to 4 places. */
export const tokens = wei => {
  const v = BigInt(wei ?? 0); const neg = v < 0n; const a = neg ? -v : v
  const whole = a / 10n ** 18n; const frac = (a % 10n ** 18n).toString().padStart(18, '0').slice(0, 4).replace(/0+$/, '')
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''} CMN`
}
export const account = a => a ? `<a class="mono" href="#/accounts/${esc(a)}" title="${esc(a)}">${esc(short(a))}</a>` : '—'
export const version = c => c ? `<a class="mono" href="#/versions/${esc(c)}" title="${esc(c)}">${esc(short(c))}</a>` : '—'
export const fileHref = (cid, path) => `/files/${cid}/${path.split('/').map(encodeURIComponent).join('/')}`
export const tx = t => `<span class="mono" title="${esc(t)}">${esc(short(t))}</span>`

export function table (caption, headers, rows) {
  if (rows.length === 0) return `<p>No ${esc(caption.toLowerCase())} yet.</p>`
  return `<div class="table-wrap"><table><caption>${esc(caption)}</caption><thead><tr>${headers.map(h => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>
    <tbody>${rows.map(r => `<tr>${r.map(c => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`
}
export const facts = pairs => `<dl>${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`
