// Fast kernels in WebAssembly SIMD. Each computes exactly the per-element program of
// its op (src/ops.ts): SIMD lanes run across output columns, so every lane still sums
// its own k in increasing order, with separate multiply and add (wasm has no fused
// multiply-add) — bit-identical to the scalar reference for any partition of rows.
// The memory is shared with worker threads; every kernel takes a range of rows.

/**
 * Rows [rowStart, rowEnd) of a batched product C = A · B. Row r is row r % m of
 * batch r / m. A's element (i, kk) of a batch is at a + 4·(aRow·i + aCol·kk); B is
 * row-major [k, n] (transposed beforehand if needed); batches are aBatch and bBatch
 * floats apart (bBatch 0: one B for every batch). C is row-major [batch·m, n].
 */
export function matmul (a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, aRow: i32, aCol: i32, aBatch: i32, bBatch: i32, rowStart: i32, rowEnd: i32): void {
  let r = rowStart
  while (r < rowEnd) {
    const t = r / m
    const i = r % m
    const aBase = a + ((<usize>t * aBatch + <usize>i * aRow) << 2)
    const bBase = b + ((<usize>t * bBatch) << 2)
    const cRow = c + ((<usize>r * n) << 2)
    if (i + 4 <= m && r + 4 <= rowEnd) {
      rows4(aBase, bBase, cRow, k, n, aRow, aCol)
      r += 4
    } else {
      rows1(aBase, bBase, cRow, k, n, aCol)
      r += 1
    }
  }
}

/** Four rows of one batch at once: 4 rows × 16 columns of accumulators per pass. */
function rows4 (a: usize, b: usize, c: usize, k: i32, n: i32, aRow: i32, aCol: i32): void {
  const rowStep = <usize>aRow << 2
  const colStep = <usize>aCol << 2
  const cStep = <usize>n << 2
  const bStep = <usize>n << 2
  let j = 0
  for (; j + 16 <= n; j += 16) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0)
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0)
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c22 = f32x4.splat(0), c23 = f32x4.splat(0)
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0), c32 = f32x4.splat(0), c33 = f32x4.splat(0)
    let pa = a
    let pb = b + (<usize>j << 2)
    for (let kk = 0; kk < k; kk++) {
      const b0 = v128.load(pb)
      const b1 = v128.load(pb, 16)
      const b2 = v128.load(pb, 32)
      const b3 = v128.load(pb, 48)
      const a0 = f32x4.splat(load<f32>(pa))
      const a1 = f32x4.splat(load<f32>(pa + rowStep))
      const a2 = f32x4.splat(load<f32>(pa + 2 * rowStep))
      const a3 = f32x4.splat(load<f32>(pa + 3 * rowStep))
      c00 = f32x4.add(c00, f32x4.mul(a0, b0)); c01 = f32x4.add(c01, f32x4.mul(a0, b1))
      c02 = f32x4.add(c02, f32x4.mul(a0, b2)); c03 = f32x4.add(c03, f32x4.mul(a0, b3))
      c10 = f32x4.add(c10, f32x4.mul(a1, b0)); c11 = f32x4.add(c11, f32x4.mul(a1, b1))
      c12 = f32x4.add(c12, f32x4.mul(a1, b2)); c13 = f32x4.add(c13, f32x4.mul(a1, b3))
      c20 = f32x4.add(c20, f32x4.mul(a2, b0)); c21 = f32x4.add(c21, f32x4.mul(a2, b1))
      c22 = f32x4.add(c22, f32x4.mul(a2, b2)); c23 = f32x4.add(c23, f32x4.mul(a2, b3))
      c30 = f32x4.add(c30, f32x4.mul(a3, b0)); c31 = f32x4.add(c31, f32x4.mul(a3, b1))
      c32 = f32x4.add(c32, f32x4.mul(a3, b2)); c33 = f32x4.add(c33, f32x4.mul(a3, b3))
      pa += colStep
      pb += bStep
    }
    const o = c + (<usize>j << 2)
    v128.store(o, c00); v128.store(o, c01, 16); v128.store(o, c02, 32); v128.store(o, c03, 48)
    v128.store(o + cStep, c10); v128.store(o + cStep, c11, 16); v128.store(o + cStep, c12, 32); v128.store(o + cStep, c13, 48)
    v128.store(o + 2 * cStep, c20); v128.store(o + 2 * cStep, c21, 16); v128.store(o + 2 * cStep, c22, 32); v128.store(o + 2 * cStep, c23, 48)
    v128.store(o + 3 * cStep, c30); v128.store(o + 3 * cStep, c31, 16); v128.store(o + 3 * cStep, c32, 32); v128.store(o + 3 * cStep, c33, 48)
  }
  for (; j + 4 <= n; j += 4) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0)
    let pa = a
    let pb = b + (<usize>j << 2)
    for (let kk = 0; kk < k; kk++) {
      const bv = v128.load(pb)
      c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(pa)), bv))
      c1 = f32x4.add(c1, f32x4.mul(f32x4.splat(load<f32>(pa + rowStep)), bv))
      c2 = f32x4.add(c2, f32x4.mul(f32x4.splat(load<f32>(pa + 2 * rowStep)), bv))
      c3 = f32x4.add(c3, f32x4.mul(f32x4.splat(load<f32>(pa + 3 * rowStep)), bv))
      pa += colStep
      pb += bStep
    }
    const o = c + (<usize>j << 2)
    v128.store(o, c0); v128.store(o + cStep, c1); v128.store(o + 2 * cStep, c2); v128.store(o + 3 * cStep, c3)
  }
  for (; j < n; j++) {
    for (let row = 0; row < 4; row++) {
      let acc: f32 = 0
      let pa = a + <usize>row * rowStep
      let pb = b + (<usize>j << 2)
      for (let kk = 0; kk < k; kk++) {
        acc = acc + load<f32>(pa) * load<f32>(pb)
        pa += colStep
        pb += bStep
      }
      store<f32>(c + <usize>row * cStep + (<usize>j << 2), acc)
    }
  }
}

