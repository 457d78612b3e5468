// Native kernels for the engine (a third backend, optional): the same per-element
// programs as src/ops.ts and the same commitments as src/commit.ts, in C with AVX-512.
// Built with -ffp-contract=off: every multiply and add rounds on its own, as binary32
// requires, so results are bit-identical to the reference. Only N-API is used, so one
// build loads in any Node version. Where AVX-512 is missing, matmul declines (the
// WebAssembly kernels run instead) and keccak runs one state at a time.
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "native kernels: bad arguments"); return NULL; } } while (0)

static int has_avx512 (void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

// ------------------------------------------------------------------ matmul

typedef struct {
  const float *a, *b;
  float *c;
  int m, k, n, a_row, a_col, a_batch, b_batch, row_start, row_end;
} matmul_job;

// Rows [row_start, row_end) of C = A·B, B row-major [k, n] per batch; lanes across
// columns, k increasing, a separate multiply and add per term (no FMA).
__attribute__((target("avx512f")))
static void *matmul_rows (void *arg) {
  const matmul_job *j = arg;
  int r = j->row_start;
  while (r < j->row_end) {
    const int t = r / j->m, i = r % j->m;
    const float *a = j->a + (size_t)t * j->a_batch + (size_t)i * j->a_row;
    const float *b = j->b + (size_t)t * j->b_batch;
    float *c = j->c + (size_t)r * j->n;
    const int rows = (i + 4 <= j->m && r + 4 <= j->row_end) ? 4 : 1;
    int col = 0;
    for (; col + 32 <= j->n; col += 32) {
      __m512 acc[4][2];
      for (int x = 0; x < rows; x++) acc[x][0] = acc[x][1] = _mm512_setzero_ps();
      for (int kk = 0; kk < j->k; kk++) {
        const float *brow = b + (size_t)kk * j->n + col;
        const __m512 b0 = _mm512_loadu_ps(brow), b1 = _mm512_loadu_ps(brow + 16);
        for (int x = 0; x < rows; x++) {
          const __m512 av = _mm512_set1_ps(a[(size_t)x * j->a_row + (size_t)kk * j->a_col]);
          acc[x][0] = _mm512_add_ps(acc[x][0], _mm512_mul_ps(av, b0));
          acc[x][1] = _mm512_add_ps(acc[x][1], _mm512_mul_ps(av, b1));
        }
      }
      for (int x = 0; x < rows; x++) {
        _mm512_storeu_ps(c + (size_t)x * j->n + col, acc[x][0]);
        _mm512_storeu_ps(c + (size_t)x * j->n + col + 16, acc[x][1]);
      }
    }
    for (; col < j->n; col += 16) {
      const int width = j->n - col < 16 ? j->n - col : 16;
      const __mmask16 mask = (__mmask16)((1u << width) - 1);
      __m512 acc[4];
      for (int x = 0; x < rows; x++) acc[x] = _mm512_setzero_ps();
      for (int kk = 0; kk < j->k; kk++) {
        const __m512 bv = _mm512_maskz_loadu_ps(mask, b + (size_t)kk * j->n + col);
        for (int x = 0; x < rows; x++) {
          acc[x] = _mm512_add_ps(acc[x], _mm512_mul_ps(_mm512_set1_ps(a[(size_t)x * j->a_row + (size_t)kk * j->a_col]), bv));
        }
      }
      for (int x = 0; x < rows; x++) _mm512_mask_storeu_ps(c + (size_t)x * j->n + col, mask, acc[x]);
    }
    r += rows;
  }
  return NULL;
}

static int get_f32 (napi_env env, napi_value value, float **data, size_t *length) {
  napi_typedarray_type type;
  void *ptr;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, &ptr, &buffer, &offset) != napi_ok || type != napi_float32_array) return 0;
  *data = ptr;
  return 1;
}

static int get_i32 (napi_env env, napi_value value) {
  int32_t v = 0;
  napi_get_value_int32(env, value, &v);
  return v;
}

