/* int8 kernels of the compiled model. They follow TFLite's int8 quantization spec: int32
 * accumulators, a fixed-point multiplier and shift per output channel with TFLite's double
 * rounding, so the outputs equal the TFLite reference kernels. The input offset of convolutions
 * and fully connected layers is folded into the bias at compile time (padding is filled with the
 * input zero point, which then contributes nothing), so the inner loops are plain dot products.
 * With the Cortex-M DSP extension the dot products use SMLAD on pairs of 16-bit values. */

#if defined(TMS_SIMD)
#include <arm_acle.h>
#endif

static inline int32_t tms_high_mul(int32_t a, int32_t b)
{
    int64_t ab;
    int32_t nudge;
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

static inline int32_t tms_div_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t tms_requant(int32_t x, int32_t multiplier, int shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    return tms_div_pot(tms_high_mul((int32_t)((uint32_t)x << left), multiplier), right);
}

/* TFLite's reference FULLY_CONNECTED rounds once: (x * m + 2^(30 - shift)) >> (31 - shift). */
static inline int32_t tms_requant_once(int32_t x, int32_t multiplier, int shift)
{
    const int total = 31 - shift;
    const int64_t r = (int64_t)x * multiplier + ((int64_t)1 << (total - 1));
    return (int32_t)(r >> total);
}

static inline int8_t tms_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

{% if "tms_conv" in kernels or "tms_fc" in kernels %}
#define TMS_SCALE(acc, r) \
    (once ? tms_requant_once((acc), mult[(r)], shift[(r)]) : tms_requant((acc), mult[(r)], shift[(r)]))

/* ---- dot products of an int16 patch with int8 weight rows (k4 a multiple of 4) ---- */

#if defined(TMS_SIMD)
static inline uint32_t tms_load32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Reorders each group of four to (x0, x2, x1, x3) so that it pairs with SXTB16(w) = (w0, w2)
 * and SXTB16(w ROR 8) = (w1, w3). */
static void tms_reorder16(int16_t *x, int k4)
{
    int i;
    for (i = 0; i < k4; i += 4) {
        const int16_t t = x[i + 1];
        x[i + 1] = x[i + 2];
        x[i + 2] = t;
    }
}

static void tms_rows(const int16_t *patch, const int8_t *w, int k4, int rows, const int32_t *bias,
                     const int32_t *mult, const int8_t *shift, int32_t out_zp, int32_t lo, int32_t hi,
                     int8_t *out, int once)
{
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
        const int8_t *wa = w + (size_t)r * k4;
        const int8_t *wb = wa + k4;
        const int16_t *x = patch;
        int32_t acc_a = bias[r], acc_b = bias[r + 1];
        int k;
        for (k = 0; k < k4; k += 4) {
            const uint32_t x02 = tms_load32(x);
            const uint32_t x13 = tms_load32(x + 2);
            const uint32_t a = tms_load32(wa + k);
            const uint32_t b = tms_load32(wb + k);
            acc_a = __smlad(__sxtb16(a), x02, acc_a);
            acc_a = __smlad(__sxtb16(__ror(a, 8)), x13, acc_a);
            acc_b = __smlad(__sxtb16(b), x02, acc_b);
            acc_b = __smlad(__sxtb16(__ror(b, 8)), x13, acc_b);
            x += 4;
        }
        out[r] = tms_clamp(TMS_SCALE(acc_a, r) + out_zp, lo, hi);
        out[r + 1] = tms_clamp(TMS_SCALE(acc_b, r + 1) + out_zp, lo, hi);
    }
    for (; r < rows; ++r) {
        const int8_t *wa = w + (size_t)r * k4;
        const int16_t *x = patch;
        int32_t acc = bias[r];
        int k;
        for (k = 0; k < k4; k += 4) {
            const uint32_t a = tms_load32(wa + k);
            acc = __smlad(__sxtb16(a), tms_load32(x), acc);
            acc = __smlad(__sxtb16(__ror(a, 8)), tms_load32(x + 2), acc);
            x += 4;
        }
        out[r] = tms_clamp(TMS_SCALE(acc, r) + out_zp, lo, hi);
    }
}
#else
static void tms_rows(const int16_t *patch, const int8_t *w, int k4, int rows, const int32_t *bias,
                     const int32_t *mult, const int8_t *shift, int32_t out_zp, int32_t lo, int32_t hi,
                     int8_t *out, int once)
{
    int r;
    for (r = 0; r < rows; ++r) {
        const int8_t *wr = w + (size_t)r * k4;
        int32_t acc = bias[r];
        int k;
        for (k = 0; k < k4; k += 4) {
            acc += patch[k] * wr[k] + patch[k + 1] * wr[k + 1] + patch[k + 2] * wr[k + 2] + patch[k + 3] * wr[k + 3];
        }
        out[r] = tms_clamp(TMS_SCALE(acc, r) + out_zp, lo, hi);
    }
}
#endif
{% endif %}

