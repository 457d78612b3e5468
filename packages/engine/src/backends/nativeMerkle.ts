import { useMerkleKernel } from '@commons/protocol'
import { nativeKernels } from './native.ts'

// The protocol hashes tensor trees in WebAssembly; where the engine's native kernels are
// built they give the same bytes faster. Every engine module that commits imports this.
useMerkleKernel(nativeKernels)