// matmul(a, b, c, m, k, n, aRow, aCol, aBatch, bBatch, rows, threads) -> boolean
static napi_value matmul (napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!has_avx512() || argc < 12) {
    napi_get_boolean(env, 0, &result);
    return result;
  }
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!get_f32(env, argv[0], &a, &la) || !get_f32(env, argv[1], &b, &lb) || !get_f32(env, argv[2], &c, &lc)) {
    napi_throw_type_error(env, NULL, "matmul expects Float32Arrays");
    return NULL;
  }
  matmul_job base = { a, b, c, get_i32(env, argv[3]), get_i32(env, argv[4]), get_i32(env, argv[5]), get_i32(env, argv[6]),
    get_i32(env, argv[7]), get_i32(env, argv[8]), get_i32(env, argv[9]), 0, get_i32(env, argv[10]) };
  int threads = get_i32(env, argv[11]);
  if (threads < 1) threads = 1;
  if (threads > 16) threads = 16;
  const int rows = base.row_end;
  matmul_job jobs[16];
  pthread_t ids[16];
  const int quads = (rows + 3) / 4;
  for (int t = 0; t < threads; t++) {
    jobs[t] = base;
    jobs[t].row_start = (int)((long)quads * t / threads) * 4;
    jobs[t].row_end = (int)((long)quads * (t + 1) / threads) * 4;
    if (jobs[t].row_end > rows) jobs[t].row_end = rows;
    if (jobs[t].row_start > rows) jobs[t].row_start = rows;
  }
  for (int t = 1; t < threads; t++) pthread_create(&ids[t], NULL, matmul_rows, &jobs[t]);
  matmul_rows(&jobs[0]);
  for (int t = 1; t < threads; t++) pthread_join(ids[t], NULL);
  napi_get_boolean(env, 1, &result);
  return result;
}

// ------------------------------------------------------------------ attention

// expf of src/numerics.ts on sixteen lanes: the same constants and operation sequence.
__attribute__((target("avx512f")))
static inline __m512 exp16 (__m512 x) {
  const __m512 k = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.4426950408889634f)), _mm512_set1_ps(12582912.0f)), _mm512_set1_ps(12582912.0f));
  const __m512 r = _mm512_sub_ps(_mm512_sub_ps(x, _mm512_mul_ps(k, _mm512_set1_ps(0.693145751953125f))), _mm512_mul_ps(k, _mm512_set1_ps(1.428606765330187e-6f)));
  __m512 p = _mm512_set1_ps((float)(1.0 / 720.0));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps((float)(1.0 / 120.0)));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps((float)(1.0 / 24.0)));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps((float)(1.0 / 6.0)));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(0.5f));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.0f));
  p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.0f));
  const __m512i ki = _mm512_cvttps_epi32(k);
  const __mmask16 high = _mm512_cmpgt_epi32_mask(ki, _mm512_set1_epi32(127));
  const __mmask16 low = _mm512_cmplt_epi32_mask(ki, _mm512_set1_epi32(-126));
  __m512i k1 = _mm512_mask_blend_epi32(low, ki, _mm512_add_epi32(ki, _mm512_set1_epi32(126)));
  k1 = _mm512_mask_blend_epi32(high, k1, _mm512_set1_epi32(127));
  __m512i k2 = _mm512_mask_blend_epi32(low, _mm512_setzero_si512(), _mm512_set1_epi32(-126));
  k2 = _mm512_mask_blend_epi32(high, k2, _mm512_sub_epi32(ki, _mm512_set1_epi32(127)));
  const __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k1, _mm512_set1_epi32(127)), 23));
  const __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k2, _mm512_set1_epi32(127)), 23));
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(88.72283935546875f), _CMP_GT_OQ), y, _mm512_set1_ps(__builtin_inff()));
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-103.97208404541016f), _CMP_LT_OQ), y, _mm512_setzero_ps());
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, x);
}

