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
    // 4 rows x 64 columns: 16 accumulators, 4 B vectors and a broadcast (21 of 32 registers).
    for (; col + 64 <= j->n; col += 64) {
      __m512 acc[4][4];
      for (int x = 0; x < rows; x++) acc[x][0] = acc[x][1] = acc[x][2] = acc[x][3] = _mm512_setzero_ps();
      for (int kk = 0; kk < j->k; kk++) {
        const float *brow = b + (size_t)kk * j->n + col;
        const __m512 b0 = _mm512_loadu_ps(brow), b1 = _mm512_loadu_ps(brow + 16), b2 = _mm512_loadu_ps(brow + 32), b3 = _mm512_loadu_ps(brow + 48);
        for (int x = 0; x < rows; x++) {
          const __m512 av = _mm512_set1_ps(a[(size_t)x * j->a_row + (size_t)kk * j->a_col]);
          acc[x][0] = _mm512_add_ps(acc[x][0], _mm512_mul_ps(av, b0));
          acc[x][1] = _mm512_add_ps(acc[x][1], _mm512_mul_ps(av, b1));
          acc[x][2] = _mm512_add_ps(acc[x][2], _mm512_mul_ps(av, b2));
          acc[x][3] = _mm512_add_ps(acc[x][3], _mm512_mul_ps(av, b3));
        }
      }
      for (int x = 0; x < rows; x++) for (int v = 0; v < 4; v++) _mm512_storeu_ps(c + (size_t)x * j->n + col + 16 * v, acc[x][v]);
    }
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

