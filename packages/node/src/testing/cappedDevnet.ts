import { startDevnet, type Devnet, type DevnetOptions } from '@commons/chain'
import { startRpcProxy } from './rpcProxy.ts'

/**
 * A fresh anvil reached through a proxy that refuses `eth_getLogs` over more than 1,000
 * blocks, as hosted providers do: a node test on it also shows the node works behind that
 * cap. `rpcUrl` is the proxy's; `stop` closes the proxy and stops anvil.
 */
export async function startCappedDevnet (options: DevnetOptions): Promise<Devnet> {
  const anvil = await startDevnet(options)
  const proxy = await startRpcProxy({ target: anvil.rpcUrl, maxLogRange: 1000 })
  return {
    ...anvil,
    rpcUrl: proxy.url,
    async stop () {
      await proxy.close()
      await anvil.stop()
    }
  }
}