typedef struct {
  const float *q, *k, *v, *mask, *g, *p, *e, *z;
  float *out, *po, *eo, *zo, *dq, *dk, *dv;
  int t, dh, head_start, head_end;
  float scale;
} attention_job;

// ops.referenceAttention for heads [head_start, head_end): t and dh multiples of 16.
__attribute__((target("avx512f")))
static void *attention_forward_heads (void *arg) {
  const attention_job *j = arg;
  const int t = j->t, dh = j->dh;
  float *kT = malloc(sizeof(float) * t * dh);
  for (int h = j->head_start; h < j->head_end; h++) {
    const size_t base = (size_t)h * t * dh;
    for (int r = 0; r < t; r++) for (int d = 0; d < dh; d++) kT[(size_t)d * t + r] = j->k[base + (size_t)r * dh + d];
    for (int i = 0; i < t; i++) {
      const float *qi = j->q + base + (size_t)i * dh;
      float *e = j->eo + ((size_t)h * t + i) * t;
      float *p = j->po + ((size_t)h * t + i) * t;
      __m512 m16 = _mm512_set1_ps(-__builtin_inff());
      for (int col = 0; col < t; col += 16) {
        __m512 acc = _mm512_setzero_ps();
        for (int d = 0; d < dh; d++) acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(qi[d]), _mm512_loadu_ps(kT + (size_t)d * t + col)));
        const __m512 s = _mm512_add_ps(_mm512_mul_ps(acc, _mm512_set1_ps(j->scale)), _mm512_loadu_ps(j->mask + (size_t)i * t + col));
        _mm512_storeu_ps(e + col, s);
        m16 = _mm512_max_ps(m16, s);
      }
      const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(m16));
      for (int col = 0; col < t; col += 16) _mm512_storeu_ps(e + col, exp16(_mm512_sub_ps(_mm512_loadu_ps(e + col), m)));
      float sum = 0;
      for (int col = 0; col < t; col++) sum = sum + e[col];
      j->zo[(size_t)h * t + i] = sum;
      for (int col = 0; col < t; col += 16) _mm512_storeu_ps(p + col, _mm512_div_ps(_mm512_loadu_ps(e + col), _mm512_set1_ps(sum)));
      for (int d = 0; d < dh; d += 16) {
        __m512 acc = _mm512_setzero_ps();
        for (int col = 0; col < t; col++) acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(p[col]), _mm512_loadu_ps(j->v + base + (size_t)col * dh + d)));
        _mm512_storeu_ps(j->out + base + (size_t)i * dh + d, acc);
      }
    }
  }
  free(kT);
  return NULL;
}

