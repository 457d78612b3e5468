import { useMerkleKernel } from '@commons/protocol/merkle'
import { nativeKernels } from './native.ts'

// The protocol hashes tensor trees in WebAssembly; where the engine's native kernels are
// built they give the same bytes faster. Every engine module that commits imports this,
// and the CLI before any command (a dataset's tokens root: ~5x faster than WebAssembly).
useMerkleKernel(nativeKernels)