function rows1 (a: usize, b: usize, c: usize, k: i32, n: i32, aCol: i32): void {
  const colStep = <usize>aCol << 2
  const bStep = <usize>n << 2
  let j = 0
  for (; j + 4 <= n; j += 4) {
    let acc = f32x4.splat(0)
    let pa = a
    let pb = b + (<usize>j << 2)
    for (let kk = 0; kk < k; kk++) {
      acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(pa)), v128.load(pb)))
      pa += colStep
      pb += bStep
    }
    v128.store(c + (<usize>j << 2), acc)
  }
  for (; j < n; j++) {
    let acc: f32 = 0
    let pa = a
    let pb = b + (<usize>j << 2)
    for (let kk = 0; kk < k; kk++) {
      acc = acc + load<f32>(pa) * load<f32>(pb)
      pa += colStep
      pb += bStep
    }
    store<f32>(c + (<usize>j << 2), acc)
  }
}

/** out[j, i] = in[i, j] for one [rows, cols] matrix per batch, batches [batchStart, batchEnd). */
export function transpose (input: usize, out: usize, rows: i32, cols: i32, batchStart: i32, batchEnd: i32): void {
  const size = <usize>rows * cols
  for (let t = batchStart; t < batchEnd; t++) {
    const src = input + ((<usize>t * size) << 2)
    const dst = out + ((<usize>t * size) << 2)
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) store<f32>(dst + ((<usize>j * rows + i) << 2), load<f32>(src + ((<usize>i * cols + j) << 2)))
    }
  }
}

// ---------------------------------------------------------------- exp

// The constants and sequence of expf in src/numerics.ts, four lanes at a time.
const LOG2E: f32 = 1.4426950408889634
const LN2_HI: f32 = 0.693145751953125
const LN2_LO: f32 = 1.428606765330187e-6
const ROUND: f32 = 12582912
const EXP_MAX: f32 = 88.72283935546875
const EXP_MIN: f32 = -103.97208404541016
const E6: f32 = <f32>(1.0 / 720.0)
const E5: f32 = <f32>(1.0 / 120.0)
const E4: f32 = <f32>(1.0 / 24.0)
const E3: f32 = <f32>(1.0 / 6.0)

@inline function pow2 (k: v128): v128 {
  return i32x4.shl(i32x4.add(k, i32x4.splat(127)), 23)
}

/** expf on four lanes: the scalar sequence of src/numerics.ts, lane by lane. */
@inline function exp4 (x: v128): v128 {
  const k = f32x4.sub(f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUND)), f32x4.splat(ROUND))
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(k, f32x4.splat(LN2_HI))), f32x4.mul(k, f32x4.splat(LN2_LO)))
  let p = f32x4.splat(E6)
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E5))
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E4))
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E3))
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5))
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1))
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1))
  // p · 2^k as (p · 2^k1) · 2^k2, exactly the scalar scale2: k2 = 0 in the normal range.
  const ki = i32x4.trunc_sat_f32x4_s(k)
  const high = i32x4.gt_s(ki, i32x4.splat(127))
  const low = i32x4.lt_s(ki, i32x4.splat(-126))
  const k1 = v128.bitselect(i32x4.splat(127), v128.bitselect(i32x4.add(ki, i32x4.splat(126)), ki, low), high)
  const k2 = v128.bitselect(i32x4.sub(ki, i32x4.splat(127)), v128.bitselect(i32x4.splat(-126), i32x4.splat(0), low), high)
  let y = f32x4.mul(f32x4.mul(p, pow2(k1)), pow2(k2))
  y = v128.bitselect(f32x4.splat(Infinity), y, f32x4.gt(x, f32x4.splat(EXP_MAX)))
  y = v128.bitselect(f32x4.splat(0), y, f32x4.lt(x, f32x4.splat(EXP_MIN)))
  return v128.bitselect(x, y, f32x4.ne(x, x)) // NaN in, NaN out
}