// ops.referenceAttentionBackward for heads [head_start, head_end).
__attribute__((target("avx512f")))
static void *attention_backward_heads (void *arg) {
  const attention_job *j = arg;
  const int t = j->t, dh = j->dh;
  float *vT = malloc(sizeof(float) * t * dh);
  float *ds = malloc(sizeof(float) * t * t);
  for (int h = j->head_start; h < j->head_end; h++) {
    const size_t base = (size_t)h * t * dh;
    for (int r = 0; r < t; r++) for (int d = 0; d < dh; d++) vT[(size_t)d * t + r] = j->v[base + (size_t)r * dh + d];
    for (int i = 0; i < t; i++) {
      const float *gi = j->g + base + (size_t)i * dh;
      const size_t row = ((size_t)h * t + i) * t;
      const __m512 zi = _mm512_set1_ps(j->z[(size_t)h * t + i]);
      float *dsr = ds + (size_t)i * t;
      for (int col = 0; col < t; col += 16) {
        __m512 acc = _mm512_setzero_ps();
        for (int d = 0; d < dh; d++) acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(gi[d]), _mm512_loadu_ps(vT + (size_t)d * t + col)));
        _mm512_storeu_ps(dsr + col, _mm512_div_ps(acc, zi));
      }
      float gz = 0;
      for (int col = 0; col < t; col++) gz = gz + (-(dsr[col] * j->p[row + col]));
      const __m512 gzs = _mm512_set1_ps(gz);
      for (int col = 0; col < t; col += 16) {
        const __m512 a = _mm512_add_ps(_mm512_loadu_ps(dsr + col), gzs);
        _mm512_storeu_ps(dsr + col, _mm512_mul_ps(_mm512_mul_ps(a, _mm512_loadu_ps(j->e + row + col)), _mm512_set1_ps(j->scale)));
      }
    }
    for (int col = 0; col < t; col++) {
      for (int d = 0; d < dh; d += 16) {
        __m512 accV = _mm512_setzero_ps(), accK = _mm512_setzero_ps();
        for (int i = 0; i < t; i++) {
          accV = _mm512_add_ps(accV, _mm512_mul_ps(_mm512_set1_ps(j->p[((size_t)h * t + i) * t + col]), _mm512_loadu_ps(j->g + base + (size_t)i * dh + d)));
          accK = _mm512_add_ps(accK, _mm512_mul_ps(_mm512_set1_ps(ds[(size_t)i * t + col]), _mm512_loadu_ps(j->q + base + (size_t)i * dh + d)));
        }
        _mm512_storeu_ps(j->dv + base + (size_t)col * dh + d, accV);
        _mm512_storeu_ps(j->dk + base + (size_t)col * dh + d, accK);
      }
    }
    for (int i = 0; i < t; i++) {
      for (int d = 0; d < dh; d += 16) {
        __m512 acc = _mm512_setzero_ps();
        for (int col = 0; col < t; col++) acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(ds[(size_t)i * t + col]), _mm512_loadu_ps(j->k + base + (size_t)col * dh + d)));
        _mm512_storeu_ps(j->dq + base + (size_t)i * dh + d, acc);
      }
    }
  }
  free(vT);
  free(ds);
  return NULL;
}

static void run_heads (void *(*fn)(void *), attention_job *base, int heads, int threads) {
  attention_job jobs[16];
  pthread_t ids[16];
  if (threads > heads) threads = heads;
  for (int t = 0; t < threads; t++) {
    jobs[t] = *base;
    jobs[t].head_start = (int)((long)heads * t / threads);
    jobs[t].head_end = (int)((long)heads * (t + 1) / threads);
  }
  for (int t = 1; t < threads; t++) pthread_create(&ids[t], NULL, fn, &jobs[t]);
  fn(&jobs[0]);
  for (int t = 1; t < threads; t++) pthread_join(ids[t], NULL);
}

static float get_f64_as_f32 (napi_env env, napi_value value) {
  double v = 0;
  napi_get_value_double(env, value, &v);
  return (float)v;
}

// attention(q, k, v, mask, out, p, e, z, heads, t, dh, scale, threads) -> boolean
static napi_value attention (napi_env env, napi_callback_info info) {
  size_t argc = 13, n;
  napi_value argv[13], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const int t = get_i32(env, argv[9]), dh = get_i32(env, argv[10]);
  if (!has_avx512() || argc < 13 || t % 16 != 0 || dh % 16 != 0) { napi_get_boolean(env, 0, &result); return result; }
  float *ptr[8];
  for (int i = 0; i < 8; i++) if (!get_f32(env, argv[i], &ptr[i], &n)) { napi_throw_type_error(env, NULL, "attention expects Float32Arrays"); return NULL; }
  attention_job job = { .q = ptr[0], .k = ptr[1], .v = ptr[2], .mask = ptr[3], .out = ptr[4], .po = ptr[5], .eo = ptr[6], .zo = ptr[7], .t = t, .dh = dh, .scale = get_f64_as_f32(env, argv[11]) };
  run_heads(attention_forward_heads, &job, get_i32(env, argv[8]), get_i32(env, argv[12]) < 1 ? 1 : get_i32(env, argv[12]) > 16 ? 16 : get_i32(env, argv[12]));
  napi_get_boolean(env, 1, &result);
  return result;
}