/** A thread-count argument, kept within 1..16. */
static int get_threads (napi_env env, napi_value value) {
  const int threads = get_i32(env, value);
  return threads < 1 ? 1 : threads > 16 ? 16 : threads;
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
  const int threads = get_threads(env, argv[11]);
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
  run_heads(attention_forward_heads, &job, get_i32(env, argv[8]), get_threads(env, argv[12]));
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
  run_heads(attention_backward_heads, &job, get_i32(env, argv[10]), get_threads(env, argv[14]));
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
// Rho and pi run in place along the pi cycle, so the state, five column parities
// and one temporary fit the 32 vector registers.
__attribute__((target("avx512f")))
static void keccak_f_x8 (__m512i s[25]) {
  __m512i a0 = s[0], a1 = s[1], a2 = s[2], a3 = s[3], a4 = s[4], a5 = s[5], a6 = s[6], a7 = s[7], a8 = s[8], a9 = s[9], a10 = s[10], a11 = s[11], a12 = s[12], a13 = s[13], a14 = s[14], a15 = s[15], a16 = s[16], a17 = s[17], a18 = s[18], a19 = s[19], a20 = s[20], a21 = s[21], a22 = s[22], a23 = s[23], a24 = s[24];
  for (int round = 0; round < 24; round++) {
    const __m512i c0 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a0, a5, a10, 0x96), a15, a20, 0x96);
    const __m512i c1 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a1, a6, a11, 0x96), a16, a21, 0x96);
    const __m512i c2 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a2, a7, a12, 0x96), a17, a22, 0x96);
    const __m512i c3 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a3, a8, a13, 0x96), a18, a23, 0x96);
    const __m512i c4 = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a4, a9, a14, 0x96), a19, a24, 0x96);
    const __m512i d0 = _mm512_xor_si512(c4, _mm512_rol_epi64(c1, 1));
    const __m512i d1 = _mm512_xor_si512(c0, _mm512_rol_epi64(c2, 1));
    const __m512i d2 = _mm512_xor_si512(c1, _mm512_rol_epi64(c3, 1));
    const __m512i d3 = _mm512_xor_si512(c2, _mm512_rol_epi64(c4, 1));
    const __m512i d4 = _mm512_xor_si512(c3, _mm512_rol_epi64(c0, 1));
    a0 = _mm512_xor_si512(a0, d0);
    a1 = _mm512_xor_si512(a1, d1);
    a2 = _mm512_xor_si512(a2, d2);
    a3 = _mm512_xor_si512(a3, d3);
    a4 = _mm512_xor_si512(a4, d4);
    a5 = _mm512_xor_si512(a5, d0);
    a6 = _mm512_xor_si512(a6, d1);
    a7 = _mm512_xor_si512(a7, d2);
    a8 = _mm512_xor_si512(a8, d3);
    a9 = _mm512_xor_si512(a9, d4);
    a10 = _mm512_xor_si512(a10, d0);
    a11 = _mm512_xor_si512(a11, d1);
    a12 = _mm512_xor_si512(a12, d2);
    a13 = _mm512_xor_si512(a13, d3);
    a14 = _mm512_xor_si512(a14, d4);
    a15 = _mm512_xor_si512(a15, d0);
    a16 = _mm512_xor_si512(a16, d1);
    a17 = _mm512_xor_si512(a17, d2);
    a18 = _mm512_xor_si512(a18, d3);
    a19 = _mm512_xor_si512(a19, d4);
    a20 = _mm512_xor_si512(a20, d0);
    a21 = _mm512_xor_si512(a21, d1);
    a22 = _mm512_xor_si512(a22, d2);
    a23 = _mm512_xor_si512(a23, d3);
    a24 = _mm512_xor_si512(a24, d4);
    __m512i t = a1, u;
    u = a10; a10 = _mm512_rol_epi64(t, 1); t = u;
    u = a7; a7 = _mm512_rol_epi64(t, 3); t = u;
    u = a11; a11 = _mm512_rol_epi64(t, 6); t = u;
    u = a17; a17 = _mm512_rol_epi64(t, 10); t = u;
    u = a18; a18 = _mm512_rol_epi64(t, 15); t = u;
    u = a3; a3 = _mm512_rol_epi64(t, 21); t = u;
    u = a5; a5 = _mm512_rol_epi64(t, 28); t = u;
    u = a16; a16 = _mm512_rol_epi64(t, 36); t = u;
    u = a8; a8 = _mm512_rol_epi64(t, 45); t = u;
    u = a21; a21 = _mm512_rol_epi64(t, 55); t = u;
    u = a24; a24 = _mm512_rol_epi64(t, 2); t = u;
    u = a4; a4 = _mm512_rol_epi64(t, 14); t = u;
    u = a15; a15 = _mm512_rol_epi64(t, 27); t = u;
    u = a23; a23 = _mm512_rol_epi64(t, 41); t = u;
    u = a19; a19 = _mm512_rol_epi64(t, 56); t = u;
    u = a13; a13 = _mm512_rol_epi64(t, 8); t = u;
    u = a12; a12 = _mm512_rol_epi64(t, 25); t = u;
    u = a2; a2 = _mm512_rol_epi64(t, 43); t = u;
    u = a20; a20 = _mm512_rol_epi64(t, 62); t = u;
    u = a14; a14 = _mm512_rol_epi64(t, 18); t = u;
    u = a22; a22 = _mm512_rol_epi64(t, 39); t = u;
    u = a9; a9 = _mm512_rol_epi64(t, 61); t = u;
    u = a6; a6 = _mm512_rol_epi64(t, 20); t = u;
    u = a1; a1 = _mm512_rol_epi64(t, 44); t = u;
    // chi, one row of five lanes: a ^ (~b & c) is ternary-logic function 0xD2
#define CHI_ROW(x0, x1, x2, x3, x4) { \
      const __m512i b0 = x0, b1 = x1, b2 = x2, b3 = x3, b4 = x4; \
      x0 = _mm512_ternarylogic_epi64(b0, b1, b2, 0xD2); x1 = _mm512_ternarylogic_epi64(b1, b2, b3, 0xD2); \
      x2 = _mm512_ternarylogic_epi64(b2, b3, b4, 0xD2); x3 = _mm512_ternarylogic_epi64(b3, b4, b0, 0xD2); \
      x4 = _mm512_ternarylogic_epi64(b4, b0, b1, 0xD2); }
    CHI_ROW(a0, a1, a2, a3, a4) CHI_ROW(a5, a6, a7, a8, a9) CHI_ROW(a10, a11, a12, a13, a14)
    CHI_ROW(a15, a16, a17, a18, a19) CHI_ROW(a20, a21, a22, a23, a24)
