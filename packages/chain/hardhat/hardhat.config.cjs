// Hardhat's network as a second, independent EVM for Commons (startHardhat in
// packages/chain/src/hardhat.ts). No sources: Hardhat compiles nothing, the contracts
// are forge's. Its defaults are anvil's where it matters: chain id 31337, the
// development mnemonic's accounts, a block per transaction.
const { tmpdir } = require('node:os')
const { join } = require('node:path')

const scratch = process.env.COMMONS_HARDHAT_SCRATCH ?? join(tmpdir(), 'commons-hardhat')

module.exports = {
  paths: { sources: join(scratch, 'sources'), cache: join(scratch, 'cache'), artifacts: join(scratch, 'artifacts') },
  networks: { hardhat: { chainId: 31337 } }
}
