import { BaseError } from '@commons/errors'

export class ShapeError extends BaseError {
  override name = 'ShapeError'
}

export type DType = 'f32' | 'i32'

/** A dense row-major tensor. Trained values are binary32; token ids and indices are i32. */
export class Tensor {
  readonly shape: readonly number[]
  readonly data: Float32Array | Int32Array
  readonly dtype: DType

  constructor (shape: readonly number[], data: Float32Array | Int32Array) {
    if (size(shape) !== data.length) throw new ShapeError(`shape [${shape.join(', ')}] needs ${size(shape)} elements, got ${data.length}`)
    this.shape = shape
    this.data = data
    this.dtype = data instanceof Int32Array ? 'i32' : 'f32'
  }

  get size (): number {
    return this.data.length
  }

  get f32 (): Float32Array {
    if (!(this.data instanceof Float32Array)) throw new ShapeError('expected an f32 tensor')
    return this.data
  }

  get i32 (): Int32Array {
    if (!(this.data instanceof Int32Array)) throw new ShapeError('expected an i32 tensor')
    return this.data
  }

  /** The raw bytes of the elements (little-endian), without copying. */
  get bytes (): Uint8Array {
    return new Uint8Array(this.data.buffer, this.data.byteOffset, this.data.byteLength)
  }

  /** The same data under another shape with as many elements. */
  reshape (shape: readonly number[]): Tensor {
    return new Tensor(shape, this.data)
  }

  static zeros (shape: readonly number[]): Tensor {
    return new Tensor(shape, new Float32Array(size(shape)))
  }

  static from (shape: readonly number[], values: ArrayLike<number>): Tensor {
    return new Tensor(shape, Float32Array.from(values))
  }

  static scalar (value: number): Tensor {
    return new Tensor([], Float32Array.of(value))
  }
}

export function size (shape: readonly number[]): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/** Row-major strides. */
export function strides (shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length)
  let s = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s
    s *= shape[i]
  }
  return out
}

/** numpy broadcasting of two shapes. */
export function broadcastShape (a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1
    const y = b[b.length - n + i] ?? 1
    if (x !== y && x !== 1 && y !== 1) throw new ShapeError(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`)
    out.push(x === 1 ? y : x)
  }
  return out
}

export function sameShape (a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}