#undef CHI_ROW
    a0 = _mm512_xor_si512(a0, _mm512_set1_epi64((long long)RC[round]));
  }
  s[0] = a0; s[1] = a1; s[2] = a2; s[3] = a3; s[4] = a4; s[5] = a5; s[6] = a6; s[7] = a7; s[8] = a8; s[9] = a9; s[10] = a10; s[11] = a11; s[12] = a12; s[13] = a13; s[14] = a14; s[15] = a15; s[16] = a16; s[17] = a17; s[18] = a18; s[19] = a19; s[20] = a20; s[21] = a21; s[22] = a22; s[23] = a23; s[24] = a24;
}

// Merkle hashing without building messages: every message of the tree is a domain
// byte followed by a run of bytes already in memory (the big-endian elements for a
// leaf, two digests for a node). Word w of a message (little-endian) is then the 8
// bytes at run + 8w − 1, with the domain byte put in place of the byte before the run
// and the keccak padding 0x01 after it: read with gathers, eight messages at a time.
// Buffers carry 8 bytes of slack on both sides for those reads.

static void keccak_words_scalar (const uint8_t *run, size_t run_len, uint8_t domain, uint8_t *out) {
  uint8_t block[136] = { 0 };
  block[0] = domain;
  memcpy(block + 1, run, run_len);
  block[run_len + 1] ^= 0x01;
  block[135] ^= 0x80;
  uint64_t st[25] = { 0 };
  for (int w = 0; w < 17; w++) { uint64_t v; memcpy(&v, block + 8 * w, 8); st[w] = v; }
  keccak_f(st);
  memcpy(out, st, 32);
}

// Hashes `count` messages domain ‖ run, runs of `run_len` bytes (32 or 64) every
// `stride` bytes from `runs`; digests to `out`.
__attribute__((target("avx512f")))
static void hash_runs_x8 (const uint8_t *runs, size_t stride, size_t run_len, uint8_t domain, size_t count, uint8_t *out) {
  const int full = (int)(run_len / 8); // words 0..full-1 hold domain + run bytes; word `full` holds the last byte
  const long long st8 = (long long)stride;
  const __m512i lanes = _mm512_setr_epi64(0, st8, 2 * st8, 3 * st8, 4 * st8, 5 * st8, 6 * st8, 7 * st8);
  size_t m = 0;
  for (; m + 8 <= count; m += 8) {
    const uint8_t *base = runs + m * stride - 1;
    __m512i st[25];
    for (int w = 0; w < 25; w++) st[w] = _mm512_setzero_si512();
    for (int w = 0; w <= full; w++) st[w] = _mm512_i64gather_epi64(lanes, (const void *)(base + 8 * w), 1);
    st[0] = _mm512_or_si512(_mm512_andnot_si512(_mm512_set1_epi64(0xff), st[0]), _mm512_set1_epi64(domain));
    st[full] = _mm512_or_si512(_mm512_and_si512(st[full], _mm512_set1_epi64(0xff)), _mm512_set1_epi64(0x0100));
    st[16] = _mm512_xor_si512(st[16], _mm512_set1_epi64((long long)0x8000000000000000ULL));
    keccak_f_x8(st);
    uint64_t digest[4][8];
    for (int w = 0; w < 4; w++) _mm512_storeu_si512(digest[w], st[w]);
    for (int lane = 0; lane < 8; lane++) for (int w = 0; w < 4; w++) memcpy(out + 32 * (m + lane) + 8 * w, &digest[w][lane], 8);
  }
  for (; m < count; m++) keccak_words_scalar(runs + m * stride, run_len, domain, out + 32 * m);
}

static void hash_runs_scalar (const uint8_t *runs, size_t stride, size_t run_len, uint8_t domain, size_t count, uint8_t *out) {
  for (size_t m = 0; m < count; m++) keccak_words_scalar(runs + m * stride, run_len, domain, out + 32 * m);
}

typedef struct {
  const uint32_t *elements; // leaf jobs: elements to encode first
  int is_f32;
  size_t n;
  uint8_t *encoded; // big-endian bytes of the leaves this job hashes
  const uint8_t *runs;
  size_t stride, run_len, count, first;
  uint8_t domain;
  uint8_t *out;
  int wide;
} hash_job;