{% if "tms_conv" in kernels %}
/* ---- CONV_2D (NHWC input, OHWI weights with rows padded to k4) ---- */

typedef struct {
    int32_t ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, k4;
    int32_t pad_value, out_zp, act_min, act_max;
    const int8_t *weights;
    const int32_t *bias; /* the input offset is folded in */
    const int32_t *mult;
    const int8_t *shift;
} tms_conv_t;

static void tms_conv(const tms_conv_t *p, const int8_t *in, int8_t *out, int16_t *patch)
{
    int oy, ox, ky, kx, c;
    const int k = p->kh * p->kw * p->ic;
    int8_t pad = (int8_t)p->pad_value;
    for (c = k; c < p->k4; ++c) {
        patch[c] = 0;
    }
    for (oy = 0; oy < p->oh; ++oy) {
        for (ox = 0; ox < p->ow; ++ox) {
            int16_t *dst = patch;
            const int y0 = oy * p->sh - p->pt;
            const int x0 = ox * p->sw - p->pl;
            if ((p->dw == 1 || p->kw == 1) && x0 >= 0 && x0 + p->kw <= p->iw) {
                /* the kernel's columns are contiguous in the input: copy whole rows */
                for (ky = 0; ky < p->kh; ++ky) {
                    const int y = y0 + ky * p->dh;
                    const int n = p->kw * p->ic;
                    if (y < 0 || y >= p->ih) {
                        for (c = 0; c < n; ++c) {
                            dst[c] = pad;
                        }
                    } else {
                        const int8_t *src = in + ((size_t)y * p->iw + x0) * p->ic;
                        for (c = 0; c < n; ++c) {
                            dst[c] = src[c];
                        }
                    }
                    dst += n;
                }
            } else {
                for (ky = 0; ky < p->kh; ++ky) {
                    const int y = y0 + ky * p->dh;
                    for (kx = 0; kx < p->kw; ++kx) {
                        const int x = x0 + kx * p->dw;
                        if (y < 0 || y >= p->ih || x < 0 || x >= p->iw) {
                            for (c = 0; c < p->ic; ++c) {
                                dst[c] = pad;
                            }
                        } else {
                            const int8_t *src = in + ((size_t)y * p->iw + x) * p->ic;
                            for (c = 0; c < p->ic; ++c) {
                                dst[c] = src[c];
                            }
                        }
                        dst += p->ic;
                    }
                }
            }
#if defined(TMS_SIMD)
            tms_reorder16(patch, p->k4);
#endif
            tms_rows(patch, p->weights, p->k4, p->oc, p->bias, p->mult, p->shift, p->out_zp, p->act_min,
                     p->act_max, out, 0);
            out += p->oc;
        }
    }
}
{% endif %}

{% if "tms_dwconv" in kernels %}
/* ---- DEPTHWISE_CONV_2D (weights 1 x KH x KW x OC, OC = IC * depth multiplier) ---- */

typedef struct {
    int32_t ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, mult_depth;
    int32_t in_offset, out_zp, act_min, act_max;
    const int8_t *weights;
    const int32_t *bias;
    const int32_t *mult;
    const int8_t *shift;
} tms_dwconv_t;

