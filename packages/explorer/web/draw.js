// The explorer's pictures: line charts (uPlot), the lineage graph (dagre), file trees.
// Each has its words beside it (a table, a list) for those who do not see it.
import { bytes, esc, fileHref, short } from './format.js'

/** A line chart with a text alternative: the data as a table in a <details>. */
export function chart (id, label, xLabel, yLabel, xs, ys, xIsTime) {
  const el = document.getElementById(id)
  if (el === null || xs.length === 0) return
  el.setAttribute('role', 'img')
  el.setAttribute('aria-label', label)
  const width = Math.max(280, Math.min(el.clientWidth || 600, 900))
  // eslint-disable-next-line no-undef
  new uPlot({ width, height: 240, scales: { x: { time: xIsTime } }, axes: [{ label: xLabel }, { label: yLabel }], series: [{ label: xLabel }, { label: yLabel, stroke: '#0645ad', width: 2, points: { show: true } }] }, [xs, ys], el)
}

/**
 * The dataset's lineage as a graph laid out by dagre: versions (parent to child), each
 * DAO at its head, each fork from its parent DAO and from the version it forked at
 * (dashed, labelled). Nodes are links; the list below the
 * graph says the same in text.
 */
export function lineage (d) {
  // eslint-disable-next-line no-undef
  const g = new dagre.graphlib.Graph()
  g.setGraph({ rankdir: 'LR', nodesep: 16, ranksep: 48, marginx: 8, marginy: 8 })
  g.setDefaultEdgeLabel(() => ({}))
  const node = (id, label, sub, href, kind) => g.setNode(id, { label, sub, href, kind, width: 180, height: 44 })
  for (const v of d.versions) node(`v:${v.cid}`, v.message, short(v.cid), `#/versions/${v.cid}`, 'version')
  for (const v of d.versions) for (const p of v.parents) if (g.hasNode(`v:${p}`)) g.setEdge(`v:${p}`, `v:${v.cid}`)
  for (const h of d.daos) node(`d:${h.dao}`, h.parent ? 'fork DAO' : 'DAO', short(h.dao), `#/daos/${h.dao}`, 'dao')
  // Edges say what they are: a version's parent, a DAO's head, the version a fork was made at, the DAO it forked from.
  const edge = (from, to, label, kind) => { if (g.hasNode(from) && g.hasNode(to)) g.setEdge(from, to, label ? { label, kind, width: label.length * 7, height: 14, labelpos: 'c' } : { kind }) }
  for (const h of d.daos) {
    if (h.head) edge(`v:${h.head}`, `d:${h.dao}`, 'head', 'head')
    if (h.parent && h.forkPoint && h.forkPoint !== h.head) edge(`v:${h.forkPoint}`, `d:${h.dao}`, 'forked at', 'fork')
    if (h.parent) edge(`d:${h.parent}`, `d:${h.dao}`, h.forkPoint === h.head ? 'forked at its head' : 'fork of', 'fork')
  }
  // eslint-disable-next-line no-undef
  dagre.layout(g)
  const { width, height } = g.graph()
  const edges = g.edges().map(e => {
    const ed = g.edge(e)
    const dash = ed.kind === 'fork' ? ' stroke-dasharray="6 4"' : ''
    const label = ed.label ? `<text x="${ed.x}" y="${ed.y + 4}" text-anchor="middle" font-size="11" fill="#111" stroke="#fff" stroke-width="4" paint-order="stroke">${esc(ed.label)}</text>` : ''
    return `<path d="M${ed.points.map(p => `${p.x},${p.y}`).join(' L')}" fill="none" stroke="#444" stroke-width="1.5"${dash} marker-end="url(#arrow)"/>${label}`
  }).join('')
  const nodes = g.nodes().map(id => {
    const n = g.node(id)
    return `<a href="${esc(n.href)}"><rect x="${n.x - n.width / 2}" y="${n.y - n.height / 2}" width="${n.width}" height="${n.height}" rx="6" fill="${n.kind === 'dao' ? '#fff4d6' : '#eef3fb'}" stroke="#111"/>
      <text x="${n.x}" y="${n.y - 4}" text-anchor="middle" font-size="13">${esc(n.label.length > 26 ? n.label.slice(0, 25) + '…' : n.label)}</text>
      <text x="${n.x}" y="${n.y + 13}" text-anchor="middle" font-size="11" font-family="monospace">${esc(n.sub)}</text></a>`
  }).join('')
  return `<svg class="lineage" viewBox="0 0 ${width} ${height}" width="${width}" role="group" aria-label="Lineage: ${d.versions.length} versions and ${d.daos.length} DAOs">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>${edges}${nodes}</svg>`
}

/** A version's files as nested folders (a path's parts), each file a download with its size. */
export function fileTree (cid, files) {
  const root = { dirs: new Map(), files: [] }
  for (const f of files) {
    const parts = f.path.split('/')
    let dir = root
    for (const part of parts.slice(0, -1)) {
      if (!dir.dirs.has(part)) dir.dirs.set(part, { dirs: new Map(), files: [] })
      dir = dir.dirs.get(part)
    }
    dir.files.push({ ...f, name: parts.at(-1) })
  }
  const list = dir => `<ul class="tree">${[...dir.dirs].sort(([a], [b]) => a < b ? -1 : 1).map(([name, sub]) => `<li><details open><summary>${esc(name)}/</summary>${list(sub)}</details></li>`).join('')}${dir.files.map(f => `<li><a href="${fileHref(cid, f.path)}" download>${esc(f.name)}</a> (${esc(bytes(f.size))})</li>`).join('')}</ul>`
  return `<div class="file-tree">${list(root)}</div>`
}