static void *hash_run (void *arg) {
  const hash_job *j = arg;
  if (j->elements != NULL) {
    // Encode this job's leaves: 8 elements each, big-endian, NaN canonical, zero-padded.
    uint32_t *words = (uint32_t *)j->encoded; // 32-bit aligned: leaves are 32 bytes from an aligned base
    const size_t from = j->first * 8, to = (j->first + j->count) * 8;
    for (size_t i = from; i < to; i++) {
      uint32_t bits = i < j->n ? j->elements[i] : 0;
      if (j->is_f32 && (bits & 0x7fffffffu) > 0x7f800000u) bits = 0x7fc00000u;
      words[i - from] = __builtin_bswap32(bits);
    }
  }
  if (j->wide) hash_runs_x8(j->runs, j->stride, j->run_len, j->domain, j->count, j->out);
  else hash_runs_scalar(j->runs, j->stride, j->run_len, j->domain, j->count, j->out);
  return NULL;
}

// Hashes `count` messages on up to `threads` threads, each a contiguous share.
// For leaves, `elements` is set and `runs` points at the encoding buffer.
static void hash_many (const uint32_t *elements, int is_f32, size_t n, uint8_t *runs, size_t stride, size_t run_len, uint8_t domain, size_t count, uint8_t *out, int threads) {
  const int wide = has_avx512();
  if (count < 4096) threads = 1;
  hash_job jobs[16];
  pthread_t ids[16];
  for (int t = 0; t < threads; t++) {
    const size_t start = count * t / threads, end = count * (t + 1) / threads;
    jobs[t] = (hash_job){ elements, is_f32, n, runs + start * stride, runs + start * stride, stride, run_len, end - start, start, domain, out + 32 * start, wide };
  }
  for (int t = 1; t < threads; t++) pthread_create(&ids[t], NULL, hash_run, &jobs[t]);
  hash_run(&jobs[0]);
  for (int t = 1; t < threads; t++) pthread_join(ids[t], NULL);
}

// The Merkle root of one tensor's elements into `root` (32 bytes), on `threads` threads.
static void merkle_root (const uint32_t *elements, int is_f32, size_t n, const uint8_t *empties, int threads, uint8_t *root) {
  const size_t leaves = (n + 7) / 8;
  if (leaves == 0) {
    memcpy(root, empties, 32);
    return;
  }
  // 8 bytes of slack before and after every buffer the gathers read.
  uint8_t *encoded = calloc(leaves * 32 + 16, 1);
  uint8_t *level = calloc((leaves + 1) * 32 + 16, 1);
  hash_many(elements, is_f32, n, encoded + 8, 32, 32, 0x00, leaves, level + 8, threads);
  free(encoded);
  size_t count = leaves;
  int height = 0;
  uint8_t *next = calloc(((leaves + 1) / 2 + 1) * 32 + 16, 1);
  while (count > 1) {
    if (count & 1) { memcpy(level + 8 + count * 32, empties + 32 * height, 32); count++; }
    const size_t half = count / 2;
    hash_many(NULL, 0, 0, level + 8, 64, 64, 0x01, half, next + 8, threads);
    uint8_t *swap = level; level = next; next = swap;
    count = half;
    height++;
  }
  memcpy(root, level + 8, 32);
  free(level);
  free(next);
}

typedef struct {
  const uint32_t **elements;
  const int *is_f32;
  const size_t *n;
  const int *mine;
  size_t count;
  int me;
  const uint8_t *empties;
  uint8_t *roots;
} roots_job;

static void *roots_run (void *arg) {
  const roots_job *j = arg;
  for (size_t i = 0; i < j->count; i++) if (j->mine[i] == j->me) merkle_root(j->elements[i], j->is_f32[i], j->n[i], j->empties, 1, j->roots + 32 * i);
  return NULL;
}