// attentionBackward(g, q, k, v, p, e, z, dq, dk, dv, heads, t, dh, scale, threads) -> boolean
static napi_value attention_backward (napi_env env, napi_callback_info info) {
  size_t argc = 15, n;
  napi_value argv[15], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const int t = get_i32(env, argv[11]), dh = get_i32(env, argv[12]);
  if (!has_avx512() || argc < 15 || t % 16 != 0 || dh % 16 != 0) { napi_get_boolean(env, 0, &result); return result; }
  float *ptr[10];
  for (int i = 0; i < 10; i++) if (!get_f32(env, argv[i], &ptr[i], &n)) { napi_throw_type_error(env, NULL, "attentionBackward expects Float32Arrays"); return NULL; }
  attention_job job = { .g = ptr[0], .q = ptr[1], .k = ptr[2], .v = ptr[3], .p = ptr[4], .e = ptr[5], .z = ptr[6], .dq = ptr[7], .dk = ptr[8], .dv = ptr[9], .t = t, .dh = dh, .scale = get_f64_as_f32(env, argv[13]) };
  run_heads(attention_backward_heads, &job, get_i32(env, argv[10]), get_i32(env, argv[14]) < 1 ? 1 : get_i32(env, argv[14]) > 16 ? 16 : get_i32(env, argv[14]));
  napi_get_boolean(env, 1, &result);
  return result;
}

// ------------------------------------------------------------------ keccak

static const uint64_t RC[24] = {
  0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808AULL, 0x8000000080008000ULL,
  0x000000000000808BULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
  0x000000000000008AULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000AULL,
  0x000000008000808BULL, 0x800000000000008BULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
  0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800AULL, 0x800000008000000AULL,
  0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL
};
static const int ROT[25] = { 0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14 };

#define ROL64(x, n) (((x) << (n)) | ((x) >> ((64 - (n)) & 63)))

static void keccak_f (uint64_t s[25]) {
  uint64_t b[25], c[5], d[5];
  for (int round = 0; round < 24; round++) {
    for (int x = 0; x < 5; x++) c[x] = s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20];
    for (int x = 0; x < 5; x++) d[x] = c[(x + 4) % 5] ^ ROL64(c[(x + 1) % 5], 1);
    for (int x = 0; x < 5; x++) for (int y = 0; y < 5; y++) {
      const uint64_t v = s[x + 5 * y] ^ d[x];
      const int r = ROT[x + 5 * y];
      b[y + 5 * ((2 * x + 3 * y) % 5)] = r ? ROL64(v, r) : v;
    }
    for (int y = 0; y < 5; y++) for (int x = 0; x < 5; x++) s[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
    s[0] ^= RC[round];
  }
}

// Eight independent permutations at once: lane i of s[w] is word w of state i.
__attribute__((target("avx512f")))
static void keccak_f_x8 (__m512i s[25]) {
  __m512i b[25], c[5], d[5];
  for (int round = 0; round < 24; round++) {
    for (int x = 0; x < 5; x++) c[x] = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(s[x], s[x + 5], s[x + 10], 0x96), s[x + 15], s[x + 20], 0x96);
    for (int x = 0; x < 5; x++) d[x] = _mm512_xor_si512(c[(x + 4) % 5], _mm512_rol_epi64(c[(x + 1) % 5], 1));
#define RHO_PI(x, y, r) b[(y) + 5 * ((2 * (x) + 3 * (y)) % 5)] = _mm512_rol_epi64(_mm512_xor_si512(s[(x) + 5 * (y)], d[x]), r);
    RHO_PI(0, 0, 0) RHO_PI(1, 0, 1) RHO_PI(2, 0, 62) RHO_PI(3, 0, 28) RHO_PI(4, 0, 27)
    RHO_PI(0, 1, 36) RHO_PI(1, 1, 44) RHO_PI(2, 1, 6) RHO_PI(3, 1, 55) RHO_PI(4, 1, 20)
    RHO_PI(0, 2, 3) RHO_PI(1, 2, 10) RHO_PI(2, 2, 43) RHO_PI(3, 2, 25) RHO_PI(4, 2, 39)
    RHO_PI(0, 3, 41) RHO_PI(1, 3, 45) RHO_PI(2, 3, 15) RHO_PI(3, 3, 21) RHO_PI(4, 3, 8)
    RHO_PI(0, 4, 18) RHO_PI(1, 4, 2) RHO_PI(2, 4, 61) RHO_PI(3, 4, 56) RHO_PI(4, 4, 14)
#undef RHO_PI
    // chi: a ^ (~b & c) is ternary-logic function 0xD2
    for (int y = 0; y < 5; y++) for (int x = 0; x < 5; x++) s[x + 5 * y] = _mm512_ternarylogic_epi64(b[x + 5 * y], b[(x + 1) % 5 + 5 * y], b[(x + 2) % 5 + 5 * y], 0xD2);
    s[0] = _mm512_xor_si512(s[0], _mm512_set1_epi64((long long)RC[round]));
  }
}

