import type { InProgressImportResult } from 'ipfs-unixfs-importer'
import type { FileLayout } from 'ipfs-unixfs-importer/layout'
import type { CID } from 'multiformats/cid'

export interface ContentDefinedLayoutOptions {
  /** Power of two: a node ends a group when its hash says so, 1 time in this many. */
  averageChildren?: number
  /** Hard cap on links per node (the importer's balanced layout uses 174). */
  maxChildren?: number
}

/**
 * A UnixFS file layout whose internal nodes are content-defined too: a group of
 * children ends after a child whose CID hash matches a pattern, so inserting or
 * deleting a chunk rewrites only the parents along its path instead of every parent
 * after it, as count-based balanced layouts do. The result is an ordinary UnixFS
 * file DAG that any IPFS implementation reads.
 */
export function contentDefinedLayout (options: ContentDefinedLayoutOptions = {}): FileLayout {
  const averageChildren = options.averageChildren ?? 32
  const maxChildren = options.maxChildren ?? 174
  const pattern = averageChildren - 1
  // At least two children per group, so every level at least halves.
  const endsGroup = (group: InProgressImportResult[], cid: CID): boolean => {
    if (group.length >= maxChildren) return true
    const digest = cid.multihash.digest
    return group.length >= 2 && (digest[digest.length - 1] & pattern) === 0
  }

  return async function layout (source, reduce) {
    let level: InProgressImportResult[] = []
    for await (const leaf of source) level.push(leaf)
    if (level.length <= 1) return reduce(level)
    while (level.length > 1) {
      const parents: InProgressImportResult[] = []
      let group: InProgressImportResult[] = []
      for (const node of level) {
        group.push(node)
        if (endsGroup(group, node.cid)) {
          parents.push(await reduce(group))
          group = []
        }
      }
      if (group.length > 0) parents.push(await reduce(group))
      level = parents
    }
    return level[0]
  }
}