/** out[i] = expf(x[i]) for i in [start, end) (end rounded up to a multiple of 4). */
export function exp (input: usize, out: usize, start: i32, end: i32): void {
  for (let i = start; i < end; i += 4) v128.store(out + (<usize>i << 2), exp4(v128.load(input + (<usize>i << 2))))
}

// ---------------------------------------------------------------- attention

/** dst[c, r] = src[r, c] for one [rows, cols] matrix. */
function transposeOne (src: usize, dst: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) store<f32>(dst + ((<usize>c * rows + r) << 2), load<f32>(src + ((<usize>r * cols + c) << 2)))
  }
}

/**
 * Heads [headStart, headEnd) of ops.referenceAttention, the same program: q, k, v, out
 * [heads, t, dh]; mask [t, t]; p, e [heads, t, t]; z [heads, t]. t and dh are multiples
 * of 4; `scratch` holds t·dh floats for this thread.
 */
export function attentionForward (q: usize, k: usize, v: usize, mask: usize, out: usize, p: usize, e: usize, z: usize, t: i32, dh: i32, scale: f32, headStart: i32, headEnd: i32, scratch: usize): void {
  const kT = scratch
  const size = <usize>t * dh
  for (let h = headStart; h < headEnd; h++) {
    const base = <usize>h * size
    transposeOne(k + (base << 2), kT, t, dh)
    for (let i = 0; i < t; i++) {
      const qi = q + ((base + <usize>i * dh) << 2)
      const row = (<usize>h * t + i) * t
      const eRow = e + (row << 2)
      const pRow = p + (row << 2)
      // scores, four j at a time (lanes across j, d in order), into eRow for now
      let m4 = f32x4.splat(-Infinity)
      for (let j = 0; j < t; j += 4) {
        let acc = f32x4.splat(0)
        for (let d = 0; d < dh; d++) acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(qi + (<usize>d << 2))), v128.load(kT + ((<usize>d * t + j) << 2))))
        const s = f32x4.add(f32x4.mul(acc, f32x4.splat(scale)), v128.load(mask + ((<usize>i * t + j) << 2)))
        v128.store(eRow + (<usize>j << 2), s)
        m4 = f32x4.max(m4, s) // max is exact and order-free (+0 above −0, NaN wins)
      }
      const m = f32x4.splat(max<f32>(max<f32>(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)), max<f32>(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3))))
      for (let j = 0; j < t; j += 4) v128.store(eRow + (<usize>j << 2), exp4(f32x4.sub(v128.load(eRow + (<usize>j << 2)), m)))
      let sum: f32 = 0
      for (let j = 0; j < t; j++) sum = sum + load<f32>(eRow + (<usize>j << 2)) // in order: a reduction
      store<f32>(z + ((<usize>h * t + i) << 2), sum)
      const zs = f32x4.splat(sum)
      for (let j = 0; j < t; j += 4) v128.store(pRow + (<usize>j << 2), f32x4.div(v128.load(eRow + (<usize>j << 2)), zs))
      // out_i = Σ_j p_j v_j, lanes across d, j in order
      const oi = out + ((base + <usize>i * dh) << 2)
      for (let d = 0; d < dh; d += 4) {
        let acc = f32x4.splat(0)
        for (let j = 0; j < t; j++) acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(pRow + (<usize>j << 2))), v128.load(v + ((base + <usize>j * dh + d) << 2))))
        v128.store(oi + (<usize>d << 2), acc)
      }
    }
  }
}

/**
 * Heads [headStart, headEnd) of ops.referenceAttentionBackward, the same program.
 * `scratch` holds t·dh + t·t floats for this thread.
 */