// Hashes `count` messages of `len` bytes (<= 135) laid out every `stride` bytes at
// `in`, writing 32-byte digests to `out`. Messages are keccak256-padded.
static void hash_scalar (const uint8_t *in, size_t stride, size_t len, size_t count, uint8_t *out) {
  for (size_t m = 0; m < count; m++) {
    uint64_t s[25] = { 0 };
    uint8_t block[136] = { 0 };
    memcpy(block, in + m * stride, len);
    block[len] ^= 0x01;
    block[135] ^= 0x80;
    for (int w = 0; w < 17; w++) { uint64_t v; memcpy(&v, block + 8 * w, 8); s[w] ^= v; }
    keccak_f(s);
    memcpy(out + 32 * m, s, 32);
  }
}

__attribute__((target("avx512f")))
static void hash_x8 (const uint8_t *in, size_t stride, size_t len, size_t count, uint8_t *out) {
  size_t m = 0;
  for (; m + 8 <= count; m += 8) {
    uint64_t words[17][8];
    for (int lane = 0; lane < 8; lane++) {
      uint8_t block[136] = { 0 };
      memcpy(block, in + (m + lane) * stride, len);
      block[len] ^= 0x01;
      block[135] ^= 0x80;
      for (int w = 0; w < 17; w++) memcpy(&words[w][lane], block + 8 * w, 8);
    }
    __m512i s[25];
    for (int w = 0; w < 25; w++) s[w] = w < 17 ? _mm512_loadu_si512(words[w]) : _mm512_setzero_si512();
    keccak_f_x8(s);
    uint64_t digest[4][8];
    for (int w = 0; w < 4; w++) _mm512_storeu_si512(digest[w], s[w]);
    for (int lane = 0; lane < 8; lane++) for (int w = 0; w < 4; w++) memcpy(out + 32 * (m + lane) + 8 * w, &digest[w][lane], 8);
  }
  hash_scalar(in + m * stride, stride, len, count - m, out + 32 * m);
}

typedef struct {
  const uint8_t *in;
  size_t stride, len, count;
  uint8_t *out;
  int wide;
} hash_job;

static void *hash_run (void *arg) {
  const hash_job *j = arg;
  if (j->wide) hash_x8(j->in, j->stride, j->len, j->count, j->out);
  else hash_scalar(j->in, j->stride, j->len, j->count, j->out);
  return NULL;
}

// Hashes `count` messages on up to `threads` threads, each a contiguous share.
static void hash_many (const uint8_t *in, size_t stride, size_t len, size_t count, uint8_t *out, int threads) {
  const int wide = has_avx512();
  if (count < 4096) threads = 1;
  hash_job jobs[16];
  pthread_t ids[16];
  for (int t = 0; t < threads; t++) {
    const size_t start = count * t / threads, end = count * (t + 1) / threads;
    jobs[t] = (hash_job){ in + start * stride, stride, len, end - start, out + 32 * start, wide };
  }
  for (int t = 1; t < threads; t++) pthread_create(&ids[t], NULL, hash_run, &jobs[t]);
  hash_run(&jobs[0]);
  for (int t = 1; t < threads; t++) pthread_join(ids[t], NULL);
}