static void tms_dwconv(const tms_dwconv_t *p, const int8_t *in, int8_t *out, int32_t *acc)
{
    int oy, ox, ky, kx, c, m;
    const int depth = p->mult_depth;
    for (oy = 0; oy < p->oh; ++oy) {
        const int y0 = oy * p->sh - p->pt;
        for (ox = 0; ox < p->ow; ++ox) {
            const int x0 = ox * p->sw - p->pl;
            for (c = 0; c < p->oc; ++c) {
                acc[c] = p->bias[c];
            }
            for (ky = 0; ky < p->kh; ++ky) {
                const int y = y0 + ky * p->dh;
                if (y < 0 || y >= p->ih) {
                    continue;
                }
                for (kx = 0; kx < p->kw; ++kx) {
                    const int x = x0 + kx * p->dw;
                    const int8_t *src;
                    const int8_t *w;
                    if (x < 0 || x >= p->iw) {
                        continue;
                    }
                    src = in + ((size_t)y * p->iw + x) * p->ic;
                    w = p->weights + ((size_t)ky * p->kw + kx) * p->oc;
                    if (depth == 1) {
                        for (c = 0; c < p->ic; ++c) {
                            acc[c] += (src[c] + p->in_offset) * w[c];
                        }
                    } else {
                        for (c = 0; c < p->ic; ++c) {
                            const int32_t v = src[c] + p->in_offset;
                            for (m = 0; m < depth; ++m) {
                                acc[c * depth + m] += v * w[c * depth + m];
                            }
                        }
                    }
                }
            }
            for (c = 0; c < p->oc; ++c) {
                out[c] = tms_clamp(tms_requant(acc[c], p->mult[c], p->shift[c]) + p->out_zp, p->act_min,
                                   p->act_max);
            }
            out += p->oc;
        }
    }
}
{% endif %}

{% if "tms_fc" in kernels %}
/* ---- FULLY_CONNECTED (weights OUT x IN, rows padded to k4) ---- */

typedef struct {
    int32_t batches, in, out, k4, out_zp, act_min, act_max;
    const int8_t *weights;
    const int32_t *bias; /* the input offset is folded in */
    const int32_t *mult;
    const int8_t *shift;
} tms_fc_t;

static void tms_fc(const tms_fc_t *p, const int8_t *in, int8_t *out, int16_t *patch)
{
    int b, k;
    for (b = 0; b < p->batches; ++b) {
        for (k = 0; k < p->in; ++k) {
            patch[k] = in[k];
        }
        for (; k < p->k4; ++k) {
            patch[k] = 0;
        }
#if defined(TMS_SIMD)
        tms_reorder16(patch, p->k4);
#endif
        tms_rows(patch, p->weights, p->k4, p->out, p->bias, p->mult, p->shift, p->out_zp, p->act_min, p->act_max,
                 out, 1);
        in += p->in;
        out += p->out;
    }
}
{% endif %}

{% if "tms_pool" in kernels %}
/* ---- AVERAGE_POOL_2D and MAX_POOL_2D (same quantization in and out) ---- */

typedef struct {
    int32_t ih, iw, c, oh, ow, fh, fw, sh, sw, pt, pl, act_min, act_max;
} tms_pool_t;

static void tms_pool(const tms_pool_t *p, const int8_t *in, int8_t *out, int is_max)
{
    int oy, ox, ch, y, x;
    for (oy = 0; oy < p->oh; ++oy) {
        const int y0 = oy * p->sh - p->pt;
        const int fy0 = y0 < 0 ? -y0 : 0;
        const int fy1 = p->fh < p->ih - y0 ? p->fh : p->ih - y0;
        for (ox = 0; ox < p->ow; ++ox) {
            const int x0 = ox * p->sw - p->pl;
            const int fx0 = x0 < 0 ? -x0 : 0;
            const int fx1 = p->fw < p->iw - x0 ? p->fw : p->iw - x0;
            const int count = (fy1 - fy0) * (fx1 - fx0);
            for (ch = 0; ch < p->c; ++ch) {
                int32_t acc = is_max ? -128 : 0;
                for (y = fy0; y < fy1; ++y) {
                    const int8_t *src = in + ((size_t)(y0 + y) * p->iw + x0) * p->c + ch;
                    for (x = fx0; x < fx1; ++x) {
                        const int32_t v = src[(size_t)x * p->c];
                        if (is_max) {
                            acc = v > acc ? v : acc;
                        } else {
                            acc += v;
                        }
                    }
                }
                if (!is_max && count > 0) {
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                }
                *out++ = tms_clamp(acc, p->act_min, p->act_max);
            }
        }
    }
}
{% endif %}