export function attentionBackward (g: usize, q: usize, k: usize, v: usize, p: usize, e: usize, z: usize, dq: usize, dk: usize, dv: usize, t: i32, dh: i32, scale: f32, headStart: i32, headEnd: i32, scratch: usize): void {
  const vT = scratch
  const ds = scratch + ((<usize>t * dh) << 2)
  const size = <usize>t * dh
  for (let h = headStart; h < headEnd; h++) {
    const base = <usize>h * size
    transposeOne(v + (base << 2), vT, t, dh)
    for (let i = 0; i < t; i++) {
      const gi = g + ((base + <usize>i * dh) << 2)
      const row = (<usize>h * t + i) * t
      const zi = f32x4.splat(load<f32>(z + ((<usize>h * t + i) << 2)))
      const dsRow = ds + ((<usize>i * t) << 2)
      // a_j = (g_i · v_j) / z_i into dsRow
      for (let j = 0; j < t; j += 4) {
        let acc = f32x4.splat(0)
        for (let d = 0; d < dh; d++) acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(gi + (<usize>d << 2))), v128.load(vT + ((<usize>d * t + j) << 2))))
        v128.store(dsRow + (<usize>j << 2), f32x4.div(acc, zi))
      }
      let gz: f32 = 0
      for (let j = 0; j < t; j++) gz = gz + (-(load<f32>(dsRow + (<usize>j << 2)) * load<f32>(p + ((row + j) << 2))))
      const gzs = f32x4.splat(gz)
      for (let j = 0; j < t; j += 4) {
        const at = dsRow + (<usize>j << 2)
        v128.store(at, f32x4.mul(f32x4.mul(f32x4.add(v128.load(at), gzs), v128.load(e + ((row + j) << 2))), f32x4.splat(scale)))
      }
    }
    // dV_j = Σ_i p_ij g_i and dK_j = Σ_i ds_ij q_i, lanes across d, i in order
    for (let j = 0; j < t; j++) {
      for (let d = 0; d < dh; d += 4) {
        let accV = f32x4.splat(0)
        let accK = f32x4.splat(0)
        for (let i = 0; i < t; i++) {
          const pij = f32x4.splat(load<f32>(p + (((<usize>h * t + i) * t + j) << 2)))
          const dsij = f32x4.splat(load<f32>(ds + ((<usize>i * t + j) << 2)))
          accV = f32x4.add(accV, f32x4.mul(pij, v128.load(g + ((base + <usize>i * dh + d) << 2))))
          accK = f32x4.add(accK, f32x4.mul(dsij, v128.load(q + ((base + <usize>i * dh + d) << 2))))
        }
        v128.store(dv + ((base + <usize>j * dh + d) << 2), accV)
        v128.store(dk + ((base + <usize>j * dh + d) << 2), accK)
      }
    }
    // dQ_i = Σ_j ds_ij k_j
    for (let i = 0; i < t; i++) {
      for (let d = 0; d < dh; d += 4) {
        let acc = f32x4.splat(0)
        for (let j = 0; j < t; j++) acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(ds + ((<usize>i * t + j) << 2))), v128.load(k + ((base + <usize>j * dh + d) << 2))))
        v128.store(dq + ((base + <usize>i * dh + d) << 2), acc)
      }
    }
  }
}

// ---------------------------------------------------------------- elementwise

/**
 * out[i] = x[i] op y[·] for i in [start, end), start and end multiples of 4 (the arena
 * pads every array to 16 bytes). How y broadcasts: mode 0 a scalar y[0]; 1 the whole
 * array y[i]; 2 a tile y[i % period]; 3 a column y[i / period] (constant along the last
 * axis). Tile and column need a period that is a multiple of 4. Ops: 0 add, 1 sub,
 * 2 mul, 3 div, 4 max, 5 cmpge. max is IEEE maximum: NaN wins, +0 above −0, as the
 * scalar program.
 */
export function binary (op: i32, x: usize, y: usize, mode: i32, period: i32, out: usize, start: i32, end: i32): void {
  const ys = f32x4.splat(load<f32>(y))
  for (let i = start; i < end; i += 4) {
    const at = <usize>i << 2
    const a = v128.load(x + at)
    let b: v128
    if (mode == 0) b = ys
    else if (mode == 1) b = v128.load(y + at)
    else if (mode == 2) b = v128.load(y + ((<usize>(i % period)) << 2))
    else b = f32x4.splat(load<f32>(y + ((<usize>(i / period)) << 2)))
    let r: v128
    switch (op) {
      case 0: r = f32x4.add(a, b); break
      case 1: r = f32x4.sub(a, b); break
      case 2: r = f32x4.mul(a, b); break
      case 3: r = f32x4.div(a, b); break
      case 4: r = f32x4.max(a, b); break
      default: r = v128.and(f32x4.ge(a, b), f32x4.splat(1)); break
    }
    v128.store(out + at, r)
  }
}

/** out[i] = op x[i] for i in [start, end): 0 neg, 1 recip, 2 sqrt (IEEE, correctly rounded). */
export function unary (op: i32, x: usize, out: usize, start: i32, end: i32): void {
  for (let i = start; i < end; i += 4) {
    const at = <usize>i << 2
    const a = v128.load(x + at)
    v128.store(out + at, op == 0 ? f32x4.neg(a) : op == 1 ? f32x4.div(f32x4.splat(1), a) : f32x4.sqrt(a))
  }
}