// tensorMerkleRoot(elements: Float32Array | Int32Array, empties: Uint8Array, threads) -> Uint8Array(32)
// The Merkle root of commit.ts: leaves keccak(0x00 ‖ 8 elements as big-endian 32-bit
// patterns, NaN as 0x7fc00000, zero-padded), nodes keccak(0x01 ‖ l ‖ r), odd levels
// padded from the chain of empty hashes.
static napi_value tensor_merkle_root (napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type type, etype;
  size_t n, ne;
  void *data, *emp;
  napi_value ab;
  size_t off;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &n, &data, &ab, &off));
  CHECK(napi_get_typedarray_info(env, argv[1], &etype, &ne, &emp, &ab, &off));
  if ((type != napi_float32_array && type != napi_int32_array) || etype != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "tensorMerkleRoot expects a Float32Array or Int32Array and the empty hashes");
    return NULL;
  }
  int threads = get_i32(env, argv[2]);
  if (threads < 1) threads = 1;
  if (threads > 16) threads = 16;
  const uint32_t *elements = data;
  const int is_f32 = type == napi_float32_array;
  const uint8_t *empties = emp;
  const size_t leaves = (n + 7) / 8;
  napi_value result_buffer, result;
  void *root;
  CHECK(napi_create_arraybuffer(env, 32, &root, &result_buffer));
  CHECK(napi_create_typedarray(env, napi_uint8_array, 32, result_buffer, 0, &result));
  if (leaves == 0) {
    memcpy(root, empties, 32);
    return result;
  }
  uint8_t *messages = calloc(leaves, 33);
  uint8_t *level = malloc((leaves + 1) * 32);
  for (size_t i = 0; i < n; i++) {
    uint32_t bits = elements[i];
    if (is_f32 && (bits & 0x7fffffffu) > 0x7f800000u) bits = 0x7fc00000u;
    uint8_t *at = messages + (i / 8) * 33 + 1 + (i % 8) * 4;
    at[0] = bits >> 24; at[1] = bits >> 16; at[2] = bits >> 8; at[3] = bits;
  }
  hash_many(messages, 33, 33, leaves, level, threads);
  free(messages);
  size_t count = leaves;
  int height = 0;
  uint8_t *pairs = malloc(((leaves + 1) / 2 + 1) * 65);
  while (count > 1) {
    if (count & 1) { memcpy(level + count * 32, empties + 32 * height, 32); count++; }
    const size_t half = count / 2;
    for (size_t p = 0; p < half; p++) {
      pairs[p * 65] = 1;
      memcpy(pairs + p * 65 + 1, level + p * 64, 64);
    }
    hash_many(pairs, 65, 65, half, level, threads);
    count = half;
    height++;
  }
  memcpy(root, level, 32);
  free(pairs);
  free(level);
  return result;
}

static napi_value init (napi_env env, napi_value exports) {
  napi_value fn, flag;
  napi_create_function(env, "matmul", NAPI_AUTO_LENGTH, matmul, NULL, &fn);
  napi_set_named_property(env, exports, "matmul", fn);
  napi_create_function(env, "attention", NAPI_AUTO_LENGTH, attention, NULL, &fn);
  napi_set_named_property(env, exports, "attention", fn);
  napi_create_function(env, "attentionBackward", NAPI_AUTO_LENGTH, attention_backward, NULL, &fn);
  napi_set_named_property(env, exports, "attentionBackward", fn);
  napi_create_function(env, "tensorMerkleRoot", NAPI_AUTO_LENGTH, tensor_merkle_root, NULL, &fn);
  napi_set_named_property(env, exports, "tensorMerkleRoot", fn);
  napi_get_boolean(env, has_avx512(), &flag);
  napi_set_named_property(env, exports, "avx512", flag);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