{% if "tms_add" in kernels %}
/* ---- ADD of two int8 tensors of one shape ---- */

typedef struct {
    int32_t size, in1_offset, in2_offset, in1_mult, in2_mult, out_mult, out_zp, act_min, act_max;
    int8_t in1_shift, in2_shift, out_shift, left_shift;
} tms_add_t;

static void tms_add(const tms_add_t *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    int i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)((uint32_t)(a[i] + p->in1_offset) << p->left_shift);
        const int32_t y = (int32_t)((uint32_t)(b[i] + p->in2_offset) << p->left_shift);
        const int32_t sx = tms_requant(x, p->in1_mult, p->in1_shift);
        const int32_t sy = tms_requant(y, p->in2_mult, p->in2_shift);
        out[i] = tms_clamp(tms_requant(sx + sy, p->out_mult, p->out_shift) + p->out_zp, p->act_min, p->act_max);
    }
}
{% endif %}

{% if "tms_requantize" in kernels %}
/* ---- QUANTIZE from int8 to int8 (a change of scale) ---- */

typedef struct {
    int32_t size, in_zp, mult, out_zp;
    int8_t shift;
} tms_requantize_t;

static void tms_requantize(const tms_requantize_t *p, const int8_t *in, int8_t *out)
{
    int i;
    for (i = 0; i < p->size; ++i) {
        out[i] = tms_clamp(tms_requant(in[i] - p->in_zp, p->mult, p->shift) + p->out_zp, -128, 127);
    }
}
{% endif %}

{% if "tms_mean" in kernels %}
/* ---- MEAN over the spatial axes of an NHWC tensor ---- */

typedef struct {
    int32_t hw, c, in_zp, mult, out_zp;
    int8_t shift;
} tms_mean_t;

static void tms_mean(const tms_mean_t *p, const int8_t *in, int8_t *out, int32_t *acc)
{
    int i, ch;
    for (ch = 0; ch < p->c; ++ch) {
        acc[ch] = 0;
    }
    for (i = 0; i < p->hw; ++i) {
        for (ch = 0; ch < p->c; ++ch) {
            acc[ch] += in[(size_t)i * p->c + ch];
        }
    }
    for (ch = 0; ch < p->c; ++ch) {
        const int32_t centred = acc[ch] - p->in_zp * p->hw;
        out[ch] = tms_clamp(tms_requant(centred, p->mult, p->shift) + p->out_zp, -128, 127);
    }
}
{% endif %}

{% if "tms_softmax" in kernels %}
/* ---- SOFTMAX over the last axis. TFLite's int8 kernel looks up exp() in a 256-entry float
 * table (computed at compile time) and rounds the rescaled probability; this does the same
 * float operations in the same order, so the result is identical. ---- */

typedef struct {
    int32_t rows, depth, out_zp;
    float out_scale;
    const float *table; /* table[255 - d] = exp(-input_scale * beta * d) */
} tms_softmax_t;

static void tms_softmax(const tms_softmax_t *p, const int8_t *in, int8_t *out)
{
    int r, j;
    for (r = 0; r < p->rows; ++r) {
        int32_t max = -128;
        float sum = 0.0f;
        float inv;
        const float *t;
        for (j = 0; j < p->depth; ++j) {
            max = in[j] > max ? in[j] : max;
        }
        t = p->table + 255 - max;
        for (j = 0; j < p->depth; ++j) {
            sum += t[in[j]];
        }
        inv = 1.0f / (sum * p->out_scale);
        for (j = 0; j < p->depth; ++j) {
            const float prob = t[in[j]] * inv;
            out[j] = tms_clamp((int32_t)roundf(prob) + p->out_zp, -128, 127);
        }
        in += p->depth;
        out += p->depth;
    }
}
{% endif %}