// tensorMerkleRoots(tensors: Array<Float32Array | Int32Array>, empties: Uint8Array, threads) -> Uint8Array(32 · count)
// The Merkle root of every tensor (see commit.ts): large tensors split across threads
// themselves; the others are shared out whole, balanced by size.
static napi_value tensor_merkle_roots (napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t count = 0;
  CHECK(napi_get_array_length(env, argv[0], &count));
  napi_typedarray_type type;
  size_t ne, off;
  void *emp;
  napi_value ab;
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &ne, &emp, &ab, &off));
  const int threads = get_threads(env, argv[2]);
  const uint32_t **elements = calloc(count + 1, sizeof(*elements));
  int *is_f32 = calloc(count + 1, sizeof(int));
  size_t *n = calloc(count + 1, sizeof(size_t));
  int *mine = calloc(count + 1, sizeof(int));
  size_t load[16] = { 0 };
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    void *data;
    CHECK(napi_get_element(env, argv[0], i, &item));
    CHECK(napi_get_typedarray_info(env, item, &type, &n[i], &data, &ab, &off));
    if (type != napi_float32_array && type != napi_int32_array) { napi_throw_type_error(env, NULL, "tensorMerkleRoots expects Float32Arrays or Int32Arrays"); return NULL; }
    elements[i] = data;
    is_f32[i] = type == napi_float32_array;
  }
  napi_value result_buffer, result;
  void *roots;
  CHECK(napi_create_arraybuffer(env, 32 * (size_t)count, &roots, &result_buffer));
  CHECK(napi_create_typedarray(env, napi_uint8_array, 32 * (size_t)count, result_buffer, 0, &result));
  // Tensors of a million elements or more use every thread; the rest go to the least loaded thread.
  for (uint32_t i = 0; i < count; i++) {
    if (n[i] >= (1u << 20)) { mine[i] = -1; continue; }
    int best = 0;
    for (int t = 1; t < threads; t++) if (load[t] < load[best]) best = t;
    mine[i] = best;
    load[best] += n[i];
  }
  for (uint32_t i = 0; i < count; i++) if (mine[i] == -1) merkle_root(elements[i], is_f32[i], n[i], emp, threads, (uint8_t *)roots + 32 * i);
  roots_job jobs[16];
  pthread_t ids[16];
  for (int t = 0; t < threads; t++) jobs[t] = (roots_job){ elements, is_f32, n, mine, count, t, emp, roots };
  for (int t = 1; t < threads; t++) pthread_create(&ids[t], NULL, roots_run, &jobs[t]);
  roots_run(&jobs[0]);
  for (int t = 1; t < threads; t++) pthread_join(ids[t], NULL);
  free(elements); free(is_f32); free(n); free(mine);
  return result;
}

// tensorMerkleRoot(elements, empties, threads) -> Uint8Array(32): one tensor.
static napi_value tensor_merkle_root (napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type type, etype;
  size_t n, ne, off;
  void *data, *emp;
  napi_value ab;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &n, &data, &ab, &off));
  CHECK(napi_get_typedarray_info(env, argv[1], &etype, &ne, &emp, &ab, &off));
  if ((type != napi_float32_array && type != napi_int32_array) || etype != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "tensorMerkleRoot expects a Float32Array or Int32Array and the empty hashes");
    return NULL;
  }
  const int threads = get_threads(env, argv[2]);
  napi_value result_buffer, result;
  void *root;
  CHECK(napi_create_arraybuffer(env, 32, &root, &result_buffer));
  CHECK(napi_create_typedarray(env, napi_uint8_array, 32, result_buffer, 0, &result));
  merkle_root(data, type == napi_float32_array, n, emp, threads, root);
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
  napi_create_function(env, "tensorMerkleRoots", NAPI_AUTO_LENGTH, tensor_merkle_roots, NULL, &fn);
  napi_set_named_property(env, exports, "tensorMerkleRoots", fn);
  napi_create_function(env, "tensorMerkleRoot", NAPI_AUTO_LENGTH, tensor_merkle_root, NULL, &fn);
  napi_set_named_property(env, exports, "tensorMerkleRoot", fn);
  napi_get_boolean(env, has_avx512(), &flag);
  napi_set_named_property(env, exports, "avx512", flag);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
